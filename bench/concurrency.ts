/**
 * Concurrency policy benchmark (`npm run bench -- concurrency`): what a speech synthesis waits
 * while recognitions are queued, under two policies on the same engines in one run:
 *  - "one limiter, per-kind caps" (Parley's): a recognition waiting for the one recogniser holds no
 *    slot, so synthesis gets the free slot at once;
 *  - "engine-private queue" (before issue 8): every job takes a global slot first and then waits in
 *    the engine's own one-at-a-time queue, so two recognitions hold both slots of 2 and synthesis
 *    waits behind them.
 * Reported: the median time from asking for a 1-sentence synthesis to having its audio, while two
 * recognitions of a 20 s clip are running/queued, ÷ the same synthesis on an idle limiter.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudio } from '../src/audio/decode/index.js';
import { createAsrEngine } from '../src/engines/asr/registry.js';
import { createTtsEngine } from '../src/engines/tts/registry.js';
import { Limiter } from '../src/lib/limiter.js';
import { perKindCaps } from '../src/runtime/host.js';

const SPEECH = path.resolve(import.meta.dirname, '../test/fixtures/speech');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function run(): Promise<void> {
  const capacity = 2;
  const files = fs.readdirSync(SPEECH).filter((f) => f.startsWith('librivox-') && f.endsWith('.wav'));
  const clips = await Promise.all(files.map((f) => decodeAudio(fs.readFileSync(path.join(SPEECH, f)), { param: 'x' })));
  const samples = new Float32Array(clips.reduce((n, c) => n + c.samples.length, 0));
  let at = 0;
  for (const c of clips) {
    samples.set(c.samples, at);
    at += c.samples.length;
  }
  const clip = { sampleRate: 16_000, samples: samples.subarray(0, Math.min(samples.length, 20 * 16_000)) };
  const asr = await createAsrEngine('pocketsphinx', { modelsDir: os.tmpdir(), threads: 1 });
  const tts = await createTtsEngine('flite', { modelsDir: os.tmpdir(), concurrency: capacity });
  const say = () => tts.synthesize({ text: 'Your order has shipped and should arrive on Tuesday.', rendering: { voice: 'slt' }, speed: 1 });
  try {
    const policies: Record<string, Limiter> = {
      'one limiter, per-kind caps': new Limiter({ capacity, perKind: perKindCaps(capacity) }),
      'engine-private queue': new Limiter({ capacity }),
    };
    await say();
    const idle: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      await policies['one limiter, per-kind caps']!.run('tts', say);
      idle.push(performance.now() - t);
    }
    console.log(`synthesis alone: median ${median(idle).toFixed(0)} ms`);
    for (const [name, limiter] of Object.entries(policies)) {
      const waits: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const recognitions = [limiter.run('asr', () => asr.transcribe(clip)), limiter.run('asr', () => asr.transcribe(clip))];
        await new Promise((res) => setTimeout(res, 50));
        const t = performance.now();
        await limiter.run('tts', say);
        waits.push(performance.now() - t);
        await Promise.all(recognitions);
      }
      console.log(
        `${name.padEnd(28)} synthesis while 2 recognitions run: median ${median(waits).toFixed(0)} ms = ${(median(waits) / median(idle)).toFixed(2)} × alone`,
      );
    }
  } finally {
    await Promise.all([asr.dispose(), tts.dispose()]);
  }
}
