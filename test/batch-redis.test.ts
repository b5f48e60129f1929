import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { probe } from './helpers/audio.js';
import { assertEachOnce, readResults, speechLines, submitBatch, waitForBatch } from './helpers/batch.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'sk-redis-batch';

/** A `parley worker` child process and the lines it reports having run. */
interface WorkerChild {
  child: ChildProcess;
  ran: string[];
  dataDir: string;
}

async function startWorker(queue: string): Promise<WorkerChild> {
  const dataDir = tempDir('parley-worker-');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/batch-worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, PARLEY_QUEUE: queue, PARLEY_DATA_DIR: dataDir, PARLEY_API_KEYS: KEY, PARLEY_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const worker: WorkerChild = { child, ran: [], dataDir };
  await new Promise<void>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const msg = JSON.parse(line) as { ready?: number; ran?: string };
      if (msg.ready) resolve();
      if (msg.ran) worker.ran.push(msg.ran);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return worker;
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function stopWorker(w: WorkerChild): Promise<void> {
  await kill9(w.child);
  fs.rmSync(w.dataDir, { recursive: true, force: true });
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('batches on Redis (PARLEY_QUEUE) with `parley worker` processes', () => {
  let redis: TestRedis;
  let server: TestServer;
  let workers: WorkerChild[] = [];
  before(async () => {
    redis = await startRedis();
    // The server coordinates (validates, commits results, finalizes) but runs no line itself.
    server = await startTestServer(
      { PARLEY_API_KEYS: KEY, PARLEY_QUEUE: redis.url, PARLEY_BATCH_WORKER: '0' },
      { batch: { pollMs: 100, lockMs: 2000, stalledMs: 1000, reconcileMs: 1500 } },
    );
    workers = await Promise.all([startWorker(redis.url), startWorker(redis.url)]);
  });
  after(async () => {
    await Promise.all(workers.map(stopWorker));
    await server.close();
    await redis.stop();
  });

  test('two worker processes complete one batch together, every line exactly once', async () => {
    const lines = speechLines(40, (i) => `Shared line ${i}.`);
    const created = await submitBatch(server.client, lines, '/v1/audio/speech');
    const done = await waitForBatch(server.client, created.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 40, completed: 40, failed: 0 });
    const output = await readResults(server.client, done.output_file_id);
    assertEachOnce(
      lines.map((l) => l.custom_id),
      output,
    );
    assert.ok(probe(Buffer.from(output[0]!.response!.body.audio, 'base64'), 'wav').durationSec > 0.3);
    const share = workers.map((w) => w.ran.filter((id) => id.startsWith(created.id)).length);
    assert.ok(
      share.every((n) => n > 0),
      `both workers ran lines: ${share.join(' + ')}`,
    );
    assert.equal(share[0]! + share[1]!, 40, 'no line ran twice');
  });

  test('killing one worker mid-batch (kill -9) loses nothing: the other finishes, every line once', async () => {
    const lines = speechLines(60, (i) => `Line ${i} survives a dead worker.`);
    const created = await submitBatch(server.client, lines, '/v1/audio/speech');
    const [victim, survivor] = workers as [WorkerChild, WorkerChild];
    await until(() => victim.ran.filter((id) => id.startsWith(created.id)).length >= 4, 'the victim to run some lines');
    await kill9(victim.child);
    const done = await waitForBatch(server.client, created.id, undefined, 90_000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 60, completed: 60, failed: 0 });
    assertEachOnce(
      lines.map((l) => l.custom_id),
      await readResults(server.client, done.output_file_id),
    );
    assert.ok(survivor.ran.filter((id) => id.startsWith(created.id)).length > 0);
    await stopWorker(victim);
    workers[0] = await startWorker(redis.url);
  });

  test('cancels a Redis batch: queued lines are pulled, finished ones kept', async () => {
    const lines = speechLines(80, (i) => `Cancelled line ${i}.`);
    const created = await submitBatch(server.client, lines, '/v1/audio/speech');
    await waitForBatch(server.client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 3);
    await server.client.batches.cancel(created.id);
    const done = await waitForBatch(server.client, created.id);
    assert.equal(done.status, 'cancelled');
    const output = await readResults(server.client, done.output_file_id);
    const errors = await readResults(server.client, done.error_file_id);
    assert.ok(output.length < 80 && output.length === done.request_counts!.completed);
    assert.ok(errors.every((l) => l.error?.code === 'batch_cancelled'));
    assertEachOnce(
      lines.map((l) => l.custom_id),
      output,
      errors,
    );
  });

  test('Redis losing every job mid-batch (FLUSHALL) loses no line: they are queued again from SQLite', async () => {
    const lines = speechLines(40, (i) => `Line ${i} outlives the queue.`);
    const created = await submitBatch(server.client, lines, '/v1/audio/speech');
    await waitForBatch(server.client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 5);
    const r = new Redis(redis.url);
    await r.flushall();
    r.disconnect();
    const done = await waitForBatch(server.client, created.id, undefined, 90_000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 40, completed: 40, failed: 0 });
    assertEachOnce(
      lines.map((l) => l.custom_id),
      await readResults(server.client, done.output_file_id),
    );
  });
});

describe('Redis mode survives kill -9 of the coordinating server', () => {
  let redis: TestRedis;
  let worker: WorkerChild;
  before(async () => {
    redis = await startRedis();
    worker = await startWorker(redis.url);
  });
  after(async () => {
    await stopWorker(worker);
    await redis.stop();
  });

  test('results wait in Redis while the server is down; after restart every line is there once', async () => {
    const dataDir = tempDir('parley-redis-coord-');
    const start = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/batch-server.ts')], {
        cwd: ROOT,
        env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_API_KEYS: KEY, PARLEY_QUEUE: redis.url, PARLEY_BATCH_WORKER: '0', PARLEY_LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const first = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      const url = (JSON.parse(first) as { url: string }).url;
      return { child, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 }) };
    };
    let server = await start();
    try {
      const lines = speechLines(40, (i) => `Coordinator crash line ${i}.`);
      const created = await submitBatch(server.client, lines, '/v1/audio/speech');
      await waitForBatch(server.client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 5);
      await kill9(server.child);
      // The worker goes on while the server is down; its results queue up in Redis.
      const before = worker.ran.length;
      await until(() => worker.ran.length >= before + 5, 'the worker to keep going');
      server = await start();
      const done = await waitForBatch(server.client, created.id, undefined, 90_000);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 40, completed: 40, failed: 0 });
      assertEachOnce(
        lines.map((l) => l.custom_id),
        await readResults(server.client, done.output_file_id),
      );
    } finally {
      await kill9(server.child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
