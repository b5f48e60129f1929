import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hashApiKey } from './context.js';
import type { Store } from './db.js';
import { openTempStore } from './test-support.js';
import { apiKeyIdOf, NO_USAGE, OPENAI_PRICES_USD_PER_1M, openaiCost, type UsageEntry } from './usage.js';

const alice = hashApiKey('sk-alice');
const bob = hashApiKey('sk-bob');

function usage(over: Partial<UsageEntry> = {}): UsageEntry {
  return {
    requestId: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    owner: alice,
    endpoint: '/v1/chat/completions',
    model: 'gpt-4o-mini-audio-preview',
    ...NO_USAGE,
    createdAt: 1_000,
    ...over,
  };
}

describe('usage ledger', () => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(() => ({ store, cleanup } = openTempStore()));
  afterEach(() => cleanup());

  it('prices exactly one million tokens of each kind at the list price', () => {
    const m = 1_000_000;
    const cost = openaiCost({ promptTextTokens: m, promptAudioTokens: m, completionTextTokens: m, completionAudioTokens: m, cachedTokens: 0 });
    assert.deepEqual(cost, { textIn: 0.15, cachedTextIn: 0, textOut: 0.6, audioIn: 10, audioOut: 20, total: 30.75 });
  });

  it('charges cached prompt tokens at the cached rate instead of the text rate', () => {
    const cost = openaiCost({ promptTextTokens: 1_000_000, promptAudioTokens: 0, completionTextTokens: 0, completionAudioTokens: 0, cachedTokens: 400_000 });
    assert.equal(cost.textIn, 0.09); // 600k uncached × 0.15
    assert.equal(cost.cachedTextIn, 0.03); // 400k × 0.075
    assert.equal(cost.total, 0.12);
  });

  it('costs a minute of audio in and out at about $0.006 and $0.024', () => {
    // 60 s in = 600 tokens, 60 s out = 1200 tokens (contract/08).
    const cost = openaiCost({ promptTextTokens: 0, promptAudioTokens: 600, completionTextTokens: 0, completionAudioTokens: 1200, cachedTokens: 0 });
    assert.equal(cost.audioIn, 0.006);
    assert.equal(cost.audioOut, 0.024);
  });

  it('keeps the price table in one constant matching the contract', () => {
    assert.deepEqual({ ...OPENAI_PRICES_USD_PER_1M }, { textIn: 0.15, cachedTextIn: 0.075, textOut: 0.6, audioIn: 10, audioOut: 20 });
  });

  it('sums every field and prices the totals', () => {
    store.usage.record(usage({ promptTextTokens: 179, completionTextTokens: 60, completionAudioTokens: 364, audioOutSec: 18.2 }));
    store.usage.record(
      usage({
        promptTextTokens: 20,
        promptAudioTokens: 50,
        cachedTokens: 10,
        completionTextTokens: 17,
        completionAudioTokens: 37,
        audioInSec: 5,
        audioOutSec: 1.85,
      }),
    );
    const s = store.usage.summary();
    assert.equal(s.requests, 2);
    assert.equal(s.promptTextTokens, 199);
    assert.equal(s.promptAudioTokens, 50);
    assert.equal(s.completionTextTokens, 77);
    assert.equal(s.completionAudioTokens, 401);
    assert.equal(s.cachedTokens, 10);
    assert.equal(s.promptTokens, 249);
    assert.equal(s.completionTokens, 478);
    assert.equal(s.totalTokens, 727);
    assert.ok(Math.abs(s.audioInSec - 5) < 1e-9);
    assert.ok(Math.abs(s.audioOutSec - 20.05) < 1e-9);
    const expected = (189 * 0.15 + 10 * 0.075 + 77 * 0.6 + 50 * 10 + 401 * 20) / 1e6;
    assert.ok(Math.abs(s.openaiCostUsd.total - expected) < 1e-9, `${s.openaiCostUsd.total} vs ${expected}`);
    const parts = s.openaiCostUsd;
    assert.ok(Math.abs(parts.textIn + parts.cachedTextIn + parts.textOut + parts.audioIn + parts.audioOut - parts.total) < 1e-9);
  });

  it('returns zeros for an empty ledger', () => {
    const s = store.usage.summary();
    assert.equal(s.requests, 0);
    assert.equal(s.totalTokens, 0);
    assert.equal(s.openaiCostUsd.total, 0);
  });

  it('counts a request id once even when recorded twice', () => {
    const u = usage({ requestId: 'req_same', promptTextTokens: 5 });
    assert.equal(store.usage.record(u), true);
    assert.equal(store.usage.record({ ...u, promptTextTokens: 500 }), false);
    const s = store.usage.summary();
    assert.equal(s.requests, 1);
    assert.equal(s.promptTextTokens, 5);
  });

  it('filters by time window, inclusive since and exclusive until', () => {
    store.usage.record(usage({ createdAt: 100, promptTextTokens: 1 }));
    store.usage.record(usage({ createdAt: 200, promptTextTokens: 10 }));
    store.usage.record(usage({ createdAt: 300, promptTextTokens: 100 }));
    assert.equal(store.usage.summary({ since: 200 }).promptTextTokens, 110);
    assert.equal(store.usage.summary({ until: 200 }).promptTextTokens, 1);
    assert.equal(store.usage.summary({ since: 200, until: 300 }).promptTextTokens, 10);
  });

  it('filters by API key hash', () => {
    store.usage.record(usage({ owner: alice, promptTextTokens: 1 }));
    store.usage.record(usage({ owner: bob, promptTextTokens: 10 }));
    store.usage.record(usage({ owner: null, promptTextTokens: 100 }));
    assert.equal(store.usage.summary({ owner: alice }).promptTextTokens, 1);
    assert.equal(store.usage.summary({ owner: bob }).promptTextTokens, 10);
    assert.equal(store.usage.summary().promptTextTokens, 111);
  });

  it('refuses a raw API key where a hash belongs', () => {
    assert.throws(() => store.usage.record(usage({ owner: 'sk-alice' })), /sha256/);
    assert.equal(store.usage.summary().requests, 0);
  });

  it('refuses negative or fractional token counts', () => {
    assert.throws(() => store.usage.record(usage({ promptTextTokens: -1 })), RangeError);
    assert.throws(() => store.usage.record(usage({ completionAudioTokens: 1.5 })), RangeError);
    assert.throws(() => store.usage.record(usage({ audioInSec: Number.NaN })), RangeError);
  });

  it('prices cached tokens beyond the prompt text per row, never below zero', () => {
    store.usage.record(usage({ promptTextTokens: 100, cachedTokens: 500 }));
    store.usage.record(usage({ promptTextTokens: 1000, cachedTokens: 0 }));
    const c = store.usage.summary().openaiCostUsd;
    assert.ok(Math.abs(c.cachedTextIn - (100 * 0.075) / 1e6) < 1e-12);
    assert.ok(Math.abs(c.textIn - (1000 * 0.15) / 1e6) < 1e-12);
  });

  it('prices moderations at 0 and engine core-seconds at the given $/core-hour', () => {
    store.usage.record(usage({ endpoint: '/v1/moderations', model: 'omni-moderation-latest', promptTextTokens: 1000, engineSec: 1800 }));
    store.usage.record(
      usage({ endpoint: '/v1/audio/speech', model: 'tts-1', promptTextTokens: 10, completionAudioTokens: 40, characters: 38, audioOutSec: 2, engineSec: 1800 }),
    );
    const s = store.usage.summary({ coreHourUsd: 0.05 });
    assert.equal(s.openaiCostUsd.total, (10 * 0.15 + 40 * 20) / 1e6, 'only the speech is priced');
    assert.equal(s.parleyCostUsd, 0.05, 'an hour of core-seconds at $0.05');
    assert.deepEqual([s.characters, s.engineSec], [38, 3600]);
  });

  it('sums buckets from the start, grouped by key, model, kind and batch, with filters', () => {
    store.usage.record(usage({ createdAt: 1000, owner: alice, promptTextTokens: 1 }));
    store.usage.record(usage({ createdAt: 1059, owner: bob, promptTextTokens: 10, batch: true }));
    store.usage.record(usage({ createdAt: 1060, owner: alice, endpoint: '/v1/audio/transcriptions', model: 'whisper-1', audioInSec: 3.5 }));
    store.usage.record(usage({ createdAt: 1200, owner: alice, promptTextTokens: 100 }));
    const all = store.usage.buckets({ start: 1000, end: 1200, widthSec: 60 });
    assert.deepEqual(
      all.map((g) => [g.start, g.totals.requests]),
      [
        [1000, 2],
        [1060, 1],
      ],
      'the row at 1200 is past the exclusive end',
    );
    const byKey = store.usage.buckets({ start: 1000, end: 1060, widthSec: 60, groupBy: { owner: true, batch: true } });
    assert.deepEqual(
      byKey.map((g) => [g.owner, g.batch, g.totals.promptTextTokens]).sort(),
      [
        [alice, false, 1],
        [bob, true, 10],
      ].sort(),
    );
    const heard = store.usage.buckets({ start: 0, end: 2000, widthSec: 2000, kinds: ['audio_transcriptions'], groupBy: { kind: true, model: true } });
    assert.deepEqual(
      heard.map((g) => [g.kind, g.model, g.totals.audioInSec]),
      [['audio_transcriptions', 'whisper-1', 3.5]],
    );
    const bobOnly = store.usage.buckets({ start: 0, end: 2000, widthSec: 2000, apiKeyIds: [apiKeyIdOf(bob)!] });
    assert.equal(bobOnly[0]!.totals.requests, 1);
    assert.equal(store.usage.buckets({ start: 0, end: 2000, widthSec: 2000, batch: false })[0]!.totals.requests, 3);
    assert.equal(store.usage.buckets({ start: 0, end: 2000, widthSec: 2000, owners: [null] }).length, 0);
  });

  it('names a key by `key_` and the first 16 hex digits of its hash', () => {
    assert.equal(apiKeyIdOf(alice), `key_${alice.slice(0, 16)}`);
    assert.equal(apiKeyIdOf(null), null);
  });
});
