import crypto from 'node:crypto';
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { BatchStore } from '../batch/batch-store.js';
import { isDeadLocalWorker, newWorkerId, retireWorkerId } from '../batch/workers.js';
import type { Config } from '../config/index.js';
import { type LimitCounters, RedisCounters, SqliteCounters } from '../keys/counters.js';
import { KeyRegistry } from '../keys/registry.js';
import { Admission } from '../lib/admission.js';
import { Limiter } from '../lib/limiter.js';
import { type Capability, DEFAULT_PIPELINE, ModelRegistry } from '../pipeline/models.js';
import { loadWatermarkKey } from '../safety/watermark/key.js';
import { Watermarker } from '../safety/watermark/watermarker.js';
import { openStore } from '../store/db.js';
import { ModelCache } from '../store/model-cache/cache.js';
import type { CatalogueEntry } from '../store/model-cache/catalogue.js';
import { AutoPull, type RuntimeLog } from './auto-pull.js';
import { configuredPipelines, EngineHost, type MutableEngines } from './engines.js';
import { ParleyMetrics, serveMetrics } from './metrics.js';
import { ModelPulls } from './model-pulls.js';
import { describeCapabilities } from './model-status.js';
import { recommendedModels, thisMachine } from './recommended.js';
import type { LiveCapability, Services } from './services.js';
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
export async function createRuntime(config: Config, options: { catalogue?: readonly CatalogueEntry[] } = {}): Promise<Runtime> {
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
  const cache = new ModelCache(config.modelsDir!, { offline: config.offline, baseUrl: config.modelsMirror, catalogue: options.catalogue });
  const store = openStore({ dataDir: config.dataDir });
  let watermark: Watermarker;
  try {
    const { key } = loadWatermarkKey({ configured: config.watermark.key, dataDir: config.dataDir });
    watermark = new Watermarker({ key, enabled: config.watermark.enabled, strength: config.watermark.strength, registry: store.watermarks });
  } catch (error) {
    store.close();
    throw error;
  }
  const pulls = new ModelPulls(cache);
  let log: RuntimeLog = { info: () => undefined, warn: () => undefined };
  const autoPull = new AutoPull(cache, pulls, config.offline, () => services.log);
  const asrModel = recommendedModels(thisMachine(), cache).find((r) => r.capability === 'transcription')!.model;
  const host = new EngineHost(config, limiter, cache, watermark, { pull: autoPull, asrModel });
  if (metrics) host.onSafetyEvent = metrics.onSafetyEvent;

  const aliases: Record<string, string> = {};
  const pipelineCapabilities: Record<string, Capability> = {};
  for (const [name, value] of Object.entries(config.models)) {
    if (typeof value === 'string') aliases[name] = value;
    else pipelineCapabilities[name] = value.capability;
  }
  const models = new ModelRegistry(['speech', 'transcription', 'chat'], aliases, pipelineCapabilities);
  const dangling = models.danglingAliases();
  if (dangling.length > 0) {
    store.close();
    throw new Error(`model aliases name models this server does not serve: ${dangling.join(', ')}`);
  }

  const pipelines = new Map<string, MutableEngines>();
  try {
    for (const [id, settings] of configuredPipelines(config)) pipelines.set(id, await host.pipeline(id, settings));
  } catch (error) {
    await host.dispose();
    store.close();
    throw error;
  }
  const defaultEngines = pipelines.get(DEFAULT_PIPELINE)!;
  const stopSweeper = store.audio.startSweeper();
  const keyLimits = await openKeyLimits(config, store);
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
  let described: { at: number; value: Promise<LiveCapability[]> } | undefined;
  const liveCapabilities = async (): Promise<LiveCapability[]> => {
    const live = host.live(DEFAULT_PIPELINE);
    const downloading = new Map(autoPull.running().map((p) => [p.model, p]));
    return (await describeCapabilities(config, cache)).map((c) => {
      const loaded = c.capability === 'speech' ? live?.tts : c.capability === 'transcription' ? live?.asr : c.capability === 'chat' ? live?.llm : undefined;
      const fetching = c.pull.find((m) => downloading.has(m));
      return {
        capability: c.capability,
        engine: c.engine,
        live: loaded ?? null,
        state: fetching ? 'downloading' : c.state,
        reason: c.state === 'missing' ? `${c.detail}${c.fix.length > 0 ? ` Fix: ${c.fix.join('; ')}` : ''}` : c.reason,
      };
    });
  };
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
      summary: ({ since, until, owner, apiKeyIds }) => store.usage.summary({ since, until, owner, apiKeyIds, coreHourUsd }),
      buckets: (query) => store.usage.buckets({ ...query, coreHourUsd }),
    },
    metrics,
    metricsPort: () => metricsServer?.port,
    store,
    batches: new BatchStore(store),
    keys: keyLimits.registry,
    keyCounters: keyLimits.counters,
    state: () => state,
    shutdownSignal: shutdown.signal,
    internalToken: crypto.randomBytes(32).toString('hex'),
    cache,
    pulls,
    get log() {
      return log;
    },
    set log(value: RuntimeLog) {
      log = value;
    },
    capabilities: () => {
      // Probes read the disk: /health may be polled often, so an answer is reused for 5 s.
      if (!described || Date.now() - described.at > 5_000) described = { at: Date.now(), value: liveCapabilities() };
      return described.value;
    },
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
      await pulls.close();
      await metricsServer?.close();
      await host.dispose();
      keyLimits.close();
      store.close();
    },
  };
}

/**
 * The key registry and its counters: in SQLite, or — with PARLEY_QUEUE=redis://… — mirrored and
 * counted in Redis so every server shares them. A command waits at most 2 s for Redis: a limited
 * key's request then fails (503) rather than hang.
 */
export async function openKeyLimits(
  config: Config,
  store: import('../store/db.js').Store,
): Promise<{ registry: KeyRegistry; counters: LimitCounters; close(): void }> {
  const url = config.batch.queue;
  if (!url) {
    const processId = newWorkerId();
    return {
      registry: new KeyRegistry({ store }),
      counters: new SqliteCounters(store.keys, processId, isDeadLocalWorker),
      close: () => retireWorkerId(processId),
    };
  }
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 });
  redis.on('error', () => {
    // Reported per command (the request that needed Redis fails); ioredis keeps reconnecting.
  });
  const registry = new KeyRegistry({ store, redis });
  await registry.publishAll().catch(() => undefined);
  return { registry, counters: new RedisCounters(redis, config.limits.rateWindowSec * 1000), close: () => redis.disconnect() };
}
