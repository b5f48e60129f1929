import type { PcmAudio } from '../../audio/types.js';

/** What a recogniser can do beyond plain transcription. */
export interface AsrCapabilities {
  /** Can turn speech in another language into English text (OpenAI's translations endpoint). */
  translate: boolean;
  /** Can time individual words (`timestamp_granularities[]=word`). */
  wordTimestamps: boolean;
  /** Can tell which language is spoken when none is given. */
  languageDetection: boolean;
  /** Reports the emotion heard in the voice and non-speech events (SenseVoice does, in the same pass). */
  emotion?: boolean;
}

/** Options of one recognition call. All optional; engines ignore what they cannot use. */
export interface AsrTranscribeOptions {
  /** ISO-639-1 code of the spoken language (`en`, `de`); `auto` or absent = detect when the engine can. */
  language?: string;
  /** Text that precedes the audio or spells unusual words (OpenAI's `prompt`); a hint, not a command. */
  prompt?: string;
  /** Sampling temperature 0–1; 0 (default) = greedy with the engine's own fallback. */
  temperature?: number;
  /** `transcribe` (default) keeps the language; `translate` outputs English. */
  task?: 'transcribe' | 'translate';
  /** Also return `words` with start/end times. */
  wordTimestamps?: boolean;
  /** Cancels the call: a queued call leaves the queue, a running one is stopped. Rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Longest the engine may work on this call (queue time excluded); then it rejects with a 504 ApiError. */
  timeoutMs?: number;
}

/** One stretch of recognised speech (OpenAI's verbose_json segment, camelCased). */
export interface TranscriptSegment {
  /** 0-based index in the transcript. */
  id: number;
  /** Start, seconds from the beginning of the audio. */
  start: number;
  /** End, seconds from the beginning of the audio (≥ start, ≤ the audio's duration). */
  end: number;
  /** The text, as the engine wrote it (whisper puts a leading space). */
  text: string;
  /** Mean log-probability of the segment's tokens, when the engine reports it. */
  avgLogprob?: number;
  /** Probability that the segment is silence or noise, when the engine reports it. */
  noSpeechProb?: number;
  /** Temperature the segment was decoded at, when the engine reports it. */
  temperature?: number;
  /** Token ids, when the engine reports them. */
  tokens?: number[];
  /** The emotion heard in this segment's voice, when the engine reports one. */
  emotion?: HeardEmotion;
  /** Non-speech sounds heard in this segment, when the engine reports them. */
  events?: HeardEvent[];
}

/** Emotions an engine can hear in a voice (SenseVoice: happy, sad, angry, neutral; others add more). */
export const HEARD_EMOTIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
export type HeardEmotionLabel = (typeof HEARD_EMOTIONS)[number];

/** An emotion heard in the voice by an acoustic model (not guessed from the words). */
export interface HeardEmotion {
  label: HeardEmotionLabel;
  /** 0–1: the model's probability for the label, or the share of segments that carried it. */
  confidence: number;
}

/** A non-speech sound an engine reports (SenseVoice: laughter, applause, BGM (music), crying, coughing, sneezing). */
export interface HeardEvent {
  /** Lowercase name: `laughter`, `applause`, `music`, `crying`, `coughing`, `sneezing`, `breathing`, … */
  label: string;
  /** Seconds from the start of the audio, when known. */
  start?: number;
  end?: number;
  /** 0–1, when the engine reports one. */
  confidence?: number;
}

/** One timed word. */
export interface TranscriptWord {
  /** The word, without surrounding spaces (punctuation stays attached as the engine wrote it). */
  word: string;
  /** Start, seconds. */
  start: number;
  /** End, seconds. */
  end: number;
}

/** The result of one recognition call. */
export interface Transcript {
  /** The whole text, trimmed. */
  text: string;
  /** ISO-639-1 code of the spoken language (requested, detected, or the engine's only language). */
  language: string;
  /** Length of the input audio, seconds. */
  durationSec: number;
  /** Timed segments in order; empty when nothing was recognised. */
  segments: TranscriptSegment[];
  /** Timed words, present when `wordTimestamps` was asked for and the engine can. */
  words?: TranscriptWord[];
  /** The emotion heard over the whole call (the engine's, or the longest segments' majority), when reported. */
  emotion?: HeardEmotion;
  /** Non-speech sounds heard (laughter, applause, music…), when the engine reports them. */
  events?: HeardEvent[];
}

/** A speech recogniser. Implementations live in one folder each under engines/asr/. */
export interface AsrEngine {
  /** Engine id (`whisper`, `pocketsphinx`). */
  readonly id: string;
  /** What the engine can do with the loaded model. */
  readonly capabilities: AsrCapabilities;
  /** Languages it recognises (ISO-639-1 codes). */
  languages(): readonly string[];
  /**
   * Recognise speech in `pcm` (mono, any sample rate: the engine resamples to what it needs).
   * Calls are queued and run one at a time. Rejects with an ApiError on failure (`engine_timeout`
   * 504 after `timeoutMs`, 400 `invalid_value` for an unknown language), with `signal.reason` when aborted.
   */
  transcribe(pcm: PcmAudio, options?: AsrTranscribeOptions): Promise<Transcript>;
  /** Stop everything and free the model; queued and running calls reject. Safe to call twice. */
  dispose(): Promise<void>;
}

/** Settings every ASR engine accepts. */
export interface AsrEngineOptions {
  /** Model: a file path or a model cache name (whisper); pocketsphinx: a model folder laid out like the Debian one. */
  model?: string;
  /** Folder of the model cache. */
  modelsDir: string;
  /** CPU threads one recognition may use. */
  threads: number;
  /** Turns a model cache name into a file path (the cache's resolver). Default: the name is a path. */
  resolveModel?: (name: string) => string | Promise<string>;
  /** Default per-call timeout; default: 120 s + 10 × the audio's duration. */
  timeoutMs?: number;
}

/** Whether an engine can run here, without loading it. */
export interface AsrAvailability {
  available: boolean;
  /** When unavailable: what is missing and what to run, for the `engine_unavailable` message. */
  reason?: string;
}

/** What an engine folder exports: cheap to import, the heavy parts load in `create`. */
export interface AsrEngineDescriptor {
  /** Engine id as configured. */
  id: string;
  /** One line for the CLI and the README. */
  description: string;
  /** Checks files and libraries without loading a model. */
  probe(options: AsrEngineOptions): Promise<AsrAvailability>;
  /** Loads the engine; rejects with `engine_unavailable` when a model or library is missing. */
  create(options: AsrEngineOptions): Promise<AsrEngine>;
}
