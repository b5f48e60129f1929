import type { PcmAudio } from '../../audio/types.js';

/** One stretch of speech, in seconds from the start of the audio. */
export interface SpeechSegment {
  /** Where speech starts (padding included), seconds. */
  startSec: number;
  /** Where speech ends (padding included), seconds. */
  endSec: number;
}

/** Tuning of one detection; the defaults are Silero's own (`get_speech_timestamps`). */
export interface VadDetectOptions {
  /** Speech probability at or above which a frame is speech (0–1, default 0.5). */
  threshold?: number;
  /** Shorter speech runs are dropped, ms (default 250). */
  minSpeechMs?: number;
  /** Silence must last this long to end a segment, ms (default 100). */
  minSilenceMs?: number;
  /** Added before and after each segment (halved between close segments), ms (default 30). */
  padMs?: number;
  /** Cancels the detection; it then rejects with `ApiError.cancelled()`. */
  signal?: AbortSignal;
}

/** A voice activity detector. Implementations live in one folder each under engines/vad/. */
export interface VadEngine {
  /** Engine id as configured (`silero`). */
  readonly id: string;
  /** Speech segments of `pcm` (any sample rate), sorted, non-overlapping. */
  detect(pcm: PcmAudio, options?: VadDetectOptions): Promise<SpeechSegment[]>;
  /** Free the model. Later `detect` calls load it again. */
  dispose(): Promise<void>;
}

/** Settings of a VAD engine. */
export interface VadEngineOptions {
  /** Model file; default: the one the engine ships with. */
  model?: string;
}

/** What an engine folder exports: a lazily-imported factory. */
export interface VadEngineDescriptor {
  /** Engine id (`silero`). */
  id: string;
  /** One line for `parley models` and the README. */
  description: string;
  /** Create the engine; the model is loaded on first use. */
  create(options?: VadEngineOptions): Promise<VadEngine>;
}
