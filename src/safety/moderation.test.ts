import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertMatchesSchema } from '../../test/helpers/openapi.js';
import { newModerationId, renderModerationResponse } from './moderation.js';
import { moderationOutcome } from './policy.js';
import { alwaysOn, assessment, classifierLayer, ranLayer } from './test-support.js';
import { MODERATION_CATEGORIES } from './types.js';

describe('moderation response', () => {
  it("matches OpenAI's CreateModerationResponse schema with all 13 categories", () => {
    const flagged = moderationOutcome(assessment(...alwaysOn(), classifierLayer({ violence: { severity: 'high', score: 0.97 } })));
    const clean = moderationOutcome(assessment(...alwaysOn()));
    const body = renderModerationResponse({ model: 'omni-moderation-latest', outcomes: [flagged, clean] });
    assertMatchesSchema('CreateModerationResponse', body);
    assert.match(body.id, /^modr-[A-Za-z0-9]{24}$/);
    assert.equal(body.results.length, 2);
    for (const r of body.results) {
      assert.deepEqual(Object.keys(r.categories), [...MODERATION_CATEGORIES]);
      assert.deepEqual(Object.keys(r.category_scores), [...MODERATION_CATEGORIES]);
      assert.deepEqual(Object.keys(r.category_applied_input_types), [...MODERATION_CATEGORIES]);
    }
    assert.equal(body.results[0]!.flagged, true);
    assert.equal(body.results[0]!.categories.violence, true);
    assert.equal(body.results[1]!.flagged, false);
  });

  it('applies checked categories to text and leaves unchecked ones applied to nothing', () => {
    const judged = moderationOutcome(assessment(...alwaysOn(), ranLayer('judge', {}, { moderation: { illicit: 1 } })));
    const r = renderModerationResponse({ id: 'modr-x', model: 'text-moderation-latest', outcomes: [judged] });
    assert.equal(r.id, 'modr-x');
    assert.equal(r.model, 'text-moderation-latest');
    const result = r.results[0]!;
    assert.deepEqual(result.category_applied_input_types.illicit, ['text']);
    assert.deepEqual(result.category_applied_input_types['self-harm/intent'], ['text']);
    assert.deepEqual(result.category_applied_input_types['violence/graphic'], []);
    assert.equal(result.categories.illicit, true);
    assert.equal(result.category_scores['violence/graphic'], 0);
  });

  it('makes distinct ids', () => {
    assert.notEqual(newModerationId(), newModerationId());
  });
});
