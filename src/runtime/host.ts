import fs from 'node:fs';
import os from 'node:os';
import { BatchStore } from '../batch/batch-store.js';
import type { Config } from '../config/index.js';
import { createConfiguredAsrEngine } from '../engines/asr/registry.js';
import type { AsrEngine } from '../engines/asr/types.js';
import { createLlmEngine } from '../engines/llm/registry.js';
import type { LlmEngine } from '../engines/llm/types.js';
import { vadEngineDescriptor } from '../engines/vad/registry.js';
import type { VadEngine } from '../engines/vad/types.js';
import { voiceAnalyzerDescriptor } from '../engines/voice/registry.js';
import type { VoiceAnalyzer } from '../engines/voice/types.js';
import type { Services } from '../http/services.js';
import { ModelRegistry } from '../pipeline/models.js';
import { type Understanding, understandAudio } from '../pipeline/understand.js';
import { hashApiKey } from '../store/context.js';
import { openStore } from '../store/db.js';
import { ModelCache } from '../store/model-cache/cache.js';
import { Lazy } from './lazy.js';
import { Limiter } from './limiter.js';
import { createEngineSpeaker, type EngineSpeaker, type VoiceTable } from './speaker.js';

/** Everything the server and the CLI share for one process: engines, limits, caches. */
export interface Runtime {
  services: Services;
  /** The OpenAI-voice map of the active TTS engine, for `parley voices`. */
  voiceTable(): VoiceTable;
  /** Health turns 200. */
  markReady(): void;
  /** Health turns 503; new work is still accepted by routes already running. */
  beginDrain(): void;
  /** Cancels every in-flight engine job (forced shutdown). */
  abortInFlight(): void;
  /** Frees every engine. */
  close(): Promise<void>;
}

/**
 * Builds the runtime: checks the TTS voice map (a bad map stops the start), prepares the other
 * engines lazily (nothing heavy loads before it is used), and bounds engine work to the cores.
 * Engine lifecycle lives here and nowhere else.
 */
export async function createRuntime(config: Config): Promise<Runtime> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const limiter = new Limiter(config.concurrency);
  const shutdown = new AbortController();
  const cache = new ModelCache(config.modelsDir!, { offline: config.offline, baseUrl: config.modelsMirror });
  const threads = Math.max(1, Math.min(2, config.concurrency));

  const speaker: EngineSpeaker = await createEngineSpeaker(config, limiter);
  const asr = new Lazy<AsrEngine>(
    () =>
      createConfiguredAsrEngine(config.asr.engine, {
        model: config.asr.model,
        modelsDir: config.modelsDir!,
        threads,
        resolveModel: (name) => cache.resolve(name, 'asr'),
      }),
    (engine) => engine.dispose(),
  );
  const vad = new Lazy<VadEngine>(
    async () => (await vadEngineDescriptor('silero')).create(),
    (engine) => engine.dispose(),
  );
  const analyzer = new Lazy<VoiceAnalyzer>(
    async () => (await voiceAnalyzerDescriptor('prosody')).create({}),
    (a) => a.dispose(),
  );

  const llm = new Lazy<LlmEngine>(
    () =>
      createLlmEngine(config.llm.engine, {
        model: config.llm.model,
        modelsDir: config.modelsDir!,
        resolveModel: (name) => cache.resolve(name, 'llm'),
        // Measured on 2 cores: 1 thread generates faster than 2, and far faster under load.
        threads: config.llm.threads ?? (os.availableParallelism() <= 2 ? 1 : Math.floor(os.availableParallelism() / 2)),
        url: config.llm.url,
        apiKey: config.llm.apiKey,
      }),
    (engine) => engine.dispose(),
  );
  const store = openStore({ dataDir: config.dataDir });
  const stopSweeper = store.audio.startSweeper();

  // Clients resend earlier turns' audio with every request: understand each clip once.
  const understood = new Map<string, Promise<Understanding>>();
  const UNDERSTOOD_MAX = 64;
  const run = <T>(job: () => Promise<T>, signal?: AbortSignal) => limiter.run(job, { signal });
  const understand: Services['understand'] = (part, signal) => {
    const hit = understood.get(part.digest);
    if (hit) return hit;
    const work = (async () => {
      const [asrEngine, vadEngine, analyzerEngine] = await Promise.all([asr.get(), vad.get(), analyzer.get()]);
      return understandAudio({ asr: asrEngine, vad: vadEngine, analyzer: analyzerEngine, run }, part.pcm, { signal });
    })();
    understood.set(part.digest, work);
    work.catch(() => understood.delete(part.digest));
    if (understood.size > UNDERSTOOD_MAX) understood.delete(understood.keys().next().value!);
    return work;
  };

  const models = new ModelRegistry(['speech', 'transcription', 'chat'], config.models);
  const dangling = models.danglingAliases();
  if (dangling.length > 0) throw new Error(`model aliases name models this server does not serve: ${dangling.join(', ')}`);

  let state: 'starting' | 'ready' | 'draining' = 'starting';
  const services: Services = {
    config,
    models,
    speaker,
    limiter,
    asr: () => asr.get(),
    vad: () => vad.get(),
    analyzer: () => analyzer.get(),
    llm: () => llm.get(),
    understand,
    store,
    batches: new BatchStore(store),
    audioStore: {
      put: (entry) => store.audio.put(entry),
      get: (id, apiKey) => store.audio.get(id, apiKey ?? null),
    },
    usage: {
      record: ({ requestId, apiKey, endpoint, model, usage }) =>
        store.usage.record({
          requestId,
          apiKeyHash: apiKey ? hashApiKey(apiKey) : null,
          endpoint,
          model,
          promptTextTokens: usage.promptTextTokens,
          promptAudioTokens: usage.promptAudioTokens,
          completionTextTokens: usage.completionTextTokens,
          completionAudioTokens: usage.completionAudioTokens,
          cachedTokens: usage.cachedTokens,
          audioInSec: usage.audioInSec,
          audioOutSec: usage.audioOutSec,
          createdAt: Math.floor(Date.now() / 1000),
        }),
      summary: ({ since, until, apiKey }) => store.usage.summary({ since, until, apiKeyHash: apiKey ? hashApiKey(apiKey) : undefined }),
    },
    state: () => state,
    shutdownSignal: shutdown.signal,
  };
  return {
    services,
    voiceTable: () => speaker.voiceTable(),
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
      await Promise.allSettled([speaker.dispose(), asr.dispose(), vad.dispose(), analyzer.dispose(), llm.dispose()]);
      store.close();
    },
  };
}
