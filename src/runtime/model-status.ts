/**
 * What serves each capability of this server, and what to pull for it: the knowledge behind
 * `GET /v1/parley/models` (the playground's Models page) and `parley models pull --url`.
 *
 * Everything here is found without loading a model: engine probes check files and libraries, the
 * model cache checks sizes. A model pulled while the server runs is picked up the next time its
 * engine loads (engines load lazily; one already loaded keeps running until a restart).
 */
import path from 'node:path';
import type { Config } from '../config/index.js';
import { chooseDefaultAsrEngine, loadAsrEngineDescriptor } from '../engines/asr/registry.js';
import type { AsrEngineOptions } from '../engines/asr/types.js';
import { DEFAULT_WHISPER_MODEL } from '../engines/asr/whisper/model.js';
import { DEFAULT_LLAMA_MODEL, locateLlamaModel } from '../engines/llm/llama/model-file.js';
import type { ModelCache } from '../store/model-cache/cache.js';

/** A capability of the server, as the Models page lists them. */
export type Capability = 'speech' | 'transcription' | 'chat' | 'vad' | 'voice_analysis';

/** How one capability is served. */
export interface CapabilityStatus {
  /** What it is for. */
  capability: Capability;
  /** The configured engine setting (e.g. `auto`). */
  configured: string;
  /** The engine that serves it (or would, once its model is there). */
  engine: string;
  /** The model it uses: a cache name or a file name (never a local path); null when it ships its data. */
  model: string | null;
  /** `ready`: it works; `missing`: something must be pulled or installed; `upstream`: another server answers. */
  state: 'ready' | 'missing' | 'upstream';
  /** One line: what it is, or what is missing and what to do. */
  detail: string;
  /** Catalogue models to pull to make it work (empty when ready). */
  pull: string[];
  /** Catalogue models that would serve it better, with what else to set. */
  upgrades: Array<{ model: string; note: string }>;
}

/** A name safe to show to a client: a cache name as it is, a path only as its file name. */
function shownModel(model: string): string {
  return path.isAbsolute(model) || model.includes('/') ? path.basename(model) : model;
}

function catalogued(cache: ModelCache, name: string | undefined): name is string {
  return name !== undefined && cache.entries().some((e) => e.name === name);
}

async function installed(cache: ModelCache, name: string): Promise<boolean> {
  return catalogued(cache, name) && (await cache.status(name)).installed;
}

/** First sentence of an engine's explanation, without local paths (those go to the log). */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\(cache: [^)]*\)/g, '').replace(/ in \/\S+/g, '');
}

async function speechStatus(config: Config, cache: ModelCache): Promise<CapabilityStatus> {
  const engine = config.tts.engine;
  if (engine === 'kokoro') {
    const model = config.tts.model ?? 'kokoro-82m';
    // The speaker is built at start, so a running server's Kokoro has its model; report what a
    // restart would find too, for a model removed since.
    const present = catalogued(cache, model) ? await installed(cache, model) : true;
    return {
      capability: 'speech',
      configured: engine,
      engine,
      model: shownModel(model),
      state: present ? 'ready' : 'missing',
      detail: present ? 'Kokoro-82M: natural English voices' : `The Kokoro model '${model}' is not installed.`,
      pull: present ? [] : [model],
      upgrades: [],
    };
  }
  const kokoroThere = await installed(cache, 'kokoro-82m');
  return {
    capability: 'speech',
    configured: engine,
    engine,
    model: null,
    state: 'ready',
    detail: engine === 'flite' ? 'flite: ships its voices, robotic but fast' : 'eSpeak NG: ships every language it has, robotic',
    pull: [],
    upgrades: [
      {
        model: 'kokoro-82m',
        note: kokoroThere ? 'installed: set PARLEY_TTS_ENGINE=kokoro and restart' : 'natural voices; then set PARLEY_TTS_ENGINE=kokoro',
      },
    ],
  };
}

async function transcriptionStatus(config: Config, cache: ModelCache): Promise<CapabilityStatus> {
  const options: AsrEngineOptions = {
    model: config.asr.model,
    modelsDir: config.modelsDir!,
    threads: 1, // probes load nothing; the count only matters to a loaded engine
    resolveModel: (name) => cache.resolve(name, 'asr'),
  };
  const configured = config.asr.engine;
  let engine: string;
  try {
    engine = configured === 'auto' ? await chooseDefaultAsrEngine(options) : configured;
  } catch (error) {
    return {
      capability: 'transcription',
      configured,
      engine: 'whisper',
      model: DEFAULT_WHISPER_MODEL,
      state: 'missing',
      detail: reasonOf(error),
      pull: [DEFAULT_WHISPER_MODEL],
      upgrades: [],
    };
  }
  const probe = await (await loadAsrEngineDescriptor(engine as 'whisper' | 'pocketsphinx')).probe(options);
  if (engine === 'whisper') {
    const model = config.asr.model ?? DEFAULT_WHISPER_MODEL;
    const better = model.startsWith('whisper-tiny') ? [{ model: 'whisper-base.en', note: 'more accurate English; set PARLEY_ASR_MODEL=whisper-base.en' }] : [];
    return {
      capability: 'transcription',
      configured,
      engine,
      model: shownModel(model),
      state: probe.available ? 'ready' : 'missing',
      detail: probe.available ? 'whisper.cpp: ~99 languages, translation, word times' : reasonOf(probe.reason),
      pull: probe.available ? [] : [catalogued(cache, model) ? model : DEFAULT_WHISPER_MODEL],
      upgrades: probe.available ? better : [],
    };
  }
  return {
    capability: 'transcription',
    configured,
    engine,
    model: null,
    state: probe.available ? 'ready' : 'missing',
    detail: probe.available ? 'pocketsphinx: offline US English, 16 kHz speech' : reasonOf(probe.reason),
    pull: [],
    upgrades: [
      {
        model: DEFAULT_WHISPER_MODEL,
        note: configured === 'auto' ? 'far more accurate; used automatically once pulled' : 'far more accurate; then set PARLEY_ASR_ENGINE=auto',
      },
    ],
  };
}

async function chatStatus(config: Config, cache: ModelCache): Promise<CapabilityStatus> {
  const configured = config.llm.engine;
  if (configured === 'openai-compatible') {
    let host = 'not set';
    try {
      if (config.llm.url) host = new URL(config.llm.url).host;
    } catch {
      host = 'invalid URL';
    }
    return {
      capability: 'chat',
      configured,
      engine: configured,
      model: config.llm.model ?? null,
      state: config.llm.url ? 'upstream' : 'missing',
      detail: config.llm.url ? `answered by the upstream server at ${host}` : 'PARLEY_LLM_URL is not set',
      pull: [],
      upgrades: [],
    };
  }
  const model = config.llm.model ?? DEFAULT_LLAMA_MODEL;
  const location = await locateLlamaModel({ model: config.llm.model, modelsDir: config.modelsDir!, resolveModel: (name) => cache.resolve(name, 'llm') });
  const upgrades =
    model === DEFAULT_LLAMA_MODEL ? [{ model: 'qwen2.5-1.5b-instruct', note: 'better answers, ~2x slower; set PARLEY_LLM_MODEL=qwen2.5-1.5b-instruct' }] : [];
  return {
    capability: 'chat',
    configured,
    engine: configured,
    model: shownModel(model),
    state: location.found ? 'ready' : 'missing',
    detail: location.found ? 'llama.cpp in-process' : `No language model: the model '${shownModel(model)}' is not installed.`,
    pull: location.found ? [] : [catalogued(cache, model) ? model : DEFAULT_LLAMA_MODEL],
    upgrades: location.found ? upgrades : [],
  };
}

/** Every capability with its engine, model and state, in the order the Models page shows them. */
export async function describeCapabilities(config: Config, cache: ModelCache): Promise<CapabilityStatus[]> {
  const [speech, transcription, chat] = await Promise.all([speechStatus(config, cache), transcriptionStatus(config, cache), chatStatus(config, cache)]);
  const shipped = (capability: Capability, engine: string, detail: string): CapabilityStatus => ({
    capability,
    configured: engine,
    engine,
    model: null,
    state: 'ready',
    detail,
    pull: [],
    upgrades: [],
  });
  return [
    chat,
    transcription,
    speech,
    shipped('vad', 'silero', 'Silero VAD: trims silence, cuts long audio at pauses (ships with npm)'),
    shipped('voice_analysis', 'prosody', 'pitch, loudness, pace, pauses and the words’ sentiment (ships with Parley)'),
  ];
}
