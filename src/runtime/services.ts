import type { BatchStore } from '../batch/batch-store.js';
import type { Config } from '../config/index.js';
import type { LimitCounters } from '../keys/counters.js';
import type { KeyRegistry } from '../keys/registry.js';
import type { Admission } from '../lib/admission.js';
import type { Limiter } from '../lib/limiter.js';
import type { AudioIdStore, UsageRecorder } from '../pipeline/context.js';
import type { ModelRegistry } from '../pipeline/models.js';
import type { Store } from '../store/db.js';
import type { ModelCache } from '../store/model-cache/cache.js';
import type { UsageBucketQuery, UsageGroup, UsageSummary } from '../store/usage.js';
import type { RuntimeLog } from './auto-pull.js';
import type { MutableEngines } from './engines.js';
import type { ParleyMetrics } from './metrics.js';
import type { ModelPulls } from './model-pulls.js';

/**
 * Everything one process shares, built once at start by the composition root (`createRuntime`)
 * and handed to the HTTP routes, the batch worker and the CLI.
 */
/** How one capability is served right now (`/health`'s details). */
export interface LiveCapability {
  capability: string;
  /** The engine that serves it (or will, once its model is there). */
  engine: string;
  /** The engine loaded in this process: TTS at start, the others on first use; null until then. */
  live: string | null;
  state: 'ready' | 'missing' | 'upstream' | 'downloading';
  /** Why this engine, or what is missing and what to run. */
  reason: string;
}

export interface Services {
  config: Config;
  /** The model names served and the pipeline each runs on. */
  models: ModelRegistry;
  /** The engines `model` runs on (an id or alias); the default pipeline when absent or unknown. */
  engines(model?: string): MutableEngines;
  /** The one bound on engine work in this process; live requests go before batch work. */
  limiter: Limiter;
  /** How many live requests of each kind may be in progress; past that they get a 503 at once. */
  admission: Record<'chat' | 'speech' | 'transcription', Admission>;
  /** Reply audio kept for multi-turn chat (`audio.id`), one hour. */
  audioIds: AudioIdStore;
  /** The usage ledger (the recorder also feeds the metrics). */
  usage: UsageRecorder & {
    /** Totals (the OpenAI-price equivalent and Parley's own cost) for one owner, or for everybody when `owner` is undefined. */
    summary(query: { since?: number; until?: number; owner?: string | null; apiKeyIds?: readonly string[] }): UsageSummary;
    /** Usage in time buckets (OpenAI's organization usage and costs), priced at the configured $/core-hour. */
    buckets(query: Omit<UsageBucketQuery, 'coreHourUsd'>): UsageGroup[];
  };
  /** The Prometheus metrics of this process (absent when `metrics.enabled` is off). */
  metrics: ParleyMetrics | undefined;
  /** The port `/metrics` is served on alone (config `metrics.port`), once listening; undefined = the API port. */
  metricsPort(): number | undefined;
  /** The durable store (SQLite + files) of this process: `store.files` backs /v1/files. */
  store: Store;
  /** Batches and their lines (backs /v1/batches; the batch worker runs them). */
  batches: BatchStore;
  /** API keys an admin handed out (SQLite; mirrored into Redis with PARLEY_QUEUE=redis://…). */
  keys: KeyRegistry;
  /** Those keys' rate-limit counters: SQLite in embedded mode, Redis (shared by every server) with PARLEY_QUEUE. */
  keyCounters: LimitCounters;
  /** `starting` until engines are checked, `ready`, then `draining` on shutdown. */
  state(): 'starting' | 'ready' | 'draining';
  /** Aborted when the server gives up on in-flight work at shutdown. */
  shutdownSignal: AbortSignal;
  /**
   * A secret of this process (never stored, never sent out): a request injected with it in
   * `x-parley-internal` acts for the owner named in `x-parley-owner` — how a batch line runs as the
   * key that created the batch without that key being kept anywhere.
   */
  internalToken: string;
  /** The model cache of this process. */
  cache: ModelCache;
  /** Model downloads running in this process (admin pulls and first-run downloads share them). */
  pulls: ModelPulls;
  /** Where the runtime logs (the server sets its logger here once built). */
  log: RuntimeLog;
  /** Each capability's engine, the one loaded, and why (computed without loading anything; cached a few seconds). */
  capabilities(): Promise<LiveCapability[]>;
}
