import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Limiter, withPriority } from './limiter.js';

const tick = () => new Promise((r) => setImmediate(r));

test('runs no more jobs at once than its capacity', async () => {
  const limiter = new Limiter(2);
  let running = 0;
  let peak = 0;
  const job = async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
  };
  await Promise.all(Array.from({ length: 7 }, () => limiter.run(job)));
  assert.equal(peak, 2);
  assert.equal(limiter.active, 0);
});

test('lets a live job overtake queued background jobs', async () => {
  const limiter = new Limiter(1);
  const order: string[] = [];
  let release!: () => void;
  const first = limiter.run(() => new Promise<void>((r) => (release = r)));
  const background = [1, 2, 3].map((i) => limiter.run(async () => void order.push(`batch${i}`), { priority: 10 }));
  const live = limiter.run(async () => void order.push('live'), { priority: 0 });
  await tick();
  release();
  await Promise.all([first, live, ...background]);
  assert.deepEqual(order, ['live', 'batch1', 'batch2', 'batch3']);
});

test('drops a queued job whose signal aborts', async () => {
  const limiter = new Limiter(1);
  let release!: () => void;
  const first = limiter.run(() => new Promise<void>((r) => (release = r)));
  const ac = new AbortController();
  let ran = false;
  const queued = limiter.run(async () => void (ran = true), { signal: ac.signal });
  ac.abort(new Error('gone'));
  await assert.rejects(queued, /gone/);
  assert.equal(limiter.queued, 0);
  release();
  await first;
  assert.equal(ran, false);
});

test('takes the priority of the async context it runs in', async () => {
  const limiter = new Limiter(1);
  const order: string[] = [];
  let release!: () => void;
  const first = limiter.run(() => new Promise<void>((r) => (release = r)));
  const batch = withPriority(10, () => limiter.run(async () => void order.push('batch')));
  const live = limiter.run(async () => void order.push('live'));
  await tick();
  release();
  await Promise.all([first, batch, live]);
  assert.deepEqual(order, ['live', 'batch']);
});
