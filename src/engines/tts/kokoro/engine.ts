/**
 * The Kokoro-82M engine through kokoro-js (transformers.js + onnxruntime-node), fully offline:
 * remote models are disabled and the ONNX model is read from a local folder laid out like
 * `onnx-community/Kokoro-82M-v1.0-ONNX` (config.json, tokenizer.json, tokenizer_config.json,
 * onnx/model_quantized.onnx). The voice packs come with the kokoro-js npm package.
 *
 * Runs in this thread: onnxruntime computes on its own threads and the calls are async, and a
 * failure is an exception, not a crash. Concurrency is bounded by `options.concurrency`.
 * Inference cannot be interrupted: abort and timeout reject at once, the running sentence
 * finishes in the background and is dropped.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { KokoroTTS } from 'kokoro-js';
import { resample } from '../../../audio/resample.js';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import type { SynthesisRequest, TtsEngine, TtsEngineOptions, TtsVoice, VoiceRendering } from '../types.js';
import { abortError } from '../worker-pool/pool.js';
import { KOKORO_MODEL_NAME, KOKORO_SAMPLE_RATE, KOKORO_VOICE_MAP, KOKORO_VOICES } from './voices.js';

/** Files the model folder must hold. */
export const KOKORO_REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx'] as const;
/** Default time limit of one synthesis, ms. */
export const KOKORO_TIMEOUT_MS = 120_000;

/** Where the model folder is for these options: `model` as a path, else a cache name under `modelsDir`. */
export async function resolveKokoroFolder(options: Pick<TtsEngineOptions, 'model' | 'modelsDir'>): Promise<string> {
  const model = options.model ?? KOKORO_MODEL_NAME;
  const looksLikePath = path.isAbsolute(model) || model.startsWith('.') || model.includes('/') || model.includes(path.sep);
  if (looksLikePath) return path.resolve(model);
  const asGiven = path.resolve(model);
  if (await isDir(asGiven)) return asGiven;
  return path.join(options.modelsDir, model);
}

/** The required files missing from `dir`. */
export async function missingKokoroFiles(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const f of KOKORO_REQUIRED_FILES) {
    const s = await stat(path.join(dir, f)).catch(() => null);
    if (!s?.isFile()) missing.push(f);
  }
  return missing;
}

export class KokoroEngine implements TtsEngine {
  readonly id = 'kokoro';
  private readonly tts: KokoroTTS;
  private readonly limit: Semaphore;
  private readonly timeoutMs: number;
  private readonly ids: ReadonlySet<string>;
  private disposed = false;

  private constructor(tts: KokoroTTS, options: TtsEngineOptions) {
    this.tts = tts;
    this.limit = new Semaphore(Math.max(1, options.concurrency));
    this.timeoutMs = options.timeoutMs ?? KOKORO_TIMEOUT_MS;
    this.ids = new Set(KOKORO_VOICES.map((v) => v.id));
  }

  /** Loads the model; `engine_unavailable` naming `parley models pull kokoro-82m` when it is not there. */
  static async create(options: TtsEngineOptions): Promise<KokoroEngine> {
    const dir = await resolveKokoroFolder(options);
    const missing = await missingKokoroFiles(dir);
    if (missing.length > 0) {
      const custom = options.model !== undefined && options.model !== KOKORO_MODEL_NAME;
      throw ApiError.engineUnavailable(
        `The Kokoro TTS model is not installed: ${dir} lacks ${missing.join(', ')}. ` +
          `Run \`parley models pull ${KOKORO_MODEL_NAME}\`` +
          (custom ? `, or point tts.model at a folder laid out like onnx-community/Kokoro-82M-v1.0-ONNX.` : '.'),
      );
    }
    let kokoro: typeof import('kokoro-js');
    let transformers: typeof import('@huggingface/transformers');
    try {
      kokoro = await import('kokoro-js');
      // The same module instance kokoro-js imports (npm hoists it next to kokoro-js).
      transformers = await import('@huggingface/transformers');
    } catch (e) {
      throw ApiError.engineUnavailable('The kokoro engine needs the npm package kokoro-js (with onnxruntime-node): run `npm install kokoro-js`.', e);
    }
    // transformers.js reads models from `${localModelPath}/${id}/`. Its settings are global; set
    // them right before loading, and never allow a download.
    const { env } = transformers;
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${path.dirname(dir)}${path.sep}`;
    try {
      const tts = await kokoro.KokoroTTS.from_pretrained(path.basename(dir), { dtype: 'q8', device: 'cpu' });
      return new KokoroEngine(tts, options);
    } catch (e) {
      throw ApiError.engineUnavailable(`The Kokoro model in ${dir} could not be loaded; run \`parley models pull ${KOKORO_MODEL_NAME}\` to replace it.`, e);
    }
  }

  voices(): readonly TtsVoice[] {
    return KOKORO_VOICES;
  }

  languages(): readonly string[] {
    return ['en'];
  }

  defaultVoiceMap(): Readonly<Record<string, VoiceRendering>> {
    return KOKORO_VOICE_MAP;
  }

  async synthesize(request: SynthesisRequest): Promise<PcmAudio> {
    const { signal } = request;
    if (signal?.aborted) throw abortError(signal);
    const voice = request.rendering.voice;
    if (!this.ids.has(voice)) throw ApiError.invalidValue('voice', voice, [...this.ids]);
    const text = request.text.trim();
    if (text === '') return { samples: new Float32Array(0), sampleRate: KOKORO_SAMPLE_RATE };
    // Kokoro has no pitch control: pitch p is generated p times slower and played p times faster.
    const pitch = Math.min(2, Math.max(0.5, request.rendering.pitch ?? 1));
    const speed = Math.min(4, Math.max(0.25, (request.speed || 1) * (request.rendering.rate ?? 1))) / pitch;

    const release = await this.limit.acquire(signal);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const stopped = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(ApiError.internal(new Error(`kokoro: synthesis timed out after ${this.timeoutMs} ms`))), this.timeoutMs);
        onAbort = () => reject(abortError(signal));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      const work = this.generate(text, voice, speed, signal);
      work.catch(() => undefined); // dropped when stopped first
      const samples = await Promise.race([work, stopped]);
      const pcm: PcmAudio = { samples, sampleRate: KOKORO_SAMPLE_RATE };
      if (pitch === 1 || samples.length === 0) return pcm;
      const played = Math.round((KOKORO_SAMPLE_RATE * pitch) / 100) * 100;
      return resample({ samples, sampleRate: played }, KOKORO_SAMPLE_RATE);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      release();
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const model = this.tts.model as { dispose?: () => Promise<unknown> };
    await model.dispose?.();
  }

  /** All sentences of `text` (kokoro-js splits them; one call is capped at 510 tokens), joined. */
  private async generate(text: string, voice: string, speed: number, signal: AbortSignal | undefined): Promise<Float32Array> {
    const parts: Float32Array[] = [];
    try {
      for await (const chunk of this.tts.stream(text, { voice: voice as never, speed })) {
        parts.push(chunk.audio.audio);
        if (signal?.aborted) break;
      }
    } catch (e) {
      throw ApiError.internal(e);
    }
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** At most `n` holders at once; waiting is abortable. */
class Semaphore {
  private free: number;
  private readonly waiting: { resolve: () => void }[] = [];

  constructor(n: number) {
    this.free = n;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return () => this.release();
    }
    await new Promise<void>((resolve, reject) => {
      const entry = { resolve };
      this.waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            reject(abortError(signal));
          }
        },
        { once: true },
      );
    });
    return () => this.release();
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.free++;
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}
