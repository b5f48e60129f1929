/**
 * What the pipeline needs from the process it runs in, as small interfaces the composition root
 * (src/runtime/) implements: the engines of one model pipeline, the reply-audio store, the usage
 * recorder, and who is asking. Nothing here knows about HTTP.
 */
import type { AsrEngine } from '../engines/asr/types.js';
import type { LlmEngine } from '../engines/llm/types.js';
import type { VadEngine } from '../engines/vad/types.js';
import type { VoiceAnalyzer } from '../engines/voice/types.js';
import type { EngineMeter, Limiter } from '../lib/limiter.js';
import type { SafetyChecker } from '../safety/checker.js';
import type { Watermarker } from '../safety/watermark/watermarker.js';
import type { UsageEntry } from '../store/usage.js';
import type { Speaker } from './speak.js';
import type { Understander } from './understand.js';

/**
 * The engines one model name resolves to (LocalAI's idea: a model is a pipeline of engines). Every
 * engine handed out here is already bounded by the process's one {@link Limiter}: each call takes
 * exactly one slot, so callers never wrap them again.
 */
export interface Engines {
  /** The pipeline's id: `default`, or the config alias that defines it. */
  readonly id: string;
  /** Speech synthesis with OpenAI voice names. */
  readonly speaker: Speaker;
  /** The speech recogniser, loaded on first use (rejects with `engine_unavailable`). */
  asr(): Promise<AsrEngine>;
  /** The voice activity detector, loaded on first use. */
  vad(): Promise<VadEngine>;
  /** The voice analyzer (tone, sentiment), loaded on first use. */
  analyzer(): Promise<VoiceAnalyzer>;
  /** The language model, loaded on first use (rejects with `engine_unavailable`). */
  llm(): Promise<LlmEngine>;
  /** The content filters of this pipeline (prompt side, reply passages before they are spoken, moderations). */
  readonly safety: SafetyChecker;
  /** The process's watermark: every voice made goes through `watermark.begin(…)` as the speaking path's `transform`. */
  readonly watermark: Watermarker;
  /** Understands input audio (transcript + voice analysis), once per distinct clip. */
  readonly understander: Understander;
  /** The process's one bound on engine work (for work that is not an engine call, e.g. decoding uploads). */
  readonly limiter: Limiter;
}

/** Reply audio by id, for multi-turn chat (`{"role": "assistant", "audio": {"id"}}`). */
export interface AudioIdStore {
  /** Keeps a reply for `ttlSec`; `id` may be chosen by the caller (a stream announces it first). */
  put(entry: { id?: string; format: string; data: Uint8Array; transcript: string; ttlSec: number; owner: string | null }): { id: string; expiresAt: number };
  /** The reply, or undefined when unknown, expired or another owner's. */
  get(id: string, owner: string | null): { id: string; transcript: string; format: string; data: Uint8Array; expiresAt: number } | undefined;
}

export type { UsageEntry } from '../store/usage.js';

/**
 * What a request measured about itself, for the metrics (not stored): latencies in seconds, the
 * real-time factors of its engines, and whether the content filters stopped it.
 */
export interface RequestTimings {
  /** From the start of the request to the first text token of the reply. */
  firstTokenSec?: number;
  /** From the start of the request to the first audio bytes. */
  firstAudioSec?: number;
  /** Gaps between text tokens of the reply. */
  interTokenSec?: readonly number[];
  /** Recognition time ÷ audio duration. */
  asrRtf?: number;
  /** Synthesis time ÷ audio duration. */
  ttsRtf?: number;
  /** The content filters stopped the prompt (400) or cut the reply. */
  filtered?: 'prompt' | 'reply';
}

/** Records what a request used (the ledger) and what it measured (the metrics). */
export interface UsageRecorder {
  record(entry: UsageEntry, timings?: RequestTimings): void;
}

/** Who is asking and for how long the work may run: computed once per request, used by every store. */
export interface RequestScope {
  /**
   * The owner of what the request creates or reads (files, batches, audio ids, usage): an opaque id
   * of the caller's API key (its sha256), or null when the server runs without keys.
   */
  readonly owner: string | null;
  /** The request's id (`req_…`), for usage and logs. */
  readonly requestId: string;
  /** Aborts when the client goes away or the server gives up at shutdown. */
  readonly signal: AbortSignal;
  /** A batch line (usage is flagged `batch`). */
  readonly batch?: boolean;
  /** Counts the engine core-seconds of this request's jobs (see `withMeter`); absent = not metered. */
  readonly meter?: EngineMeter;
  /** When the request started (`performance.now()` ms), for time to first token/audio. */
  readonly startedAt?: number;
}
