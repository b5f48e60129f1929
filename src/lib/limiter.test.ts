import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentMeter, EngineMeter, Limiter, SerialQueue, withMeter, withPriority } from './limiter.js';

const tick = () => new Promise((r) => setImmediate(r));

/** A job that runs until `release()` is called. */
function held() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { job: () => done, release };
}

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
  await Promise.all(Array.from({ length: 7 }, () => limiter.run('tts', job)));
  assert.equal(peak, 2);
  assert.equal(limiter.active, 0);
});

test('lets a live job overtake queued background jobs', async () => {
  const limiter = new Limiter(1);
  const order: string[] = [];
  const first = held();
  const running = limiter.run('tts', first.job);
  const background = [1, 2, 3].map((i) => limiter.run('tts', async () => void order.push(`batch${i}`), { priority: 10 }));
  const live = limiter.run('tts', async () => void order.push('live'), { priority: 0 });
  await tick();
  first.release();
  await Promise.all([running, live, ...background]);
  assert.deepEqual(order, ['live', 'batch1', 'batch2', 'batch3']);
});

test('drops a queued job whose signal aborts', async () => {
  const limiter = new Limiter(1);
  const first = held();
  const running = limiter.run('tts', first.job);
  const ac = new AbortController();
  let ran = false;
  const queued = limiter.run('tts', async () => void (ran = true), { signal: ac.signal });
  ac.abort(new Error('gone'));
  await assert.rejects(queued, /gone/);
  assert.equal(limiter.queued, 0);
  first.release();
  await running;
  assert.equal(ran, false);
});

test('takes the priority of the async context it runs in', async () => {
  const limiter = new Limiter(1);
  const order: string[] = [];
  const first = held();
  const running = limiter.run('tts', first.job);
  const batch = withPriority(10, () => limiter.run('tts', async () => void order.push('batch')));
  const live = limiter.run('tts', async () => void order.push('live'));
  await tick();
  first.release();
  await Promise.all([running, batch, live]);
  assert.deepEqual(order, ['live', 'batch']);
});

test('a second recognition waits without holding a slot, so synthesis runs meanwhile', async () => {
  // Two slots, one recogniser: the second transcription must not sit on the free slot.
  const limiter = new Limiter({ capacity: 2, perKind: { asr: 1 } });
  const asr1 = held();
  const first = limiter.run('asr', asr1.job);
  let secondStarted = false;
  const second = limiter.run('asr', async () => void (secondStarted = true));
  await tick();
  assert.equal(limiter.active, 1, 'the waiting recognition holds no slot');
  let synthesised = false;
  await limiter.run('tts', async () => void (synthesised = true));
  assert.ok(synthesised, 'synthesis took the free slot while a recognition waited');
  assert.equal(secondStarted, false);
  asr1.release();
  await Promise.all([first, second]);
  assert.ok(secondStarted);
});

test('passes over a capped kind to start the next job that may run, in order', async () => {
  const limiter = new Limiter({ capacity: 2, perKind: { llm: 1 } });
  const gen = held();
  const generating = limiter.run('llm', gen.job);
  const blocker = held();
  const busy = limiter.run('tts', blocker.job);
  const order: string[] = [];
  const llm2 = limiter.run('llm', async () => void order.push('llm2'));
  const tts2 = limiter.run('tts', async () => void order.push('tts2'));
  await tick();
  assert.deepEqual(limiter.stats().queuedByKind, { llm: 1, tts: 1 });
  blocker.release();
  await tts2;
  assert.deepEqual(order, ['tts2'], 'the freed slot went to synthesis, not to the capped LLM');
  gen.release();
  await Promise.all([generating, busy, llm2]);
  assert.deepEqual(order, ['tts2', 'llm2']);
});

test('reports how long a job waited', async () => {
  const waits: Array<[string, number]> = [];
  const limiter = new Limiter({ capacity: 1, onStart: (kind, ms) => waits.push([kind, ms]) });
  const first = held();
  const running = limiter.run('vad', first.job);
  const queued = limiter.run('tts', async () => undefined);
  await new Promise((r) => setTimeout(r, 20));
  first.release();
  await Promise.all([running, queued]);
  assert.equal(waits.length, 2);
  assert.equal(waits[0]![1], 0);
  assert.ok(waits[1]![1] >= 10, `waited ${waits[1]![1]} ms`);
});

test('a meter counts the slot-seconds of the jobs its context starts, per kind, and no one else’s', async () => {
  const busy: Array<[string, number]> = [];
  const limiter = new Limiter({ capacity: 2, onFinish: (kind, sec) => busy.push([kind, sec]) });
  const mine = new EngineMeter();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await Promise.all([
    withMeter(mine, async () => {
      await limiter.run('tts', () => sleep(30));
      // A job started later, from a promise made inside the context, is still counted.
      await sleep(1).then(() => limiter.run('asr', () => sleep(20)));
    }),
    limiter.run('llm', () => sleep(40)), // not metered
  ]);
  assert.ok(mine.byKind.tts! >= 0.025, `tts ${mine.byKind.tts}`);
  assert.ok(mine.byKind.asr! >= 0.015, `asr ${mine.byKind.asr}`);
  assert.equal(mine.byKind.llm, undefined);
  assert.ok(Math.abs(mine.coreSec - mine.byKind.tts! - mine.byKind.asr!) < 1e-9);
  assert.equal(busy.length, 3);
  assert.ok(limiter.stats().busySecByKind.llm! >= 0.035);
  assert.equal(currentMeter(), undefined, 'outside withMeter there is none');
});

test('a serial queue runs jobs one at a time in call order, and drops one that aborts while it waits', async () => {
  const queue = new SerialQueue();
  const order: number[] = [];
  const first = held();
  const a = queue.run(async () => {
    order.push(1);
    await first.job();
  });
  const ac = new AbortController();
  const b = queue.run(async () => void order.push(2), { signal: ac.signal });
  const c = queue.run(async () => void order.push(3));
  ac.abort(new Error('left'));
  await assert.rejects(b, /left/);
  first.release();
  await Promise.all([a, c]);
  assert.deepEqual(order, [1, 3]);
});
