import os from 'node:os';
import type { AsrSettings, Config, LlmSettings, PipelineSpec, SafetyConfig, TtsSettings, VoiceSettings } from '../config/index.js';
import { createConfiguredAsrEngine } from '../engines/asr/registry.js';
import type { AsrEngine } from '../engines/asr/types.js';
import { DEFAULT_LLAMA_MODEL } from '../engines/llm/llama/model-file.js';
import { createLlmEngine } from '../engines/llm/registry.js';
import type { LlmEngine } from '../engines/llm/types.js';
import { vadEngineDescriptor } from '../engines/vad/registry.js';
import type { VadEngine } from '../engines/vad/types.js';
import { voiceAnalyzerDescriptor } from '../engines/voice/registry.js';
import type { VoiceAnalyzer } from '../engines/voice/types.js';
import { Lazy } from '../lib/lazy.js';
import type { Limiter } from '../lib/limiter.js';
import type { Engines } from '../pipeline/context.js';
import { DEFAULT_PIPELINE } from '../pipeline/models.js';
import type { Speaker } from '../pipeline/speak.js';
import { Understander } from '../pipeline/understand.js';
import { createSafetyChecker, type SafetyChecker } from '../safety/checker.js';
import type { SafetyEvent } from '../safety/types.js';
import type { Watermarker } from '../safety/watermark/watermarker.js';
import type { ModelCache } from '../store/model-cache/cache.js';
import type { AutoPull } from './auto-pull.js';
import { createEngineSpeaker, type EngineSpeaker, type VoiceTable } from './speaker.js';

/** The settings of one pipeline, every section filled in (from the alias, else the top level). */
export interface PipelineSettings {
  asr: AsrSettings;
  voice: VoiceSettings;
  llm: LlmSettings;
  tts: TtsSettings;
  safety: SafetyConfig;
}

/** A pipeline's sections merged over the top-level settings. */
export function pipelineSettings(config: Config, spec?: PipelineSpec): PipelineSettings {
  return {
    asr: { ...config.asr, ...spec?.asr },
    voice: { ...config.voice, ...spec?.voice },
    llm: { ...config.llm, ...spec?.llm },
    tts: {
      ...config.tts,
      ...spec?.tts,
      voices: { ...config.tts.voices, ...spec?.tts?.voices, ...spec?.voiceMap, ...config.tts.customVoices, ...spec?.tts?.customVoices },
    },
    safety: { ...config.safety, ...spec?.safety, thresholds: { ...config.safety.thresholds, ...spec?.safety?.thresholds } },
  };
}

/** The pipelines the config defines: `default` plus each alias given as an object. */
export function configuredPipelines(config: Config): Map<string, PipelineSettings> {
  const out = new Map<string, PipelineSettings>([[DEFAULT_PIPELINE, pipelineSettings(config)]]);
  for (const [alias, value] of Object.entries(config.models)) {
    if (typeof value === 'object') out.set(alias, pipelineSettings(config, value));
  }
  return out;
}

/** The engines of a pipeline as a test or a tool may swap them (the same object the routes use). */
export interface MutableEngines extends Engines {
  speaker: Speaker;
  asr: () => Promise<AsrEngine>;
  vad: () => Promise<VadEngine>;
  analyzer: () => Promise<VoiceAnalyzer>;
  llm: () => Promise<LlmEngine>;
  /** The voice map of the pipeline's TTS engine (for `parley voices`). */
  voiceTable(): VoiceTable;
}

/**
 * Builds and owns every engine of the process, shared between pipelines with the same settings (two
 * aliases on one GGUF load it once). Every engine is handed out wrapped so that each call takes
 * one slot of the process's limiter: recognition and generation are capped at one at a time (one
 * model context each), synthesis, VAD and analysis may use every slot. An upstream LLM
 * (`openai-compatible`) uses no local CPU and takes no slot.
 */
export class EngineHost {
  private readonly shared = new Map<string, Lazy<unknown>>();
  private readonly speakers = new Map<string, EngineSpeaker>();
  private readonly checkers = new Map<string, SafetyChecker>();
  /** The engines loaded so far, per pipeline (what `/health` calls live). */
  private readonly liveIds = new Map<string, { tts: string; asr?: string; llm?: string }>();
  /** Receives every safety decision (metrics). */
  onSafetyEvent: ((event: SafetyEvent) => void) | undefined;

  constructor(
    private readonly config: Config,
    private readonly limiter: Limiter,
    private readonly cache: ModelCache,
    private readonly watermark: Watermarker,
    /** Fetches a missing default model on first need (a server allowed to download); none = never. */
    private readonly autoPull?: { pull: AutoPull; asrModel: string },
  ) {}

  /** The engines pipeline `id` has loaded: TTS at start, the others once first used. */
  live(id: string): { tts: string; asr?: string; llm?: string } | undefined {
    return this.liveIds.get(id);
  }

  /** Builds a pipeline's engines. Speakers load now (their voice maps are checked at start); the rest on first use. */
  async pipeline(id: string, settings: PipelineSettings): Promise<MutableEngines> {
    const speaker = await this.speaker(settings.tts);
    const live: { tts: string; asr?: string; llm?: string } = { tts: speaker.voiceTable().engine };
    this.liveIds.set(id, live);
    const noted = async <T extends { id: string }>(kind: 'asr' | 'llm', engine: Promise<T>): Promise<T> => {
      const e = await engine;
      live[kind] = e.id;
      return e;
    };
    const asr = this.lazy(`asr:${JSON.stringify(settings.asr)}`, () => this.createAsr(settings.asr));
    const vad = this.lazy('vad:silero', () => this.createVad());
    const analyzer = this.lazy(`voice:${settings.voice.engine}`, () => this.createAnalyzer(settings.voice));
    const llm = this.lazy(`llm:${JSON.stringify(settings.llm)}`, () => this.createLlm(settings.llm));
    const safety = this.safety(settings.safety);
    const engines = {
      id,
      safety,
      watermark: this.watermark,
      speaker: speaker as Speaker,
      voiceTable: () => speaker.voiceTable(),
      asr: () => noted('asr', asr.get()),
      vad: () => vad.get(),
      analyzer: () => analyzer.get(),
      llm: () => noted('llm', llm.get()),
      limiter: this.limiter,
    };
    // The understander reads the engines through `engines`, so an engine swapped there is seen by it too.
    const understander = new Understander({ asr: () => engines.asr(), vad: () => engines.vad(), analyzer: () => engines.analyzer() });
    return Object.assign(engines, { understander });
  }

  /** Frees every engine. */
  async dispose(): Promise<void> {
    await Promise.allSettled([
      ...[...this.speakers.values()].map((s) => s.dispose()),
      ...[...this.shared.values()].map((l) => l.dispose()),
      ...[...this.checkers.values()].map((c) => c.dispose()),
    ]);
    this.speakers.clear();
    this.checkers.clear();
    this.shared.clear();
  }

  /**
   * The content filters of a pipeline, shared by equal settings. With a model layer (classifier,
   * judge) each check is one `safety` job of the limiter; the word lists alone cost microseconds
   * and never queue.
   */
  private safety(settings: SafetyConfig): SafetyChecker {
    const key = JSON.stringify(settings);
    const existing = this.checkers.get(key);
    if (existing) return existing;
    const checker = createSafetyChecker({
      settings,
      modelsDir: this.config.modelsDir,
      resolveModel: (name) => this.cache.resolve(name, 'safety'),
      threads: 1,
      onEvent: (event) => this.onSafetyEvent?.(event),
    });
    const limiter = this.limiter;
    const limited: SafetyChecker = checker.usesModels()
      ? {
          ...checker,
          checkPrompt: (texts, signal, o) => limiter.run('safety', () => checker.checkPrompt(texts, signal, o), { signal }),
          checkReply: (text, signal, o) => limiter.run('safety', () => checker.checkReply(text, signal, o), { signal }),
          moderate: (inputs, signal) => limiter.run('safety', () => checker.moderate(inputs, signal), { signal }),
        }
      : checker;
    this.checkers.set(key, limited);
    return limited;
  }

  private async speaker(settings: TtsSettings): Promise<EngineSpeaker> {
    const key = JSON.stringify(settings);
    const existing = this.speakers.get(key);
    if (existing) return existing;
    const speaker = await createEngineSpeaker(settings, { modelsDir: this.config.modelsDir!, concurrency: this.config.concurrency, limiter: this.limiter });
    this.speakers.set(key, speaker);
    return speaker;
  }

  private lazy<T extends { dispose(): Promise<void> }>(key: string, create: () => Promise<T>): Lazy<T> {
    let entry = this.shared.get(key) as Lazy<T> | undefined;
    if (!entry) {
      entry = new Lazy<T>(create, (engine) => engine.dispose());
      this.shared.set(key, entry as Lazy<unknown>);
    }
    return entry;
  }

  /** Creates an engine; a missing default model is fetched in the background (503 `model_downloading` meanwhile). */
  private withAutoPull<T>(capability: string, model: string | undefined, create: () => Promise<T>): Promise<T> {
    return this.autoPull ? this.autoPull.pull.create(capability, model, create) : create();
  }

  private async createAsr(settings: AsrSettings): Promise<AsrEngine> {
    // Only the default choice downloads: a configured engine or model is the operator's to install.
    const recommended = settings.engine === 'auto' && settings.model === undefined ? this.autoPull?.asrModel : undefined;
    const engine = await this.withAutoPull('transcription', recommended, () => this.createAsrEngine(settings));
    const limiter = this.limiter;
    return {
      id: engine.id,
      capabilities: engine.capabilities,
      languages: () => engine.languages(),
      transcribe: (pcm, options) => limiter.run('asr', () => engine.transcribe(pcm, options), { signal: options?.signal }),
      dispose: () => engine.dispose(),
    };
  }

  private createAsrEngine(settings: AsrSettings): Promise<AsrEngine> {
    return createConfiguredAsrEngine(settings.engine, {
      model: settings.model,
      modelsDir: this.config.modelsDir!,
      // Threads per recognition. whisper.cpp's (ggml's) worker threads spin at every barrier, so
      // once more threads are runnable than there are cores one waits out a descheduled sibling's
      // time slice: on a busy 2-core machine a 3 s clip took 32–47 s with 2 threads and 2.5–7.6 s
      // with 1 (engines/asr/README.md). Other kinds of jobs run beside a recognition, so it gets
      // the cores one of the `concurrency` slots can have: 1 on 2 cores with the default.
      threads: Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / this.config.concurrency))),
      resolveModel: (name) => this.cache.resolve(name, 'asr'),
    });
  }

  private async createVad(): Promise<VadEngine> {
    const engine = await (await vadEngineDescriptor('silero')).create();
    const limiter = this.limiter;
    return {
      id: engine.id,
      detect: (pcm, options) => limiter.run('vad', () => engine.detect(pcm, options), { signal: options?.signal }),
      dispose: () => engine.dispose(),
    };
  }

  private async createAnalyzer(settings: VoiceSettings): Promise<VoiceAnalyzer> {
    const analyzer = await (await voiceAnalyzerDescriptor(settings.engine)).create({});
    const limiter = this.limiter;
    return {
      id: analyzer.id,
      analyze: (input) => limiter.run('analysis', () => analyzer.analyze(input), { signal: input.signal }),
      dispose: () => analyzer.dispose(),
    };
  }

  private async createLlm(settings: LlmSettings): Promise<LlmEngine> {
    const recommended = settings.engine === 'llama' && settings.model === undefined ? DEFAULT_LLAMA_MODEL : undefined;
    const engine = await this.withAutoPull('chat', recommended, () => this.createLlmEngine(settings));
    if (settings.engine === 'openai-compatible') return engine;
    const limiter = this.limiter;
    return {
      id: engine.id,
      model: engine.model,
      generate: (options) => limiter.run('llm', () => engine.generate(options), { signal: options.signal }),
      countTokens: (text) => engine.countTokens(text),
      dispose: () => engine.dispose(),
    };
  }

  private createLlmEngine(settings: LlmSettings): Promise<LlmEngine> {
    return createLlmEngine(settings.engine, {
      model: settings.model,
      modelsDir: this.config.modelsDir!,
      resolveModel: (name) => this.cache.resolve(name, 'llm'),
      // Measured on 2 cores: 1 thread generates faster than 2, and far faster under load.
      threads: settings.threads ?? (os.availableParallelism() <= 2 ? 1 : Math.floor(os.availableParallelism() / 2)),
      url: settings.url,
      apiKey: settings.apiKey,
    });
  }
}
