import type { BatchStore } from '../batch/batch-store.js';
import type { Config } from '../config/index.js';
import type { AsrEngine } from '../engines/asr/types.js';
import type { LlmEngine } from '../engines/llm/types.js';
import type { VadEngine } from '../engines/vad/types.js';
import type { VoiceAnalyzer } from '../engines/voice/types.js';
import type { ChatPart, ChatUsage } from '../pipeline/chat/types.js';
import type { ModelRegistry } from '../pipeline/models.js';
import type { Speaker } from '../pipeline/speak.js';
import type { Understanding } from '../pipeline/understand.js';
import type { Limiter } from '../runtime/limiter.js';
import type { Store } from '../store/db.js';
import type { UsageSummary } from '../store/usage.js';

/** What the HTTP layer is handed: the pipeline's services, built once at start. */
export interface Services {
  config: Config;
  models: ModelRegistry;
  /** Speech synthesis with OpenAI voice names (bounded by `limiter` inside). */
  speaker: Speaker;
  /** Bounds engine work to the cores; live requests use priority 0. */
  limiter: Limiter;
  /** The speech recogniser, loaded on first use (rejects with `engine_unavailable`). */
  asr(): Promise<AsrEngine>;
  /** The voice activity detector, loaded on first use. */
  vad(): Promise<VadEngine>;
  /** The voice analyzer (tone, sentiment), loaded on first use. */
  analyzer(): Promise<VoiceAnalyzer>;
  /** The language model, loaded on first use (rejects with `engine_unavailable`). */
  llm(): Promise<LlmEngine>;
  /** Understands one input-audio part (transcript + voice analysis), answering repeats from a cache. */
  understand(part: Extract<ChatPart, { type: 'audio' }>, signal?: AbortSignal): Promise<Understanding>;
  /** Reply audio kept for multi-turn (`audio.id`), one hour. */
  audioStore: AudioIdStore;
  /** The durable store (SQLite + files) of this process: `store.files` backs /v1/files. */
  store: Store;
  /** Batches and their lines (backs /v1/batches; the batch worker runs them). */
  batches: BatchStore;
  /** The usage ledger (token and audio accounting per request). */
  usage?: UsageRecorder;
  /** `starting` until engines are checked, `ready`, then `draining` on shutdown. */
  state(): 'starting' | 'ready' | 'draining';
  /** Aborted when the server gives up on in-flight work at shutdown. */
  shutdownSignal: AbortSignal;
}

/** Reply audio by id, for multi-turn chat. */
export interface AudioIdStore {
  /** Keeps a reply; `id` may be chosen by the caller (streaming announces it first). */
  put(entry: { id?: string; format: string; data: Uint8Array; transcript: string; ttlSec: number; apiKey?: string }): { id: string; expiresAt: number };
  /** The reply, or undefined when unknown, expired or another key's. */
  get(id: string, apiKey?: string): { id: string; transcript: string; format: string; data: Uint8Array; expiresAt: number } | undefined;
}

/** Records what a request cost, and sums it up. */
export interface UsageRecorder {
  record(entry: { requestId: string; apiKey?: string; endpoint: string; model: string; usage: ChatUsage }): void;
  /** Totals (and the OpenAI-price equivalent) for one key, or for all when `apiKey` is undefined. */
  summary(query: { since?: number; until?: number; apiKey?: string }): UsageSummary;
}
