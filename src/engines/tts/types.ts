import type { PcmAudio } from '../../audio/types.js';

/** A voice an engine really has. */
export interface TtsVoice {
  /** The engine's own voice id, e.g. `slt` or `af_alloy`. */
  id: string;
  /** BCP-47-ish language tag, e.g. `en-US`, `de`. */
  language: string;
  /** Perceived gender, when the engine says. */
  gender?: 'female' | 'male';
}

/** How an OpenAI voice name is rendered by one engine: a real voice plus optional variations. */
export interface VoiceRendering {
  /** The engine voice id (must be in `engine.voices()`). */
  voice: string;
  /** Pitch factor applied to the voice's mean pitch (1 = unchanged). */
  pitch?: number;
  /** Speaking-rate factor (1 = unchanged), multiplied with the request's `speed`. */
  rate?: number;
}

export interface SynthesisRequest {
  /** One sentence or short passage of plain text. */
  text: string;
  /** How to render the voice. */
  rendering: VoiceRendering;
  /** Speed factor 0.25–4.0 (OpenAI's `speed`). */
  speed: number;
  /** Language of the text when known (BCP-47), for engines that switch by language. */
  language?: string;
  /** Free-form style instructions (OpenAI's `instructions`); engines use what they can. */
  instructions?: string;
  /** Cancels the synthesis. */
  signal?: AbortSignal;
  /**
   * The sample rate the caller will resample to anyway (24 kHz for Parley's outputs). Engines that
   * run in worker threads resample there, off the main thread; others may ignore it (the caller
   * checks `sampleRate` of the result).
   */
  outputRate?: number;
}

/** A text-to-speech engine. Implementations live in one folder each under engines/tts/. */
export interface TtsEngine {
  /** Engine id as configured (`flite`, `espeak-ng`, `kokoro`). */
  readonly id: string;
  /** Every voice the engine has. */
  voices(): readonly TtsVoice[];
  /**
   * Whether `id` can be used as `VoiceRendering.voice`. Optional: without it, membership in
   * `voices()`. Engines whose voice ids combine parts (espeak-ng's `de+f3`) implement it.
   */
  hasVoice?(id: string): boolean;
  /**
   * The concrete voice id `voice` becomes for text in `language`. Optional: engines that switch
   * voice by language implement it (espeak-ng: `en-us+f3` for German → `de+f3`); otherwise `voice`.
   */
  voiceIdFor?(voice: string, language?: string): string;
  /** Languages it can speak (BCP-47 primary tags, e.g. `en`, `de`). */
  languages(): readonly string[];
  /** The default OpenAI-name → rendering map of this engine (all 13 OpenAI/Azure names). */
  defaultVoiceMap(): Readonly<Record<string, VoiceRendering>>;
  /** Synthesise one passage. Rejects with ApiError on failure; with an AbortError when aborted. */
  synthesize(request: SynthesisRequest): Promise<PcmAudio>;
  /** Free whatever the engine holds. */
  dispose(): Promise<void>;
}

/** What an engine folder exports: a lazily-imported factory. */
export interface TtsEngineDescriptor {
  id: string;
  /** One line for `parley voices` and the README. */
  description: string;
  /**
   * Whether the engine can run here, checking files and libraries without loading a model (`auto`
   * and `parley doctor` use it). Absent: the engine ships its data and always can.
   */
  probe?(options: TtsEngineOptions): Promise<{ available: boolean; reason?: string }>;
  create(options: TtsEngineOptions): Promise<TtsEngine>;
}

export interface TtsEngineOptions {
  /** Model path or cache name (engines with weights). */
  model?: string;
  /** Folder of the model cache, to resolve names. */
  modelsDir: string;
  /** Max parallel syntheses the engine should allow. */
  concurrency: number;
  /** Time limit of one synthesis, ms (engine default when absent). */
  timeoutMs?: number;
}

/** The OpenAI and Azure voice names, in OpenAI's documentation order. */
export const OPENAI_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as const;
