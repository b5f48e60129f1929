import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { hashApiKey } from '../store/context.js';
import type { Store } from '../store/db.js';
import { openTempStore } from '../store/test-support.js';
import { BatchStore } from './batch-store.js';
import { Coordinator } from './coordinator.js';
import type { LineRunner } from './execute.js';
import { SqliteLineExecutor, sqliteTransport } from './sqlite-lines.js';

const OWNER = hashApiKey('sk-lines');
const log = pino({ level: 'silent' });
const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

describe('the embedded line executor on a failing disk', () => {
  let store: Store;
  let cleanup: () => void;
  let batches: BatchStore;
  let coordinator: Coordinator;
  let executor: SqliteLineExecutor | undefined;
  beforeEach(() => {
    ({ store, cleanup } = openTempStore());
    batches = new BatchStore(store);
    coordinator = new Coordinator({ store, batches, transport: sqliteTransport(batches), workerId: 'w/1', log, pollMs: 20, staleMs: 60_000, leaseMs: 5_000 });
  });
  afterEach(async () => {
    await executor?.stop(1_000);
    await coordinator.stop();
    cleanup();
  });

  async function until<T>(read: () => T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = read();
      if (ok(v)) return v;
      if (Date.now() > deadline) assert.fail(`timed out; last ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  function startExecutor(runLine: LineRunner): void {
    executor = new SqliteLineExecutor({ batches, runLine, workerId: 'w/1', concurrency: 1, pollMs: 20, heartbeatMs: 1_000, log });
    executor.start();
  }

  async function batchOf(ids: string[]) {
    const text = `${ids.map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/audio/speech', body: { input: id } })).join('\n')}\n`;
    const file = await store.files.create({ purpose: 'batch', filename: 'in.jsonl', stream: Readable.from([Buffer.from(text)]), apiKeyHash: OWNER });
    return batches.create({ owner: OWNER, endpoint: '/v1/audio/speech', inputFileId: file.id, completionWindow: '24h', windowSec: 86_400, metadata: null });
  }

  test('keeps a result it could not commit (disk full) and commits it once the disk takes writes again, without a restart', async () => {
    const b = await batchOf(['a', 'b', 'c']);
    coordinator.start();
    await until(
      () => batches.find(b.id)!.status,
      (s) => s === 'in_progress',
    );
    // The first two commits fail as on a full disk.
    let failures = 2;
    const commit = batches.commit.bind(batches);
    batches.commit = (...args) => {
      if (failures > 0) {
        failures--;
        throw diskFull();
      }
      return commit(...args);
    };
    startExecutor(async (l) => ({ state: 'done', statusCode: 200, line: JSON.stringify({ custom_id: l.customId }) }));
    const done = await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'completed',
    );
    assert.equal(failures, 0);
    assert.deepEqual(done.requestCounts, { total: 3, completed: 3, failed: 0 });
  });

  test('runs a line again, rather than recording it failed, when its answer was 507 insufficient_storage', async () => {
    const b = await batchOf(['a', 'b']);
    coordinator.start();
    await until(
      () => batches.find(b.id)!.status,
      (s) => s === 'in_progress',
    );
    const runs = new Map<string, number>();
    startExecutor(async (l) => {
      const n = (runs.get(l.customId) ?? 0) + 1;
      runs.set(l.customId, n);
      if (l.customId === 'a' && n === 1) return { state: 'failed', statusCode: 507, line: JSON.stringify({ custom_id: l.customId, status: 507 }) };
      return { state: 'done', statusCode: 200, line: JSON.stringify({ custom_id: l.customId }) };
    });
    const done = await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'completed',
      20_000,
    );
    assert.deepEqual(done.requestCounts, { total: 2, completed: 2, failed: 0 });
    assert.equal(runs.get('a'), 2);
  });
});
