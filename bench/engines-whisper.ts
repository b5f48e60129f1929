/**
 * Whisper benchmark (the `engines` bench; run alone: `node --import tsx bench/engines-whisper.ts`).
 *
 * Real-shaped random-weight ggml models (the tiny and base shapes: widths, heads and layers of
 * the published files, written by test/fixtures/models/make-tiny-whisper.ts) run at those models'
 * real speed. Their decoder is made to stop after one timestamp token (`stopEarly`), so a call
 * costs one 30 s encoder window plus ~3 decoder steps in every engine — random weights would
 * otherwise ramble for a different number of tokens in each build. Input: 29.5 s of the
 * LibriVox lines (one VAD window). 2 threads (BENCH_THREADS; shapes: BENCH_SHAPES=tiny,base). Runs are interleaved, medians reported.
 *
 *  1. new engine (@napi-rs/whisper, AVX2) ÷ the old @fugood/whisper.node engine (no SIMD), each in
 *     its host process. Target ≤ 0.20. The old package is no dependency any more: install it
 *     for the comparison with `npm i --no-save @fugood/whisper.node@1.1.1` (else it is skipped).
 *  2. POST /v1/audio/transcriptions over HTTP (multipart WAV → decode → VAD → engine → JSON)
 *     ÷ the same engine called directly. Target ≤ 1.10. The server is given the very engine
 *     instance the direct calls use (behind the runtime's limiter, as every recogniser is), so
 *     both run the same host with the same threads. Also printed: the median time of an HTTP
 *     call spent outside the engine, which the machine's noise does not swing by seconds.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { wavHeader } from '../src/audio/encode/wav.js';
import { floatToInt16 } from '../src/audio/pcm.js';
import type { PcmAudio } from '../src/audio/types.js';
import { readWav16, SPEECH_FIXTURES } from '../src/engines/asr/test-support.js';
import { compiledSimdFeatures, glibcVersion, whisperBindingFile } from '../src/engines/asr/whisper/cpu-features.js';
import type { WhisperEngine } from '../src/engines/asr/whisper/engine.js';
import { createWhisperEngine } from '../src/engines/asr/whisper/index.js';
import { type WhisperShape, writeTinyWhisperModel } from '../test/fixtures/models/make-tiny-whisper.js';
import { startTestServer } from '../test/helpers/server.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The old engine takes 30–90 s a window here: it runs in the first few rounds only. */
const OLD_RUNS = Math.min(RUNS, 3);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const WINDOW_SEC = 29.5;
const SHAPES = (process.env.BENCH_SHAPES ?? 'tiny,base').split(',') as WhisperShape[];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The LibriVox lines, 0.6 s apart, repeated and cut to `WINDOW_SEC`: real speech, one window. */
function speechWindow(): PcmAudio {
  const lines = ['librivox-0870.wav', 'librivox-0890.wav', 'librivox-0880.wav'].map((f) => readWav16(path.join(SPEECH_FIXTURES, f)).samples);
  const out = new Float32Array(Math.round(WINDOW_SEC * 16_000));
  const pause = Math.round(0.6 * 16_000);
  for (let at = 0, i = 0; at < out.length; i++) {
    const line = lines[i % lines.length]!;
    out.set(line.subarray(0, Math.min(line.length, out.length - at)), at);
    at += line.length + pause;
  }
  return { samples: out, sampleRate: 16_000 };
}

/** The old engine's host (bench/whisper-fugood-host.ts), or undefined when the package is absent. */
class OldEngine {
  private constructor(private readonly child: ChildProcess) {}

  static available(): boolean {
    try {
      createRequire(import.meta.url).resolve('@fugood/whisper.node');
      return true;
    } catch {
      return false;
    }
  }

  static async start(modelPath: string): Promise<OldEngine> {
    const child = fork(fileURLToPath(new URL('./whisper-fugood-host.ts', import.meta.url)), [], {
      serialization: 'advanced',
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { ...process.env, OMP_WAIT_POLICY: 'passive' },
    });
    const engine = new OldEngine(child);
    await engine.call({ type: 'load', modelPath });
    return engine;
  }

  transcribe(pcm: PcmAudio): Promise<unknown> {
    return this.call({ type: 'transcribe', pcm: floatToInt16(pcm.samples), language: 'en', threads: THREADS });
  }

  dispose(): void {
    this.child.kill('SIGKILL');
  }

  private call(request: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) => reject(new Error(`old whisper host exited (${signal ?? code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: { type: string; message?: string }) => {
        this.child.off('exit', onExit);
        if (reply.type === 'failed') reject(new Error(reply.message));
        else resolve(reply);
      });
      this.child.send(request);
    });
  }
}

/** Medians of one shape, ms. */
export interface WhisperFigures {
  shape: WhisperShape;
  direct: number;
  http: number;
  old: number | null;
}

export default async function run(): Promise<WhisperFigures[]> {
  const figures: WhisperFigures[] = [];
  const file = whisperBindingFile();
  console.log(
    `machine: ${os.availableParallelism()} cores (shared with other work), load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; glibc ${glibcVersion() ?? '?'}; whisper.cpp build: ${file ? JSON.stringify(compiledSimdFeatures(file)) : 'not installed'}`,
  );
  const withOld = OldEngine.available();
  if (!withOld) console.log('old engine: @fugood/whisper.node is not installed — run `npm i --no-save @fugood/whisper.node@1.1.1` to compare');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-whisper-'));
  const pcm = speechWindow();
  const wav = Buffer.concat([wavHeader(pcm.samples.length * 2, 16_000), Buffer.from(floatToInt16(pcm.samples).buffer)]);
  const insideEngine: number[] = [];
  const server = await startTestServer({ PARLEY_ASR_ENGINE: 'whisper', PARLEY_ASR_MODEL: path.join(dir, 'unused.bin') });
  const post = async () => {
    const form = new FormData();
    form.set('model', 'whisper-1');
    form.set('language', 'en');
    form.set('file', new Blob([new Uint8Array(wav)]), 'window.wav');
    const res = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    await res.json();
  };
  try {
    for (const shape of SHAPES) {
      const model = path.join(dir, `ggml-${shape}-shape.en.bin`);
      writeTinyWhisperModel(model, { shape, stopEarly: true });
      let engine: WhisperEngine | undefined;
      let old: OldEngine | undefined;
      try {
        engine = await createWhisperEngine({ model, modelsDir: dir, threads: THREADS });
        // The server gets this very engine, wrapped as the runtime wraps every recogniser (one
        // limiter slot per call), so HTTP and direct calls run the same host with the same threads.
        const direct = engine;
        const { limiter } = server.runtime.services;
        server.runtime.services.engines().asr = async () => ({
          id: direct.id,
          capabilities: direct.capabilities,
          languages: () => direct.languages(),
          transcribe: (pcm, options) =>
            limiter.run(
              'asr',
              async () => {
                const t = performance.now();
                try {
                  return await direct.transcribe(pcm, options);
                } finally {
                  insideEngine.push(performance.now() - t);
                }
              },
              { signal: options?.signal },
            ),
          dispose: async () => {},
        });
        old = withOld ? await OldEngine.start(model) : undefined;
        // Warm-up: page the model in, start the hosts' threads.
        await engine.transcribe(pcm, { language: 'en' });
        await post();
        await old?.transcribe(pcm);

        const times = { old: [] as number[], direct: [] as number[], http: [] as number[] };
        insideEngine.length = 0;
        for (let r = 0; r < RUNS; r++) {
          if (old && r < OLD_RUNS) {
            const t = performance.now();
            await old.transcribe(pcm);
            times.old.push(performance.now() - t);
          }
          let t = performance.now();
          await engine.transcribe(pcm, { language: 'en' });
          times.direct.push(performance.now() - t);
          t = performance.now();
          await post();
          times.http.push(performance.now() - t);
        }
        const d = median(times.direct);
        const h = median(times.http);
        // The part of each HTTP call spent outside the engine (upload, decoding, VAD, limiter,
        // response): on a shared machine the engine's own time swings by seconds between calls,
        // this does not.
        const outside = median(times.http.map((t, i) => t - insideEngine[i]!));
        console.log(`${shape} shape, ${WINDOW_SEC} s window, ${THREADS} threads, ${RUNS} runs (old engine ${OLD_RUNS}), medians:`);
        if (old) {
          const o = median(times.old);
          console.log(`  new engine ${secs(d)}   old @fugood engine ${secs(o)}   new ÷ old: ${(d / o).toFixed(3)}   (target ≤ 0.20)`);
        }
        console.log(`  HTTP ${secs(h)}   engine direct ${secs(d)}   HTTP ÷ direct: ${(h / d).toFixed(3)}   (target ≤ 1.10)`);
        console.log(
          `  HTTP time outside the engine: ${Math.round(outside)} ms   (direct + that) ÷ direct: ${((d + outside) / d).toFixed(3)}   ` +
            `engine inside HTTP calls: ${secs(median(insideEngine))}`,
        );
        figures.push({ shape, direct: d, http: h, old: old ? median(times.old) : null });
        console.log(
          `  RTF new engine: ${(d / 1000 / WINDOW_SEC).toFixed(3)}   all runs ms: ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map(Math.round)])))}`,
        );
      } finally {
        old?.dispose();
        await engine?.dispose();
        fs.rmSync(model, { force: true });
      }
    }
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
  process.exit(0);
}
