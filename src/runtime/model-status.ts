/**
 * What serves each capability of this server, why, and what to pull or install for it: the
 * knowledge behind `GET /v1/parley/models` (the playground's Models page), `parley doctor`,
 * `/health`'s capability details and the lines `parley serve` prints at start.
 *
 * Everything here is found without loading a model: engine probes check files and libraries, the
 * model cache checks sizes. A model pulled while the server runs is picked up the next time its
 * engine loads (engines load lazily; one already loaded keeps running until a restart).
 */
import path from 'node:path';
import type { Config } from '../config/index.js';
import { DEFAULT_MOONSHINE_MODEL } from '../engines/asr/moonshine/index.js';
import { DEFAULT_PARAKEET_MODEL } from '../engines/asr/parakeet/index.js';
import { SPHINX_INSTALL_HINT } from '../engines/asr/pocketsphinx/index.js';
import { ASR_ENGINE_IDS, type AsrEngineId, resolveAsrEngine } from '../engines/asr/registry.js';
import { DEFAULT_SENSEVOICE_MODEL } from '../engines/asr/sensevoice/index.js';
import type { AsrEngineOptions } from '../engines/asr/types.js';
import { DEFAULT_WHISPER_MODEL } from '../engines/asr/whisper/model.js';
import { DEFAULT_LLAMA_MODEL, locateLlamaModel } from '../engines/llm/llama/model-file.js';
import { locateModelFile } from '../engines/model-file.js';
import { KOKORO_MODEL_NAME } from '../engines/tts/kokoro/voices.js';
import { PIPER_MODEL_NAME } from '../engines/tts/piper/voices.js';
import { resolveTtsEngine, TTS_AUTO_ORDER, type TtsEngineId } from '../engines/tts/registry.js';
import { locateClassifierFiles } from '../safety/classifier/onnx-classifier.js';
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
  /** Why this engine serves it (`auto: the best engine whose model is installed`, `set by PARLEY_ASR_ENGINE=…`). */
  reason: string;
  /** Catalogue models to pull to make it work (empty when ready). */
  pull: string[];
  /** The exact commands that fix what is missing (empty when ready). */
  fix: string[];
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

/** Engine explanations without local paths (those go to the log). */
function withoutPaths(message: string): string {
  return message.replace(/\s*\(cache: [^)]*\)/g, '').replace(/ in \/\S+/g, '');
}

const pullCommand = (model: string): string => `parley models pull ${model}`;

/** The catalogue model each recogniser loads when none is configured. */
export const ASR_DEFAULT_MODELS: Readonly<Record<AsrEngineId, string | null>> = {
  sensevoice: DEFAULT_SENSEVOICE_MODEL,
  parakeet: DEFAULT_PARAKEET_MODEL,
  whisper: DEFAULT_WHISPER_MODEL,
  moonshine: DEFAULT_MOONSHINE_MODEL,
  pocketsphinx: null,
};

/** What each recogniser brings, for upgrade notes. */
const ASR_STRENGTHS: Readonly<Record<AsrEngineId, string>> = {
  sensevoice: 'SenseVoice: fast, hears emotion and audio events (zh/en/ja/ko/yue)',
  parakeet: 'Parakeet-TDT: the most accurate English',
  whisper: 'whisper.cpp: ~99 languages, translation, word times',
  moonshine: 'Moonshine: the smallest, fastest English',
  pocketsphinx: 'pocketsphinx: offline US English, 16 kHz speech',
};

/** The catalogue model each voice engine loads when none is configured. */
export const TTS_DEFAULT_MODELS: Readonly<Record<TtsEngineId, string | null>> = {
  kokoro: KOKORO_MODEL_NAME,
  piper: PIPER_MODEL_NAME,
  flite: null,
  'espeak-ng': null,
};

const TTS_STRENGTHS: Readonly<Record<TtsEngineId, string>> = {
  kokoro: 'Kokoro-82M: natural voices, 9 languages',
  piper: 'Piper: natural voices, one model per voice, ~40 languages',
  flite: 'flite: ships its voices, robotic but fast',
  'espeak-ng': 'eSpeak NG: ships every language it has, robotic',
};

function asrOptions(config: Config, cache: ModelCache): AsrEngineOptions {
  return {
    model: config.asr.model,
    modelsDir: config.modelsDir!,
    threads: 1, // probes load nothing; the count only matters to a loaded engine
    resolveModel: (name) => cache.resolve(name, 'asr'),
  };
}

async function speechStatus(config: Config, cache: ModelCache): Promise<CapabilityStatus> {
  const configured = config.tts.engine;
  const choice = await resolveTtsEngine(configured, { model: config.tts.model, modelsDir: config.modelsDir!, concurrency: 1 });
  const defaultModel = TTS_DEFAULT_MODELS[choice.id];
  const model = defaultModel === null ? null : (config.tts.model ?? defaultModel);
  const rank = TTS_AUTO_ORDER.indexOf(choice.id as (typeof TTS_AUTO_ORDER)[number]);
  const better = (rank < 0 ? TTS_AUTO_ORDER : TTS_AUTO_ORDER.slice(0, rank)).filter((id) => TTS_DEFAULT_MODELS[id] !== null);
  const upgrades: CapabilityStatus['upgrades'] = [];
  if (choice.available) {
    for (const id of better) {
      const name = TTS_DEFAULT_MODELS[id]!;
      const there = await installed(cache, name);
      const then = configured === 'auto' ? 'used automatically at the next start' : `then set PARLEY_TTS_ENGINE=${id} (or auto)`;
      upgrades.push({ model: name, note: there ? `installed: ${then}` : `${TTS_STRENGTHS[id]}; ${then}` });
    }
  }
  const pull = choice.available || model === null ? [] : [catalogued(cache, model) ? model : defaultModel!];
  const espeak = /espeak-ng-data/.test(choice.reason) && !choice.available;
  return {
    capability: 'speech',
    configured,
    engine: choice.id,
    model: model === null ? null : shownModel(model),
    state: choice.available ? 'ready' : 'missing',
    detail: choice.available ? TTS_STRENGTHS[choice.id] : withoutPaths(choice.reason),
    reason: choice.available ? choice.reason : `set by PARLEY_TTS_ENGINE=${configured}, but it cannot run`,
    pull,
    fix: espeak ? ['apt-get install espeak-ng-data', ...pull.map(pullCommand)] : pull.map(pullCommand),
    upgrades,
  };
}

async function transcriptionStatus(config: Config, cache: ModelCache): Promise<CapabilityStatus> {
  const configured = config.asr.engine;
  const choice = await resolveAsrEngine(configured, asrOptions(config, cache));
  const defaultModel = ASR_DEFAULT_MODELS[choice.id];
  const model = defaultModel === null ? null : (config.asr.model ?? defaultModel);
  const upgrades: CapabilityStatus['upgrades'] = [];
  if (choice.available) {
    for (const id of ASR_ENGINE_IDS.slice(0, ASR_ENGINE_IDS.indexOf(choice.id))) {
      const name = ASR_DEFAULT_MODELS[id];
      if (name === null || (id === 'whisper' && choice.id !== 'pocketsphinx' && choice.id !== 'moonshine')) continue;
      const there = await installed(cache, name);
      const then = configured === 'auto' && config.asr.model === undefined ? 'used automatically at the next start' : `then set PARLEY_ASR_ENGINE=auto`;
      upgrades.push({ model: name, note: there ? `installed: ${then}` : `${ASR_STRENGTHS[id]}; ${then}` });
    }
  }
  let pull: string[] = [];
  let fix: string[] = [];
  if (!choice.available) {
    if (choice.id === 'pocketsphinx') fix = [SPHINX_INSTALL_HINT];
    else {
      pull = [catalogued(cache, model ?? undefined) ? model! : defaultModel!];
      fix = pull.map(pullCommand);
    }
  }
  return {
    capability: 'transcription',
    configured,
    engine: choice.id,
    model: model === null ? null : shownModel(model),
    state: choice.available ? 'ready' : 'missing',
    detail: choice.available ? ASR_STRENGTHS[choice.id] : withoutPaths(choice.reason),
    reason: choice.available
      ? choice.reason
      : configured === 'auto'
        ? 'auto: no engine has its model installed'
        : `set by PARLEY_ASR_ENGINE=${configured}, but it cannot run`,
    pull,
    fix,
    upgrades,
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
      reason: 'set by PARLEY_LLM_ENGINE=openai-compatible',
      pull: [],
      fix: config.llm.url ? [] : ['PARLEY_LLM_URL=http://host:port/v1 parley serve'],
      upgrades: [],
    };
  }
  const model = config.llm.model ?? DEFAULT_LLAMA_MODEL;
  const location = await locateLlamaModel({ model: config.llm.model, modelsDir: config.modelsDir!, resolveModel: (name) => cache.resolve(name, 'llm') });
  const upgrades =
    model === DEFAULT_LLAMA_MODEL ? [{ model: 'qwen2.5-1.5b-instruct', note: 'better answers, ~2x slower; set PARLEY_LLM_MODEL=qwen2.5-1.5b-instruct' }] : [];
  const pull = location.found ? [] : [catalogued(cache, model) ? model : DEFAULT_LLAMA_MODEL];
  return {
    capability: 'chat',
    configured,
    engine: configured,
    model: shownModel(model),
    state: location.found ? 'ready' : 'missing',
    detail: location.found ? 'llama.cpp in-process' : `No language model: the model '${shownModel(model)}' is not installed.`,
    reason: config.llm.model === undefined ? `the default model (${DEFAULT_LLAMA_MODEL})` : 'set by PARLEY_LLM_MODEL',
    pull,
    fix: pull.map(pullCommand),
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
    reason: 'the only engine; ships its data',
    pull: [],
    fix: [],
    upgrades: [],
  });
  const emotion = transcription.engine === 'sensevoice' && transcription.state === 'ready';
  return [
    chat,
    transcription,
    speech,
    shipped('vad', 'silero', 'Silero VAD: trims silence, cuts long audio at pauses (ships with npm)'),
    {
      ...shipped(
        'voice_analysis',
        'prosody',
        emotion
          ? 'emotion and events heard by SenseVoice, held against pitch, loudness, pace, pauses and the words’ sentiment'
          : 'pitch, loudness, pace, pauses and the words’ sentiment; emotion derived from them (source "prosody")',
      ),
      upgrades: emotion ? [] : [{ model: DEFAULT_SENSEVOICE_MODEL, note: 'an emotion heard in the voice (source "acoustic") and audio events' }],
    },
  ];
}

/** One content-filter layer's state, for `parley doctor`. */
export interface SafetyLayerStatus {
  layer: 'profanity word list' | 'classifier' | 'judge' | 'watermark';
  state: 'on' | 'off' | 'missing';
  detail: string;
  fix: string[];
}

/** The safety layers as configured: what is on, off, or configured but missing. */
export async function describeSafety(config: Config, cache: ModelCache): Promise<SafetyLayerStatus[]> {
  const s = config.safety;
  const out: SafetyLayerStatus[] = [
    {
      layer: 'profanity word list',
      state: 'on',
      detail: `${s.profanity === 'filter' ? 'masks' : 'annotates'} profanity; blocks from severity ${s.block} (PARLEY_SAFETY_PROFANITY, PARLEY_SAFETY_BLOCK)`,
      fix: [],
    },
  ];
  if (s.classifier === undefined) {
    out.push({ layer: 'classifier', state: 'off', detail: 'no toxicity classifier (PARLEY_SAFETY_CLASSIFIER unset)', fix: [] });
  } else {
    let file: string = s.classifier;
    try {
      file = await cache.resolve(s.classifier, 'safety');
    } catch {
      // not a cache name: a folder path
    }
    const found = locateClassifierFiles(file) !== undefined;
    out.push({
      layer: 'classifier',
      state: found ? 'on' : 'missing',
      detail: found ? `${shownModel(s.classifier)}` : `the classifier '${shownModel(s.classifier)}' is not installed`,
      fix: found ? [] : [pullCommand(catalogued(cache, s.classifier) ? s.classifier : 'toxic-bert')],
    });
  }
  if (s.judge === undefined) {
    out.push({ layer: 'judge', state: 'off', detail: 'no guard LLM (PARLEY_SAFETY_JUDGE unset)', fix: [] });
  } else {
    const location = await locateModelFile(s.judge, { modelsDir: config.modelsDir, resolveModel: (name) => cache.resolve(name, 'safety'), extension: '.gguf' });
    out.push({
      layer: 'judge',
      state: location.found ? 'on' : 'missing',
      detail: location.found
        ? `${shownModel(s.judge)}${s.strict ? ' on every prompt and reply (strict)' : ' for /v1/moderations and batches'}`
        : `the guard model '${shownModel(s.judge)}' is not there`,
      fix: location.found
        ? []
        : [catalogued(cache, s.judge) ? pullCommand(s.judge) : `PARLEY_SAFETY_JUDGE=/path/to/guard.gguf (Llama Guard 3 1B or Qwen3Guard-Gen-0.6B)`],
    });
  }
  out.push({
    layer: 'watermark',
    state: config.watermark.enabled ? 'on' : 'off',
    detail: config.watermark.enabled ? 'every voice Parley makes is watermarked' : 'voices are not watermarked (PARLEY_WATERMARK=off)',
    fix: [],
  });
  return out;
}
