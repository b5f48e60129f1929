import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blocksAt, combineLayers, decide, decisionEvents, moderationEvents, moderationOutcome } from './policy.js';
import { alwaysOn, assessment, classifierLayer, ranLayer } from './test-support.js';
import { MODERATION_CATEGORIES } from './types.js';

const high = { severity: 'high' as const, score: 0.97 };
const medium = { severity: 'medium' as const, score: 0.8 };
const low = { severity: 'low' as const, score: 0.6 };

describe('policy', () => {
  it('blocks at the configured severity and above, never on safe, never with off', () => {
    assert.equal(blocksAt('high', 'high'), true);
    assert.equal(blocksAt('medium', 'high'), false);
    assert.equal(blocksAt('medium', 'medium'), true);
    assert.equal(blocksAt('low', 'low'), true);
    assert.equal(blocksAt('safe', 'low'), false);
    assert.equal(blocksAt('high', 'off'), false);
  });

  it('allows a clean text, annotates findings below the block level, blocks at it', () => {
    const clean = assessment(...alwaysOn(), classifierLayer({}));
    assert.equal(decide('prompt', ['hi'], [clean], { profanity: 'annotate', block: 'high' }).action, 'allow');
    const someHate = assessment(...alwaysOn(), classifierLayer({ hate: medium }));
    const annotated = decide('prompt', ['x'], [someHate], { profanity: 'annotate', block: 'high' });
    assert.equal(annotated.action, 'annotate');
    assert.deepEqual(annotated.blockedBy, []);
    const blocked = decide('prompt', ['x'], [someHate], { profanity: 'annotate', block: 'medium' });
    assert.equal(blocked.action, 'block');
    assert.deepEqual(blocked.blockedBy, ['hate']);
    assert.equal(blocked.filtered.hate, true);
    assert.equal(blocked.filtered.sexual, false);
  });

  it('takes the worst finding across layers and records which layers checked each category', () => {
    const a = combineLayers([...alwaysOn(), classifierLayer({ sexual: low }), ranLayer('judge', { sexual: high, hate: { severity: 'safe', score: 0 } })]);
    assert.equal(a.harms.sexual?.severity, 'high');
    assert.deepEqual(a.harms.sexual?.checkedBy, ['classifier', 'judge']);
    assert.deepEqual(a.harms.selfHarm?.checkedBy, ['selfHarmPhrases']);
  });

  it('ignores layers that did not run: their categories stay unchecked', () => {
    const a = combineLayers([...alwaysOn(), { layer: 'classifier', status: 'failed', detail: 'missing', ms: 0, harms: { hate: high }, moderation: {} }]);
    assert.equal(a.harms.hate, undefined);
    assert.equal(a.layers.find((l) => l.layer === 'classifier')?.status, 'failed');
  });

  it('never blocks on profanity: annotate reports it, filter masks it', () => {
    const text = 'well shit';
    const words = alwaysOn([{ start: 5, end: 9, term: 'shit' }]);
    const annotate = decide('reply', [text], [assessment(...words)], { profanity: 'annotate', block: 'low' });
    assert.equal(annotate.action, 'annotate');
    assert.equal(annotate.redacted, undefined);
    assert.equal(annotate.filtered.profanity, false);
    const filter = decide('reply', [text], [assessment(...words)], { profanity: 'filter', block: 'low' });
    assert.equal(filter.action, 'annotate');
    assert.deepEqual(filter.redacted, ['well ****']);
    assert.equal(filter.filtered.profanity, true);
  });

  it('blocks a detected jailbreak on the prompt side only, unless blocking is off', () => {
    const a = assessment(...alwaysOn(), ranLayer('judge', {}, { jailbreak: true }));
    assert.deepEqual(decide('prompt', ['x'], [a], { profanity: 'annotate', block: 'high' }).blockedBy, ['jailbreak']);
    assert.equal(decide('prompt', ['x'], [a], { profanity: 'annotate', block: 'off' }).action, 'annotate');
    const reply = decide('reply', ['x'], [a], { profanity: 'annotate', block: 'high' });
    assert.equal(reply.action, 'allow');
    assert.equal(reply.assessment.jailbreak, undefined);
  });

  it('combines a prompt of several texts: the worst finding anywhere, partial where a text went unchecked', () => {
    const first = assessment(...alwaysOn(), classifierLayer({}));
    const second = assessment(...alwaysOn([{ start: 0, end: 4, term: 'fuck' }]), classifierLayer({ violence: high }));
    const third = assessment(...alwaysOn());
    const d = decide('prompt', ['a', 'fuck', 'c'], [first, second, third], { profanity: 'filter', block: 'high' });
    assert.equal(d.action, 'block', 'a finding in one text blocks the prompt');
    assert.deepEqual(d.blockedBy, ['violence']);
    assert.equal(d.assessment.harms.violence?.partial, true, 'the third text was not classified');
    assert.equal(d.assessment.harms.selfHarm?.partial, undefined);
    assert.equal(d.texts.length, 3);
    assert.deepEqual(d.redacted, ['a', '****', 'c']);
    const all = decide('prompt', ['a', 'b'], [first, second], { profanity: 'annotate', block: 'high' });
    assert.equal(all.assessment.harms.violence?.partial, undefined);
  });

  it('emits one metrics event per checked category with what was done', () => {
    const a = assessment(...alwaysOn([{ start: 0, end: 4, term: 'shit' }]), classifierLayer({ sexual: high, hate: low }));
    const events = decisionEvents(decide('reply', ['shit'], [a], { profanity: 'filter', block: 'high' }));
    assert.deepEqual(events, [
      { side: 'reply', category: 'hate', severity: 'low', action: 'annotate' },
      { side: 'reply', category: 'sexual', severity: 'high', action: 'block' },
      { side: 'reply', category: 'violence', severity: 'safe', action: 'allow' },
      { side: 'reply', category: 'selfHarm', severity: 'safe', action: 'allow' },
      { side: 'reply', category: 'profanity', severity: 'detected', action: 'filter' },
    ]);
  });

  it('flags a moderation category from score 0.5, only when a layer checked it', () => {
    const a = assessment(...alwaysOn(), ranLayer('classifier', {}, { moderation: { harassment: 0.5, hate: 0.49 } }));
    const o = moderationOutcome(a);
    assert.equal(o.categories.harassment, true);
    assert.equal(o.categories.hate, false);
    assert.equal(o.flagged, true);
    assert.deepEqual(o.checked, ['harassment', 'hate', 'self-harm', 'self-harm/intent', 'self-harm/instructions']);
    assert.equal(Object.keys(o.scores).length, MODERATION_CATEGORIES.length);
    assert.equal(o.scores.illicit, 0);
    assert.deepEqual(moderationEvents(o)[0], { side: 'moderation', category: 'harassment', severity: 'flagged', action: 'flag' });
  });
});
