/**
 * One text-to-speech engine for sherpa-onnx's OfflineTts models (Kokoro, Piper/VITS), run in a
 * speech host (../../speech-host/): a model whose metadata sherpa cannot read, or an ONNX Runtime
 * error while speaking, ends the host — that passage fails with 503, the next one starts a fresh
 * host. Passages are spoken one at a time (the pipeline calls `synthesize` per sentence).
 *
 * Speed goes to the model (Kokoro and VITS both take it); pitch has no model control, so a voice
 * with pitch p is generated p times slower and played p times faster (resampled), as the old
 * Kokoro engine did.
 */
import { resample } from '../../../audio/resample.js';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import { SpeechHost, type SpeechModel } from '../../speech-host/client.js';
import type { SynthesisRequest, TtsEngine, TtsVoice, VoiceRendering } from '../types.js';
import { abortError } from '../worker-pool/pool.js';

/** Default time limit of one passage, ms (a cold host loads its model first). */
export const SHERPA_TTS_TIMEOUT_MS = 120_000;

/** A voice of a sherpa model: a speaker id, and the espeak-ng language it reads with. */
export interface SherpaVoice extends TtsVoice {
  /** Speaker id in the model. */
  sid: number;
  /** espeak-ng voice for phonemisation when it differs from the model's default (Kokoro v1.0: `en` for British voices, `es`, …). */
  lang?: string;
}

export interface SherpaTtsSettings {
  /** Engine id (`kokoro`, `piper`). */
  id: string;
  model: SpeechModel;
  voices: readonly SherpaVoice[];
  /** All 13 OpenAI names → renderings of `voices`. */
  voiceMap: Readonly<Record<string, VoiceRendering>>;
  /** Time limit of one passage, ms. */
  timeoutMs?: number;
  /** The host's RSS ceiling. */
  maxRssBytes?: number;
}

export class SherpaTtsEngine implements TtsEngine {
  readonly id: string;
  /** The speech host (diagnostics, benchmarks). */
  readonly host: SpeechHost;
  private readonly byId: ReadonlyMap<string, SherpaVoice>;
  private readonly langs: readonly string[];
  private disposed = false;

  private constructor(
    private readonly settings: SherpaTtsSettings,
    /** Output rate the model reported when it loaded. */
    readonly sampleRate: number,
    host: SpeechHost,
  ) {
    this.id = settings.id;
    this.host = host;
    this.byId = new Map(settings.voices.map((v) => [v.id, v]));
    this.langs = [...new Set(settings.voices.map((v) => v.language.split('-')[0]!.toLowerCase()))];
  }

  /** Starts the host and loads the model (its sample rate is read from it). */
  static async create(settings: SherpaTtsSettings): Promise<SherpaTtsEngine> {
    const host = new SpeechHost({ name: settings.id, ...(settings.maxRssBytes !== undefined ? { maxRssBytes: settings.maxRssBytes } : {}) });
    try {
      const info = await host.load(settings.model, { timeoutMs: settings.timeoutMs ?? SHERPA_TTS_TIMEOUT_MS });
      if (!info.sampleRate || info.sampleRate <= 0)
        throw ApiError.engineUnavailable(`The model '${settings.model.name}' reports no sample rate. ${settings.model.fix}`);
      return new SherpaTtsEngine(settings, info.sampleRate, host);
    } catch (e) {
      await host.dispose();
      throw e;
    }
  }

  voices(): readonly TtsVoice[] {
    return this.settings.voices;
  }

  languages(): readonly string[] {
    return this.langs;
  }

  defaultVoiceMap(): Readonly<Record<string, VoiceRendering>> {
    return this.settings.voiceMap;
  }

  /** Process id of the current speech host (tests, diagnostics). */
  get hostPid(): number | undefined {
    return this.host.pid;
  }

  async synthesize(request: SynthesisRequest): Promise<PcmAudio> {
    const { signal } = request;
    if (signal?.aborted) throw abortError(signal);
    if (this.disposed) throw ApiError.internal(new Error(`${this.id} engine has been disposed`));
    const voice = this.byId.get(request.rendering.voice);
    if (!voice) throw ApiError.invalidValue('voice', request.rendering.voice, [...this.byId.keys()]);
    const text = request.text.trim();
    if (text === '') return { samples: new Float32Array(0), sampleRate: this.sampleRate };
    const pitch = Math.min(2, Math.max(0.5, request.rendering.pitch ?? 1));
    const speed = Math.min(4, Math.max(0.25, (request.speed || 1) * (request.rendering.rate ?? 1))) / pitch;
    let audio: { samples: Float32Array; sampleRate: number };
    try {
      audio = await this.host.synthesize(
        this.settings.model,
        { text, sid: voice.sid, speed, ...(voice.lang ? { lang: voice.lang } : {}) },
        { timeoutMs: this.settings.timeoutMs ?? SHERPA_TTS_TIMEOUT_MS, ...(signal ? { signal } : {}) },
      );
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw e;
    }
    const samples = withoutNaN(audio.samples);
    const pcm: PcmAudio = { samples, sampleRate: audio.sampleRate };
    if (pitch === 1 || samples.length === 0) return pcm;
    const played = Math.round((audio.sampleRate * pitch) / 100) * 100;
    return resample({ samples, sampleRate: played }, audio.sampleRate);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.host.dispose();
  }
}

/**
 * `samples` with NaN replaced by silence. The int8 Kokoro v1.0 export is reported to return NaN
 * audio for a few short sentences; NaN must not reach the encoders.
 */
function withoutNaN(samples: Float32Array): Float32Array {
  if (!samples.some(Number.isNaN)) return samples;
  return samples.map((s) => (Number.isNaN(s) ? 0 : s));
}
