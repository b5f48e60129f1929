/**
 * Encoder benchmark (`npm run bench -- encode`): how fast each output format encodes 24 kHz mono
 * speech, as the speech route drives it (streaming, one write per ~1 s sentence).
 *  1. One at a time: × real time (seconds of audio per second), wall clock and this process's CPU
 *     (in-process encoders; AAC's ffmpeg child is not in this process's CPU: wall only).
 *  2. Per response with synthesis: (flite synthesis + wav encode) ÷ (synthesis + this format's
 *     encode), one at a time: the throughput ratio to expect over HTTP when the encoder is the only
 *     difference (issue 9's target for mp3: ≥ 0.8× wav).
 *  3. Under load: 20 encodes at once, audio seconds encoded per wall second, ÷ wav's (encoders
 *     alone: wav is a copy, so this shows the raw cost of each codec).
 * Runs are interleaved and medians taken, so every format sees the same machine load. Absolute
 * figures are for context only (these machines are shared and noisy).
 */
import os from 'node:os';
import { createEncoder, OUTPUT_FORMATS } from '../src/audio/encode/index.js';
import { resample } from '../src/audio/resample.js';
import { OUTPUT_SAMPLE_RATE, type OutputFormat } from '../src/audio/types.js';
import { createTtsEngine } from '../src/engines/tts/registry.js';

const TEXT = [
  'Parley turns text into speech on your own machine, with the voices you already know.',
  'Nothing leaves the server, and the answer starts to play before it is finished.',
  'Each sentence is synthesised in order while the previous one is being sent.',
  'The client can cancel at any time, and the work stops at once.',
].join(' ');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 20);
/** Samples per write: about one sentence. */
const WRITE = OUTPUT_SAMPLE_RATE;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Encodes `speech` as the speech route does; returns the bytes produced. */
async function encodeOnce(format: OutputFormat, speech: Float32Array): Promise<number> {
  const enc = createEncoder(format, { streaming: true });
  try {
    let bytes = 0;
    for (let at = 0; at < speech.length; at += WRITE) bytes += (await enc.write(speech.subarray(at, at + WRITE))).length;
    return bytes + (await enc.end()).length;
  } finally {
    enc.abort();
  }
}

export default async function run(): Promise<void> {
  const engine = await createTtsEngine('flite', { modelsDir: os.tmpdir(), concurrency: 1 });
  try {
    await measure(engine);
  } finally {
    await engine.dispose();
  }
}

async function measure(engine: Awaited<ReturnType<typeof createTtsEngine>>): Promise<void> {
  const synthesize = () => engine.synthesize({ text: TEXT, rendering: engine.defaultVoiceMap().alloy!, speed: 1 });
  const pcm = await synthesize();
  const sourceRate = pcm.sampleRate;
  const speech = pcm.sampleRate === OUTPUT_SAMPLE_RATE ? pcm.samples : resample(pcm, OUTPUT_SAMPLE_RATE).samples;
  const seconds = speech.length / OUTPUT_SAMPLE_RATE;
  console.log(
    `${seconds.toFixed(1)} s of flite speech at 24 kHz mono, writes of ${WRITE} samples, ${RUNS} runs, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
  );

  // Warm every codec (WASM compile, ffmpeg page cache) outside the measurement.
  for (const format of OUTPUT_FORMATS) await encodeOnce(format, speech);

  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const sizes: Record<string, number> = {};
  const resampleWall: number[] = [];
  const synthWall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s0 = performance.now();
    await synthesize();
    synthWall.push(performance.now() - s0);
    for (const format of OUTPUT_FORMATS) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      sizes[format] = await encodeOnce(format, speech);
      (wall[format] ??= []).push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      (cpu[format] ??= []).push((c.user + c.system) / 1000);
    }
    if (sourceRate !== OUTPUT_SAMPLE_RATE) {
      const t0 = performance.now();
      resample({ samples: resample({ samples: speech, sampleRate: OUTPUT_SAMPLE_RATE }, sourceRate).samples, sampleRate: sourceRate }, OUTPUT_SAMPLE_RATE);
      resampleWall.push(performance.now() - t0);
    }
  }
  console.log('\n1. one at a time (× real time: higher is faster)');
  console.log('format  wall ms   × RT (wall)   CPU ms   × RT (one core)   bytes     kbit/s');
  for (const format of OUTPUT_FORMATS) {
    const w = median(wall[format]!);
    const c = median(cpu[format]!);
    const inProcess = format !== 'aac';
    console.log(
      `${format.padEnd(6)} ${w.toFixed(1).padStart(8)} ${((seconds * 1000) / w).toFixed(0).padStart(10)}× ${inProcess ? c.toFixed(1).padStart(9) : '    (child)'} ${inProcess ? `${((seconds * 1000) / Math.max(c, 0.01)).toFixed(0).padStart(14)}×` : '               '} ${String(sizes[format]).padStart(9)} ${((sizes[format]! * 8) / seconds / 1000).toFixed(0).padStart(8)}`,
    );
  }
  if (resampleWall.length > 0) {
    // Both directions are timed: the second alone is what a response costs.
    console.log(
      `(context: resampling ${sourceRate} Hz → 24 kHz and back runs at ${((2 * seconds * 1000) / median(resampleWall)).toFixed(0)}× real time per direction)`,
    );
  }

  const synth = median(synthWall);
  console.log(
    `\n2. per response with synthesis (flite: ${synth.toFixed(0)} ms for this text, ${((seconds * 1000) / synth).toFixed(0)}× real time): throughput ÷ wav's`,
  );
  for (const format of OUTPUT_FORMATS) {
    const ratio = (synth + median(wall.wav!)) / (synth + median(wall[format]!));
    console.log(`${format.padEnd(6)} ${ratio.toFixed(3).padStart(8)}${format === 'mp3' ? '   (target ≥ 0.8)' : ''}`);
  }

  console.log(`\n3. under load: ${CONCURRENT} encodes at once, audio seconds per wall second, ÷ wav's`);
  const load: Record<string, number[]> = {};
  for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)); i++) {
    for (const format of OUTPUT_FORMATS) {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: CONCURRENT }, () => encodeOnce(format, speech)));
      (load[format] ??= []).push((CONCURRENT * seconds) / ((performance.now() - t0) / 1000));
    }
  }
  const wav = median(load.wav!);
  console.log('format  audio s / s   ÷ wav');
  for (const format of OUTPUT_FORMATS) {
    const x = median(load[format]!);
    console.log(`${format.padEnd(6)} ${x.toFixed(0).padStart(11)} ${(x / wav).toFixed(3).padStart(8)}`);
  }
}
