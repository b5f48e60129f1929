import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { hashApiKey } from '../store/context.js';
import { openTempStore, testClock } from '../store/test-support.js';
import { KeyRegistry } from './registry.js';

function usageRow(requestId: string, owner: string, createdAt: number, audioOut = 100) {
  return {
    requestId,
    owner,
    endpoint: '/v1/chat/completions',
    model: 'gpt-4o-mini-audio-preview',
    promptTextTokens: 40,
    promptAudioTokens: 30,
    completionTextTokens: 10,
    completionAudioTokens: audioOut,
    cachedTokens: 5,
    audioInSec: 3,
    audioOutSec: 5,
    createdAt,
  };
}

test('a budget is the ledger cost of the key in its current period, kept up to date from new rows only', async () => {
  const clock = testClock();
  const { store, cleanup } = openTempStore({ now: clock.now });
  try {
    const keys = new KeyRegistry({ store, now: clock.now });
    const { record } = await keys.create({ maxBudgetUsd: 1, budgetDurationSec: 3600 });
    const other = hashApiKey('sk-someone-else');
    const t0 = keys.nowSec();
    assert.equal(keys.budget(record).spendUsd, 0);
    for (let i = 0; i < 5; i++) {
      store.usage.record(usageRow(`a-${i}`, record.hash, t0 + i));
      store.usage.record(usageRow(`o-${i}`, other, t0 + i));
      const full = store.usage.summary({ since: t0, owner: record.hash }).openaiCostUsd.total;
      assert.equal(keys.budget(record).spendUsd, full);
    }
    // The same total read by another registry (another process) from scratch.
    assert.equal(new KeyRegistry({ store, now: clock.now }).budget(record).spendUsd, keys.budget(record).spendUsd);
    // The next period starts empty and counts only its own rows.
    clock.advance(3600);
    const next = keys.budget(record);
    assert.equal(next.spendUsd, 0);
    assert.equal(next.periodStart, t0 + 3600);
    assert.equal(next.resetAt, t0 + 7200);
    store.usage.record(usageRow('a-next', record.hash, t0 + 3601, 7));
    assert.equal(keys.budget(record).spendUsd, store.usage.summary({ since: t0 + 3600, owner: record.hash }).openaiCostUsd.total);
  } finally {
    cleanup();
  }
});

test('a key is active until it expires or is revoked; its id is key_ and 16 hex of its sha256; only its hash is stored', async () => {
  const clock = testClock();
  const { store, dir, cleanup } = openTempStore({ now: clock.now });
  try {
    const keys = new KeyRegistry({ store, now: clock.now });
    const { key, record } = await keys.create({ alias: 'a', durationSec: 60 });
    assert.equal(record.id, `key_${hashApiKey(key).slice(0, 16)}`);
    assert.equal((await keys.lookup(hashApiKey(key)))?.id, record.id);
    // Only the hash is written: the key is nowhere in the database or its WAL.
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of fs.readdirSync(dir)) {
      if (file.startsWith('parley.db')) assert.ok(!fs.readFileSync(path.join(dir, file)).includes(key), file);
    }
    assert.equal(keys.status(record), 'active');
    clock.advance(60);
    assert.equal(keys.status(record), 'expired');
    const revoked = await keys.revoke('a');
    assert.equal(keys.status(revoked), 'revoked');
    assert.equal(keys.list().length, 0);
    assert.equal(keys.list({ includeRevoked: true }).length, 1);
    // The alias is free again once its key is revoked.
    await keys.create({ alias: 'a' });
    assert.throws(() => keys.get('nope'), /No API key/);
  } finally {
    cleanup();
  }
});
