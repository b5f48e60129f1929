/**
 * sherpa-onnx through the speech host vs sherpa-onnx called in-process, on the tiny test models
 * (test/fixtures/models/make-tiny-sherpa.ts: the real feature extraction, decoding and
 * phonemisation, with graphs that cost next to nothing — so the figures isolate the host's cost):
 *  1. recognition (SenseVoice fixture, 5-s clip): engine.transcribe() through the host ÷
 *     OfflineRecognizer.decode() in this process — ratio of medians and overhead in ms;
 *  2. synthesis (Kokoro fixture, one sentence): engine.synthesize() ÷ OfflineTts.generate();
 *  3. memory: the host's RSS after 1…200 recognitions of 30-s segments (tiny model: the real
 *     models' weights and arenas add to this; see engines/speech-host/README.md).
 * Part of `npm run bench -- engines` (bench/engines.ts, with the whisper benchmark and sherpa over HTTP).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { whiteNoise } from '../src/audio/test-signals.js';
import { createSensevoiceEngine } from '../src/engines/asr/sensevoice/index.js';
import { createKokoroEngine } from '../src/engines/tts/kokoro/index.js';
import { writeTinyKokoro, writeTinySenseVoice } from '../test/fixtures/models/make-tiny-sherpa.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const RSS_CALLS = Number(process.env.BENCH_RSS_CALLS ?? 200);
const ESPEAK = '/usr/lib/x86_64-linux-gnu/espeak-ng-data';

interface SherpaModule {
  OfflineRecognizer: new (
    config: unknown,
  ) => {
    createStream(): { acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void };
    decode(s: unknown): void;
    getResult(s: unknown): { text: string };
  };
  OfflineTts: new (config: unknown) => { generate(r: { text: string; sid: number; speed: number }): { samples: Float32Array } };
}

function noise(seconds: number): Float32Array {
  return whiteNoise(Math.round(seconds * 16_000), 0.3);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median ms of `runs` calls of `fn` after two warm-up calls. */
export async function time(fn: () => unknown, runs = RUNS): Promise<number> {
  await fn();
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

function report(what: string, host: number, direct: number, inChild: number): void {
  console.log(
    `${what}: host ${host.toFixed(2)} ms (sherpa in the child ${inChild.toFixed(2)} ms), in-process ${direct.toFixed(2)} ms → ` +
      `ratio ${(host / direct).toFixed(2)}, overhead ${(host - direct).toFixed(2)} ms per request`,
  );
}

export default async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-sherpa-'));
  const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as SherpaModule;
  console.log(`machine: ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)} (shared: absolute times are context only)`);
  try {
    // 1. Recognition.
    const svDir = writeTinySenseVoice(path.join(dir, 'sensevoice'));
    const clip = noise(5);
    const asr = await createSensevoiceEngine({ model: svDir, modelsDir: dir, threads: 1 });
    const recognizer = new sherpa.OfflineRecognizer({
      featConfig: { sampleRate: 16_000, featureDim: 80 },
      modelConfig: {
        senseVoice: { model: path.join(svDir, 'model.onnx'), language: '', useInverseTextNormalization: 1 },
        tokens: path.join(svDir, 'tokens.txt'),
        numThreads: 1,
        debug: 0,
      },
    });
    const direct = await time(() => {
      const stream = recognizer.createStream();
      stream.acceptWaveform({ samples: clip, sampleRate: 16_000 });
      recognizer.decode(stream);
      return recognizer.getResult(stream).text;
    });
    const inChild: number[] = [];
    const hosted = await time(async () => {
      await asr.transcribe({ samples: clip, sampleRate: 16_000 });
      inChild.push(asr.host.lastWorkMs);
    });
    report(`recognition, 5-s clip, tiny SenseVoice (${RUNS} runs)`, hosted, direct, median(inChild));

    // 3. Memory of the host after many 30-s windows (same engine, one window per call).
    const window = noise(30);
    const marks = new Set([1, 10, 50, 100, 200, RSS_CALLS]);
    const rss: string[] = [];
    const started = performance.now();
    for (let i = 1; i <= RSS_CALLS; i++) {
      await asr.transcribe({ samples: window, sampleRate: 16_000 });
      if (marks.has(i)) rss.push(`${i}: ${(asr.host.lastRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const perWindow = (performance.now() - started) / RSS_CALLS;
    console.log(
      `speech host RSS after n recognitions of 30-s segments (tiny model, ${perWindow.toFixed(0)} ms each): ${rss.join(', ')}; ceiling ${(asr.host.maxRssBytes / 2 ** 30).toFixed(1)} GiB, hosts started: ${asr.host.starts}`,
    );
    await asr.dispose();

    // 2. Synthesis.
    const kkDir = writeTinyKokoro(path.join(dir, 'kokoro'));
    const text = 'The quick brown fox jumps over the lazy dog, twice, before breakfast.';
    const tts = await createKokoroEngine({ model: kkDir, modelsDir: dir, concurrency: 1, threads: 1 });
    const inProcess = new sherpa.OfflineTts({
      model: {
        kokoro: {
          model: path.join(kkDir, 'model.onnx'),
          voices: path.join(kkDir, 'voices.bin'),
          tokens: path.join(kkDir, 'tokens.txt'),
          lexicon: path.join(kkDir, 'lexicon-us-en.txt'),
          dataDir: ESPEAK,
        },
        numThreads: 1,
        debug: 0,
      },
      maxNumSentences: 1,
    });
    const directTts = await time(() => inProcess.generate({ text, sid: 7, speed: 1 }).samples.length);
    const ttsInChild: number[] = [];
    const hostedTts = await time(async () => {
      await tts.synthesize({ text, rendering: { voice: 'af_nova' }, speed: 1 });
      ttsInChild.push(tts.host.lastWorkMs);
    });
    report(`synthesis, one sentence, tiny Kokoro (${RUNS} runs)`, hostedTts, directTts, median(ttsInChild));
    await tts.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
