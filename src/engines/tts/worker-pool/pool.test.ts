import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isApiError } from '../../../errors.js';
import { isAbortError, WorkerPool, workerModuleUrl } from './pool.js';
import type { TestJob } from './test-worker.js';

const entry = workerModuleUrl('test-worker', import.meta.url);

function makePool(size = 1, timeoutMs = 5_000): WorkerPool<TestJob, unknown> {
  const pool = new WorkerPool<TestJob, unknown>({ name: 'test', entry, size, timeoutMs, workerData: { hello: 'world' } });
  pools.push(pool);
  return pool;
}
const pools: WorkerPool<TestJob, unknown>[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.dispose()));
});

describe('WorkerPool', () => {
  test('runs a job in a worker and returns its result with the pool data', async () => {
    const pool = makePool();
    assert.deepEqual(await pool.run({ kind: 'echo', value: 'hi' }), { value: 'hi', data: { hello: 'world' } });
  });

  test('moves transferred results back without copying them', async () => {
    const pool = makePool();
    const out = (await pool.run({ kind: 'bytes', n: 1000 })) as Float32Array;
    assert.ok(out instanceof Float32Array);
    assert.equal(out.length, 1000);
  });

  test('a WebAssembly trap rejects that job with a 500 and the next job still runs', async () => {
    const pool = makePool();
    await assert.rejects(pool.run({ kind: 'trap' }), (e) => isApiError(e) && e.status === 500 && /unreachable/.test(String((e.cause as Error).message)));
    assert.deepEqual(await pool.run({ kind: 'echo', value: 'after' }), { value: 'after', data: { hello: 'world' } });
  });

  test('a thrown error rejects that job only', async () => {
    const pool = makePool();
    await assert.rejects(pool.run({ kind: 'throw', message: 'bad input' }), (e) => isApiError(e) && /bad input/.test(String((e.cause as Error).message)));
    assert.equal(((await pool.run({ kind: 'echo', value: 'x' })) as { value: string }).value, 'x');
  });

  test('a worker that exits fails its job and is replaced', async () => {
    const pool = makePool();
    await assert.rejects(pool.run({ kind: 'exit' }), (e) => isApiError(e) && e.status === 500);
    assert.equal(((await pool.run({ kind: 'echo', value: 'y' })) as { value: string }).value, 'y');
    assert.equal(pool.stats().started, 2);
  });

  test('aborting a running job rejects promptly with an AbortError and terminates the worker', async () => {
    const pool = makePool();
    const ac = new AbortController();
    const started = Date.now();
    const p = pool.run({ kind: 'spin', ms: 60_000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, (e) => isAbortError(e));
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms: the job was cut, not run to its end`);
    assert.equal(((await pool.run({ kind: 'echo', value: 'z' })) as { value: string }).value, 'z');
  });

  test('an already aborted signal rejects without running', async () => {
    const pool = makePool();
    await assert.rejects(pool.run({ kind: 'echo', value: 'never' }, { signal: AbortSignal.abort() }), (e) => isAbortError(e));
    assert.equal(pool.stats().started, 0);
  });

  test('a job over its time limit rejects with a 500 and the pool recovers', async () => {
    const pool = makePool(1, 200);
    const started = Date.now();
    await assert.rejects(pool.run({ kind: 'spin', ms: 60_000 }), (e) => isApiError(e) && /timed out/.test(String((e.cause as Error).message)));
    assert.ok(Date.now() - started < 30_000, 'the job was cut at its limit, not run to its end');
    assert.equal(((await pool.run({ kind: 'echo', value: 'ok' })) as { value: string }).value, 'ok');
  });

  test('runs at most size jobs at once and queues the rest in order', async () => {
    const pool = makePool(2);
    const jobs = [pool.run({ kind: 'spin', ms: 300 }), pool.run({ kind: 'spin', ms: 300 }), pool.run({ kind: 'echo', value: 'third' })];
    await new Promise((r) => setTimeout(r, 50));
    const s = pool.stats();
    assert.equal(s.running, 2);
    assert.equal(s.queued, 1);
    const results = await Promise.all(jobs);
    assert.deepEqual(results.slice(0, 2), ['spun', 'spun']);
    assert.ok(pool.stats().workers <= 2);
  });

  test('aborting a queued job removes it from the queue', async () => {
    const pool = makePool(1);
    const ac = new AbortController();
    const first = pool.run({ kind: 'spin', ms: 200 });
    const second = pool.run({ kind: 'echo', value: 'dropped' }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(second, (e) => isAbortError(e));
    assert.equal(await first, 'spun');
  });

  test('dispose rejects pending jobs', async () => {
    const pool = makePool(1);
    const running = assert.rejects(pool.run({ kind: 'spin', ms: 2_000 }), /disposed/);
    const queued = assert.rejects(pool.run({ kind: 'echo', value: 'q' }), /disposed/);
    await pool.dispose();
    await Promise.all([running, queued]);
    await assert.rejects(pool.run({ kind: 'echo', value: 'late' }), /disposed/);
  });
});
