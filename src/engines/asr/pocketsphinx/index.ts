/**
 * The pocketsphinx engine's descriptor. Importing this file loads nothing native; `probe` and
 * `create` load koffi and the Debian libraries.
 */
import fs from 'node:fs';
import { ApiError } from '../../../errors.js';
import type { AsrAvailability, AsrEngineDescriptor, AsrEngineOptions } from '../types.js';
import { findSphinxCli } from './cli.js';
import type { PocketsphinxEngine, SphinxBackend } from './engine.js';
import { DEFAULT_SPHINX_MODEL_DIR, locateSphinxModel, SPHINX_INSTALL_HINT } from './model.js';

export { DEFAULT_SPHINX_MODEL_DIR, SPHINX_INSTALL_HINT } from './model.js';

/** pocketsphinx settings beyond the common ones. */
export interface PocketsphinxOptions extends AsrEngineOptions {
  /** `auto` (default): in-process, else the CLI; `ffi` / `cli` force one (tests, diagnosis). */
  backend?: 'auto' | SphinxBackend;
}

export const pocketsphinxDescriptor: AsrEngineDescriptor = {
  id: 'pocketsphinx',
  description: 'CMU pocketsphinx (Debian package, US English, 16 kHz speech): works offline with no download',

  async probe(options: AsrEngineOptions): Promise<AsrAvailability> {
    const model = locateSphinxModel(modelDir(options));
    if (!model.ok) return { available: false, reason: `pocketsphinx's US English model is missing (${model.missing.join(', ')}): ${SPHINX_INSTALL_HINT}` };
    if (await canLoadLibraries()) return { available: true };
    if (findSphinxCli()) return { available: true };
    return { available: false, reason: `pocketsphinx is not installed (no libpocketsphinx.so.3, no pocketsphinx_continuous): ${SPHINX_INSTALL_HINT}` };
  },

  async create(options: AsrEngineOptions): Promise<PocketsphinxEngine> {
    return createPocketsphinxEngine(options);
  },
};

/** Checks the model, then loads the decoder in-process, falling back to the CLI if that fails. */
export async function createPocketsphinxEngine(options: PocketsphinxOptions): Promise<PocketsphinxEngine> {
  const model = locateSphinxModel(modelDir(options));
  if (!model.ok) {
    throw ApiError.engineUnavailable(`pocketsphinx's US English model is missing (${model.missing.join(', ')}). Install it: ${SPHINX_INSTALL_HINT}`);
  }
  const { PocketsphinxEngine, createSphinxDecoder } = await import('./engine.js');
  const timeout = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
  const backend = options.backend ?? 'auto';
  let ffiError: unknown;
  if (backend !== 'cli') {
    try {
      const decoder = await createSphinxDecoder(model.paths);
      return new PocketsphinxEngine({ model: model.paths, backend: 'ffi', decoder, ...timeout });
    } catch (e) {
      ffiError = e;
      if (backend === 'ffi') {
        throw ApiError.engineUnavailable(`pocketsphinx could not be loaded in-process (${message(e)}). Install it: ${SPHINX_INSTALL_HINT}`, e);
      }
    }
  }
  const cliBinary = findSphinxCli();
  if (!cliBinary) {
    throw ApiError.engineUnavailable(`pocketsphinx is not installed${ffiError ? ` (${message(ffiError)})` : ''}. Install it: ${SPHINX_INSTALL_HINT}`, ffiError);
  }
  return new PocketsphinxEngine({
    model: model.paths,
    backend: 'cli',
    cliBinary,
    ...timeout,
    ...(ffiError ? { fallbackReason: message(ffiError) } : {}),
  });
}

/** `options.model` when it names a model folder, else Debian's. */
function modelDir(options: AsrEngineOptions): string {
  if (options.model) {
    try {
      if (fs.statSync(options.model).isDirectory()) return options.model;
    } catch {
      // not a folder: the model setting is whisper's
    }
  }
  return DEFAULT_SPHINX_MODEL_DIR;
}

async function canLoadLibraries(): Promise<boolean> {
  try {
    const { loadSphinxApi } = await import('./ffi.js');
    await loadSphinxApi();
    return true;
  } catch {
    return false;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
