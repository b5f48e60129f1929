/**
 * Batch benchmark (`npm run bench -- batch`):
 *  1. Audio produced per wall second by a 50-line speech batch (embedded worker, SQLite) ÷ the
 *     same 50 requests run back to back straight through the TTS engine. Target ≥ 0.95 on 2
 *     cores. Also shown: ÷ the engine driven with as many requests in parallel as it has cores,
 *     the best the engine alone can do on this machine.
 *  2. Redis mode: the same batch with two `parley worker` processes on this machine ÷ one.
 * Absolute times are printed for context only. BENCH_LINES changes the batch size.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type OpenAI from 'openai';
import { createTtsEngine, resolveTtsEngine } from '../src/engines/tts/registry.js';
import { type InputLine, readResults, submitBatch, waitForBatch } from '../test/helpers/batch.js';
import { startRedis } from '../test/helpers/redis.js';
import { startTestServer, tempDir } from '../test/helpers/server.js';

const LINES = Number(process.env.BENCH_LINES ?? 50);
const ROOT = path.resolve(import.meta.dirname, '..');
const SENTENCES = [
  'The committee will meet again on Thursday to review the budget.',
  'Please remember to bring your badge when you visit the laboratory.',
  'A light rain is expected in the afternoon, clearing by evening.',
  'Our records show that the parcel left the warehouse this morning.',
  'Thank you for calling; your order number is four seven two nine.',
];
const VOICES = ['alloy', 'echo', 'shimmer', 'nova', 'onyx'];
const text = (i: number) => `${SENTENCES[i % SENTENCES.length]} This is request ${i + 1}.`;
const lines: InputLine[] = Array.from({ length: LINES }, (_, i) => ({
  custom_id: `b-${i}`,
  method: 'POST',
  url: '/v1/audio/speech',
  body: { model: 'tts-1', voice: VOICES[i % VOICES.length], input: text(i), response_format: 'pcm' },
}));

/** Runs the batch and returns audio seconds and wall seconds. */
async function timeBatch(client: OpenAI): Promise<{ audioSec: number; wallSec: number }> {
  const t = performance.now();
  const created = await submitBatch(client, lines, '/v1/audio/speech');
  const done = await waitForBatch(client, created.id, undefined, 30 * 60_000);
  const wallSec = (performance.now() - t) / 1000;
  if (done.status !== 'completed' || done.request_counts?.completed !== LINES)
    throw new Error(`batch ended ${done.status} ${JSON.stringify(done.request_counts)}`);
  const out = await readResults(client, done.output_file_id);
  const audioSec = out.reduce((s, l) => s + Buffer.from(l.response!.body.audio, 'base64').length / 48_000, 0);
  return { audioSec, wallSec };
}

async function startWorker(queue: string, dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/batch-worker.ts')], {
    cwd: ROOT,
    env: { ...process.env, PARLEY_QUEUE: queue, PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'silent', TEST_LOCK_MS: '30000', TEST_STALLED_MS: '10000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes('"ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
  return child;
}

export default async function run(): Promise<void> {
  // 1. Embedded batch vs the engine called directly.
  const server = await startTestServer({ PARLEY_LOG_LEVEL: 'silent' });
  const cores = server.config.concurrency;
  const engine = await createTtsEngine(
    // The engine the server's TTS setting resolves to (auto: the best installed; flite here).
    (await resolveTtsEngine(server.config.tts.engine, { modelsDir: server.config.modelsDir!, concurrency: cores })).id,
    { modelsDir: server.config.modelsDir!, concurrency: cores },
  );
  const map = engine.defaultVoiceMap();
  const direct = async (parallel: number) => {
    const t = performance.now();
    let audioSec = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < LINES) {
          const i = next++;
          const pcm = await engine.synthesize({ text: text(i), rendering: map[VOICES[i % VOICES.length]!]!, speed: 1 });
          audioSec += pcm.samples.length / pcm.sampleRate;
        }
      }),
    );
    return { audioSec, wallSec: (performance.now() - t) / 1000 };
  };
  try {
    // Warm up both paths (worker threads, codecs, SQLite).
    await direct(cores);
    await submitBatch(server.client, lines.slice(0, 4), '/v1/audio/speech').then((b) => waitForBatch(server.client, b.id));
    // The live pipeline in-process (route, resampling, encoding), as many at once as the batch runs.
    const inFlight = 2 * cores;
    const live = async () => {
      const t = performance.now();
      let next = 0;
      const seconds: number[] = [];
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < LINES) {
            const line = lines[next++]!;
            const res = await server.app.inject({ method: 'POST', url: '/v1/audio/speech', payload: line.body });
            seconds.push(res.rawPayload.length / 48_000);
          }
        }),
      );
      return { audioSec: seconds.reduce((a, b) => a + b, 0), wallSec: (performance.now() - t) / 1000 };
    };
    const seq = await direct(1);
    const par = await direct(cores);
    const pipeline = await live();
    const batch = await timeBatch(server.client);
    const rate = (r: { audioSec: number; wallSec: number }) => r.audioSec / 60 / (r.wallSec / 60);
    console.log(`${LINES} speech lines, ${batch.audioSec.toFixed(1)} s of audio, ${cores} cores, engine ${engine.id}`);
    console.log(`direct, back to back:         ${seq.wallSec.toFixed(2)} s wall, ${rate(seq).toFixed(1)} audio min / wall min`);
    console.log(`direct, ${cores} in parallel:        ${par.wallSec.toFixed(2)} s wall, ${rate(par).toFixed(1)} audio min / wall min`);
    console.log(
      `live pipeline, ${inFlight} at a time:   ${pipeline.wallSec.toFixed(2)} s wall, ${rate(pipeline).toFixed(1)} audio min / wall min (app.inject, no batch)`,
    );
    console.log(
      `batch (embedded, SQLite):     ${batch.wallSec.toFixed(2)} s wall, ${rate(batch).toFixed(1)} audio min / wall min (upload to completed, files written)`,
    );
    console.log(`ratio batch / direct back to back: ${(rate(batch) / rate(seq)).toFixed(2)}   (target ≥ 0.95)`);
    console.log(`ratio batch / direct ${cores} in parallel: ${(rate(batch) / rate(par)).toFixed(2)}`);
    console.log(`ratio batch / live pipeline (the batch machinery's own cost): ${(rate(batch) / rate(pipeline)).toFixed(2)}`);
  } finally {
    await engine.dispose();
    await server.close();
  }

  // 2. Redis: one worker process vs two, the server only coordinating.
  const redis = await startRedis();
  const coordinator = await startTestServer({ PARLEY_LOG_LEVEL: 'silent', PARLEY_QUEUE: redis.url, PARLEY_BATCH_WORKER: '0' }, { batch: { pollMs: 100 } });
  const dirs: string[] = [];
  const workers: ChildProcess[] = [];
  try {
    const measure = async (n: number) => {
      while (workers.length < n) {
        const dir = tempDir('parley-bench-worker-');
        dirs.push(dir);
        workers.push(await startWorker(redis.url, dir));
      }
      await submitBatch(coordinator.client, lines.slice(0, 4), '/v1/audio/speech').then((b) => waitForBatch(coordinator.client, b.id));
      return timeBatch(coordinator.client);
    };
    const one = await measure(1);
    const two = await measure(2);
    const rate = (r: { audioSec: number; wallSec: number }) => r.audioSec / r.wallSec;
    console.log(`redis, 1 worker:  ${one.wallSec.toFixed(2)} s wall, ${rate(one).toFixed(1)} audio s / wall s`);
    console.log(`redis, 2 workers: ${two.wallSec.toFixed(2)} s wall, ${rate(two).toFixed(1)} audio s / wall s`);
    console.log(`ratio 2 workers / 1 worker (one machine, ${cores} cores): ${(rate(two) / rate(one)).toFixed(2)}`);
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    await coordinator.close();
    await redis.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}
