import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { hashApiKey } from '../store/context.js';
import type { Store } from '../store/db.js';
import { openTempStore } from '../store/test-support.js';
import { BatchStore } from './batch-store.js';
import { Coordinator } from './coordinator.js';
import { sqliteTransport } from './sqlite-lines.js';

const OWNER = hashApiKey('sk-coord');
const log = pino({ level: 'silent' });

function jsonl(lines: unknown[]): string {
  return `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;
}

describe('the batch coordinator', () => {
  let store: Store;
  let cleanup: () => void;
  let batches: BatchStore;
  let coordinator: Coordinator | undefined;
  beforeEach(() => {
    ({ store, cleanup } = openTempStore());
    batches = new BatchStore(store);
  });
  afterEach(async () => {
    await coordinator?.stop();
    cleanup();
  });

  async function createBatch(text: string) {
    const file = await store.files.create({ purpose: 'batch', filename: 'in.jsonl', stream: Readable.from([Buffer.from(text)]), apiKeyHash: OWNER });
    return batches.create({ owner: OWNER, endpoint: '/v1/audio/speech', inputFileId: file.id, completionWindow: '24h', windowSec: 86_400, metadata: null });
  }

  function start(workerId = 'host/1/test'): Coordinator {
    coordinator = new Coordinator({ store, batches, transport: sqliteTransport(batches), workerId, log, pollMs: 20, staleMs: 60_000, leaseMs: 5_000 });
    coordinator.start();
    return coordinator;
  }

  async function until<T>(read: () => T, ok: (v: T) => boolean): Promise<T> {
    for (let i = 0; i < 500; i++) {
      const v = read();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail('timed out');
  }

  const line = (id: string) => ({ custom_id: id, method: 'POST', url: '/v1/audio/speech', body: { input: id } });

  test('validates the input, and finalizes once the lines are committed, writing both files in line order', async () => {
    const b = await createBatch(jsonl([line('a'), 'oops', line('b')]));
    start();
    const running = await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'in_progress',
    );
    assert.deepEqual(running.requestCounts, { total: 3, completed: 0, failed: 1 });
    for (const l of batches.claim('w', 10)) batches.commit(l.batchId, l.lineNo, { state: 'done', line: JSON.stringify({ custom_id: l.customId }) });
    batches.nudge();
    const done = await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'completed',
    );
    const out = await new Response(store.files.openContent(done.outputFileId!, OWNER) as unknown as ReadableStream).text();
    assert.equal(out, '{"custom_id":"a"}\n{"custom_id":"b"}\n');
    const err = await new Response(store.files.openContent(done.errorFileId!, OWNER) as unknown as ReadableStream).text();
    assert.match(err, /invalid_json_line/);
    assert.equal(store.files.get(done.outputFileId!, OWNER)!.purpose, 'batch_output');
  });

  test('a finalize cut short after writing the output file finds it again instead of writing a second', async () => {
    const b = await createBatch(jsonl([line('a')]));
    start();
    await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'in_progress',
    );
    await coordinator!.stop();
    const [l] = batches.claim('w', 1);
    batches.commit(b.id, l!.lineNo, { state: 'done', line: '{"custom_id":"a"}' });
    // What a process killed mid-finalize leaves: finalizing, ids reserved, the output file written.
    assert.equal(batches.beginFinalizing(b.id), true);
    const { outputId } = batches.sealLines(b.id);
    await store.files.create({
      id: outputId,
      purpose: 'batch_output',
      filename: 'x',
      stream: Readable.from([Buffer.from('{"custom_id":"a"}\n')]),
      apiKeyHash: OWNER,
    });
    fs.writeFileSync(`${store.files.contentPath(batches.sealLines(b.id).errorId)}.part`, 'debris');
    start('host/2/test');
    const done = await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'completed',
    );
    assert.equal(done.outputFileId, outputId);
    assert.equal(done.errorFileId, null);
    assert.equal(store.files.list({ keyHash: OWNER, purpose: 'batch_output' }).data.length, 1);
  });

  test('takes back the lines of an earlier process that had this same pid (a restarted container)', async () => {
    const b = await createBatch(jsonl([line('a')]));
    start();
    await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'in_progress',
    );
    const previous = `${(await import('node:os')).hostname()}/${process.pid}/0ld0ld00`;
    assert.equal(batches.claim(previous, 1).length, 1);
    batches.nudge();
    await until(
      () => batches.lineCounts(b.id),
      (c) => c.pending === 1 && c.running === 0,
    );
  });

  test('takes back the lines of a worker whose process is gone, at once', async () => {
    const b = await createBatch(jsonl([line('a'), line('b')]));
    start();
    await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'in_progress',
    );
    // A pid that cannot exist on this host.
    const dead = `${(await import('node:os')).hostname()}/999999999/dead`;
    assert.equal(batches.claim(dead, 2).length, 2);
    batches.nudge();
    await until(
      () => batches.lineCounts(b.id),
      (c) => c.pending === 2 && c.running === 0,
    );
  });

  test('fails a batch whose input file was deleted before it was read', async () => {
    const b = await createBatch(jsonl([line('a')]));
    await store.files.delete(b.inputFileId, OWNER);
    start();
    const failed = await until(
      () => batches.find(b.id)!,
      (x) => x.status === 'failed',
    );
    assert.equal(failed.errors![0]!.code, 'file_not_found');
  });
});
