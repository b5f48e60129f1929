/**
 * ASR engine ids → lazily imported descriptors, and the choice `auto` makes.
 * Nothing native loads until an engine is probed or created.
 */
import fs from 'node:fs';
import { ApiError } from '../../errors.js';
import type { AsrEngine, AsrEngineDescriptor, AsrEngineOptions } from './types.js';

/** Every ASR engine id, in the order `auto` prefers them (best first). */
export const ASR_ENGINE_IDS = ['sensevoice', 'parakeet', 'whisper', 'moonshine', 'pocketsphinx'] as const;
export type AsrEngineId = (typeof ASR_ENGINE_IDS)[number];

const loaders: Record<AsrEngineId, () => Promise<AsrEngineDescriptor>> = {
  sensevoice: async () => (await import('./sensevoice/index.js')).sensevoiceDescriptor,
  parakeet: async () => (await import('./parakeet/index.js')).parakeetDescriptor,
  whisper: async () => (await import('./whisper/index.js')).whisperDescriptor,
  moonshine: async () => (await import('./moonshine/index.js')).moonshineDescriptor,
  pocketsphinx: async () => (await import('./pocketsphinx/index.js')).pocketsphinxDescriptor,
};

/** True for a known engine id. */
export function isAsrEngineId(id: string): id is AsrEngineId {
  return (ASR_ENGINE_IDS as readonly string[]).includes(id);
}

/** The descriptor of one engine (imports its folder's index, nothing native). */
export function loadAsrEngineDescriptor(id: AsrEngineId): Promise<AsrEngineDescriptor> {
  const load = loaders[id];
  if (!load) return Promise.reject(ApiError.invalidValue('asr.engine', id, ASR_ENGINE_IDS));
  return load();
}

/** Creates engine `id`; rejects with `engine_unavailable` (saying what to install or run) when it cannot. */
export async function createAsrEngine(id: AsrEngineId, options: AsrEngineOptions): Promise<AsrEngine> {
  return (await loadAsrEngineDescriptor(id)).create(options);
}

/** The engine a setting resolves to, and why (for `parley doctor`, `/health` and the start-up log). */
export interface AsrChoice {
  /** The engine that serves (or, when `available` is false, would serve once its model is there). */
  id: AsrEngineId;
  available: boolean;
  /** Why this engine: one line. When unavailable, what is missing and what to run. */
  reason: string;
  /** Better engines `auto` passed over, each with why (their model is missing, …). */
  passedOver: Array<{ id: AsrEngineId; reason: string }>;
}

/**
 * What `engine` (`auto` or an id) resolves to. `auto` probes the engines best first —
 * sensevoice › parakeet › whisper › moonshine › pocketsphinx — and takes the first whose model
 * is installed (the configured `model`, when there is one, must fit it). An explicit id is taken
 * as it is, available or not. With nothing available, `auto` reports the best engine as the one
 * to install, with every reason.
 */
export async function resolveAsrEngine(engine: 'auto' | AsrEngineId, options: AsrEngineOptions): Promise<AsrChoice> {
  if (engine !== 'auto') {
    const probe = await (await loadAsrEngineDescriptor(engine)).probe(options);
    return {
      id: engine,
      available: probe.available,
      reason: probe.available ? `set by PARLEY_ASR_ENGINE=${engine}` : (probe.reason ?? `${engine} is unavailable`),
      passedOver: [],
    };
  }
  const passedOver: AsrChoice['passedOver'] = [];
  for (const id of ASR_ENGINE_IDS) {
    // pocketsphinx reads a configured model only when it is a folder, and would otherwise fall
    // back to Debian's: a configured model that fits nothing must fail, not be ignored.
    if (id === 'pocketsphinx' && options.model !== undefined && !isDirectory(options.model)) {
      passedOver.push({ id, reason: `the configured model '${options.model}' is not a pocketsphinx model folder` });
      continue;
    }
    const probe = await (await loadAsrEngineDescriptor(id)).probe(options);
    if (probe.available) {
      const reason =
        options.model !== undefined
          ? `auto: the configured model (PARLEY_ASR_MODEL) fits it`
          : passedOver.length === 0
            ? 'auto: the best engine, and its model is installed'
            : `auto: the best engine whose model is installed (none for ${passedOver.map((p) => p.id).join(', ')})`;
      return { id, available: true, reason, passedOver };
    }
    passedOver.push({ id, reason: probe.reason ?? `${id} is unavailable` });
  }
  const model = options.model !== undefined ? `The ASR model '${options.model}' fits no engine` : 'No speech recognition engine is available';
  return {
    id: ASR_ENGINE_IDS[0],
    available: false,
    reason: `${model}. ${passedOver.map((p) => `${p.id}: ${p.reason}`).join(' ')}`,
    passedOver,
  };
}

/** The engine `auto` means; rejects with `engine_unavailable` listing every way out when none can run. */
export async function chooseDefaultAsrEngine(options: AsrEngineOptions): Promise<AsrEngineId> {
  const choice = await resolveAsrEngine('auto', options);
  if (!choice.available) throw ApiError.engineUnavailable(choice.reason);
  return choice.id;
}

/** Creates the configured engine (`asr.engine`: `auto` or an id). */
export async function createConfiguredAsrEngine(engine: 'auto' | AsrEngineId, options: AsrEngineOptions): Promise<AsrEngine> {
  const id = engine === 'auto' ? await chooseDefaultAsrEngine(options) : engine;
  return createAsrEngine(id, options);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
