import crypto from 'node:crypto';
import fs from 'node:fs';
import { BatchStore } from '../batch/batch-store.js';
import type { Config } from '../config/index.js';
import { Admission } from '../lib/admission.js';
import { Limiter } from '../lib/limiter.js';
import { type Capability, DEFAULT_PIPELINE, ModelRegistry } from '../pipeline/models.js';
import { openStore } from '../store/db.js';
import { ModelCache } from '../store/model-cache/cache.js';
import { configuredPipelines, EngineHost, type MutableEngines } from './engines.js';
import { ParleyMetrics, serveMetrics } from './metrics.js';
import type { Services } from './services.js';
import type { VoiceTable } from './speaker.js';

/** Everything the server and the CLI share for one process: engines, limits, stores. */
export interface Runtime {
  services: Services;
  /** The OpenAI-voice map of the default pipeline's TTS engine, for `parley voices`. */
  voiceTable(): VoiceTable;
  /** Health turns 200. */
  markReady(): void;
  /** Health turns 503; new work is still accepted by routes already running. */
  beginDrain(): void;
  /** Cancels every in-flight engine job (forced shutdown). */
  abortInFlight(): void;
  /** Frees every engine and closes the store. */
  close(): Promise<void>;
}

/**
 * How many engine jobs of one kind may run at once on `capacity` slots: one generation (one LLM
 * context) and one recognition (one decoder) at a time; synthesis, VAD, analysis and decoding may
 * take every slot. See runtime/README.md for the policy and its measurements.
 */
export function perKindCaps(capacity: number) {
  return { llm: 1, asr: 1, tts: capacity, vad: capacity, analysis: capacity, decode: capacity } as const;
}

/**
 * The composition root: builds the limiter, the store, and every pipeline's engines (the TTS voice
 * maps are checked now — a bad map stops the start; everything else loads on first use). Engine
 * lifecycle lives here and nowhere else.
 */
export async function createRuntime(config: Config): Promise<Runtime> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  let metrics: ParleyMetrics | undefined;
  const limiter = new Limiter({
    capacity: config.concurrency,
    perKind: perKindCaps(config.concurrency),
    onStart: (kind, waitedMs) => metrics?.onJobStart(kind, waitedMs),
    onFinish: (kind, busySec) => metrics?.onJobFinish(kind, busySec),
  });
  if (config.metrics.enabled) metrics = new ParleyMetrics({ limiter });
  const shutdown = new AbortController();
  const cache = new ModelCache(config.modelsDir!, { offline: config.offline, baseUrl: config.modelsMirror });
  const host = new EngineHost(config, limiter, cache);
  if (metrics) host.onSafetyEvent = metrics.onSafetyEvent;

  const aliases: Record<string, string> = {};
  const pipelineCapabilities: Record<string, Capability> = {};
  for (const [name, value] of Object.entries(config.models)) {
    if (typeof value === 'string') aliases[name] = value;
    else pipelineCapabilities[name] = value.capability;
  }
  const models = new ModelRegistry(['speech', 'transcription', 'chat'], aliases, pipelineCapabilities);
  const dangling = models.danglingAliases();
  if (dangling.length > 0) throw new Error(`model aliases name models this server does not serve: ${dangling.join(', ')}`);

  const pipelines = new Map<string, MutableEngines>();
  try {
    for (const [id, settings] of configuredPipelines(config)) pipelines.set(id, await host.pipeline(id, settings));
  } catch (error) {
    await host.dispose();
    throw error;
  }
  const defaultEngines = pipelines.get(DEFAULT_PIPELINE)!;
  const store = openStore({ dataDir: config.dataDir });
  const stopSweeper = store.audio.startSweeper();
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (metrics && config.metrics.port !== undefined) {
    try {
      metricsServer = await serveMetrics(metrics, config.metrics.host ?? config.host, config.metrics.port);
    } catch (error) {
      stopSweeper();
      store.close();
      await host.dispose();
      throw new Error(`cannot serve metrics on port ${config.metrics.port}: ${(error as Error).message}`);
    }
  }
  const { coreHourUsd } = config.usage;

  let state: 'starting' | 'ready' | 'draining' = 'starting';
  const services: Services = {
    config,
    models,
    engines: (model) => (model === undefined ? defaultEngines : (pipelines.get(models.find(model)?.pipeline ?? DEFAULT_PIPELINE) ?? defaultEngines)),
    limiter,
    admission: {
      chat: new Admission(config.limits.inFlight.chat ?? 2 * config.concurrency),
      speech: new Admission(config.limits.inFlight.speech ?? 8 * config.concurrency),
      transcription: new Admission(config.limits.inFlight.transcription ?? 4 * config.concurrency),
    },
    audioIds: {
      put: (entry) => store.audio.put(entry),
      get: (id, owner) => store.audio.get(id, owner),
    },
    usage: {
      record: (entry, timings) => {
        if (config.usage.enabled) store.usage.record(entry);
        metrics?.usage(entry, timings, coreHourUsd);
      },
      summary: ({ since, until, owner }) => store.usage.summary({ since, until, owner: owner ?? undefined, coreHourUsd }),
      buckets: (query) => store.usage.buckets({ ...query, coreHourUsd }),
    },
    metrics,
    metricsPort: () => metricsServer?.port,
    store,
    batches: new BatchStore(store),
    state: () => state,
    shutdownSignal: shutdown.signal,
    internalToken: crypto.randomBytes(32).toString('hex'),
  };
  return {
    services,
    voiceTable: () => defaultEngines.voiceTable(),
    markReady: () => {
      state = 'ready';
    },
    beginDrain: () => {
      state = 'draining';
    },
    abortInFlight: () => shutdown.abort(new DOMException('server shutting down', 'AbortError')),
    close: async () => {
      state = 'draining';
      stopSweeper();
      await metricsServer?.close();
      await host.dispose();
      store.close();
    },
  };
}
