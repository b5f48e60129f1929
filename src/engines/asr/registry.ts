/**
 * ASR engine ids → lazily imported descriptors, and the choice of the default engine.
 * Nothing native loads until an engine is probed or created.
 */
import { ApiError } from '../../errors.js';
import type { AsrEngine, AsrEngineDescriptor, AsrEngineOptions } from './types.js';

/** Every ASR engine id, best first. */
export const ASR_ENGINE_IDS = ['whisper', 'pocketsphinx'] as const;
export type AsrEngineId = (typeof ASR_ENGINE_IDS)[number];

const loaders: Record<AsrEngineId, () => Promise<AsrEngineDescriptor>> = {
  whisper: async () => (await import('./whisper/index.js')).whisperDescriptor,
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

/**
 * The engine `auto` means: whisper when a model is configured (a configured model that is
 * missing then fails loudly in `create`, rather than silently using another engine) or the
 * default model is in the cache; else pocketsphinx when its library and model are installed;
 * else an `engine_unavailable` error listing both ways out.
 */
export async function chooseDefaultAsrEngine(options: AsrEngineOptions): Promise<AsrEngineId> {
  if (options.model !== undefined) return 'whisper';
  const whisper = await (await loadAsrEngineDescriptor('whisper')).probe(options);
  if (whisper.available) return 'whisper';
  const sphinx = await (await loadAsrEngineDescriptor('pocketsphinx')).probe(options);
  if (sphinx.available) return 'pocketsphinx';
  throw ApiError.engineUnavailable(
    'No speech recognition engine is available. Either download a whisper model: `parley models pull whisper-base.en` ' +
      '(or set PARLEY_ASR_MODEL to the path of a whisper.cpp ggml-*.bin file), or install pocketsphinx: ' +
      '`apt-get install pocketsphinx pocketsphinx-en-us`. ' +
      `(whisper: ${whisper.reason ?? 'unavailable'}; pocketsphinx: ${sphinx.reason ?? 'unavailable'})`,
  );
}

/** Creates the configured engine (`asr.engine`: `auto` or an id). */
export async function createConfiguredAsrEngine(engine: 'auto' | AsrEngineId, options: AsrEngineOptions): Promise<AsrEngine> {
  const id = engine === 'auto' ? await chooseDefaultAsrEngine(options) : engine;
  return createAsrEngine(id, options);
}
