import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { limitParam, readMetadata, unixParam } from './params.js';
import { parseCompletionWindow } from './routes/batches.js';

describe('shared request parameters', () => {
  test('reads limit within its range and refuses anything else naming limit', () => {
    assert.equal(limitParam({}, 20, 100), 20);
    assert.equal(limitParam({ limit: '7' }, 20, 100), 7);
    for (const bad of ['0', '101', '2.5', 'x']) assert.throws(() => limitParam({ limit: bad }, 20, 100), { param: 'limit', code: 'invalid_value' });
  });

  test('reads unix seconds and refuses negatives and words', () => {
    assert.equal(unixParam({ since: '1700000000' }, 'since'), 1_700_000_000);
    assert.equal(unixParam({}, 'since'), undefined);
    assert.throws(() => unixParam({ until: '-1' }, 'until'), { param: 'until' });
    assert.throws(() => unixParam({ until: 'yesterday' }, 'until'), { param: 'until' });
  });

  test("keeps OpenAI's metadata rules: 16 pairs, 64-character keys, 512-character string values", () => {
    assert.deepEqual(readMetadata({ a: 'b' }), { a: 'b' });
    assert.equal(readMetadata(undefined), undefined);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    assert.throws(() => readMetadata(many), { code: 'object_above_max_properties' });
    assert.throws(() => readMetadata({ ['k'.repeat(65)]: 'v' }), { code: 'invalid_value' });
    assert.throws(() => readMetadata({ k: 3 }), { param: 'metadata.k', code: 'invalid_type' });
    assert.throws(() => readMetadata({ k: 'v'.repeat(513) }), { code: 'string_above_max_length' });
  });

  test("parses a batch's completion window: 24h as at OpenAI, and <n>s|m|h|d up to 30 days", () => {
    assert.equal(parseCompletionWindow('24h'), 86_400);
    assert.equal(parseCompletionWindow('30m'), 1800);
    assert.equal(parseCompletionWindow('3d'), 259_200);
    assert.equal(parseCompletionWindow('30d'), 2_592_000);
    for (const bad of ['31d', '0s', '24', 'h', '1.5h', ' 24h']) assert.equal(parseCompletionWindow(bad), undefined, bad);
  });
});
