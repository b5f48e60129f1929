/** Finding the GGUF file: a path, or a cache name the model cache resolves. */
import fs from 'node:fs';
import { ApiError } from '../../../errors.js';
import { locateModelFile, type ModelFileLocation } from '../../model-file.js';
import type { LlmEngineOptions } from '../types.js';

/** The model `parley models pull` fetches for the llama engine, and the one looked for by default. */
export const DEFAULT_LLAMA_MODEL = 'qwen2.5-0.5b-instruct';

/** Where the model was found, or what was tried. */
export type LlamaModelLocation = ModelFileLocation;

/**
 * Resolves `options.model` (default `qwen2.5-0.5b-instruct`): through `options.resolveModel` when
 * given, else as a path (relative to the working directory), else as a file name in `modelsDir`.
 */
export function locateLlamaModel(options: Pick<LlmEngineOptions, 'model' | 'modelsDir' | 'resolveModel'>): Promise<LlamaModelLocation> {
  return locateModelFile(options.model ?? DEFAULT_LLAMA_MODEL, { ...options, extension: '.gguf' });
}

/**
 * The `engine_unavailable` error for a missing model. The message says what to run; the paths
 * tried go to the cause (the log), not to clients.
 */
export function missingLlamaModelError(location: Extract<LlamaModelLocation, { found: false }>, configured: boolean): ApiError {
  const what = configured ? `The language model '${location.name}' was not found` : 'No language model is installed';
  return ApiError.engineUnavailable(
    `${what}. Run \`parley models pull ${DEFAULT_LLAMA_MODEL}\`, or set PARLEY_LLM_MODEL to the path of a GGUF file.`,
    new Error(`looked in: ${location.tried.join(', ')}`, location.resolverError === undefined ? undefined : { cause: location.resolverError }),
  );
}

/** True when the file starts with the GGUF magic. */
export async function isGgufFile(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    return bytesRead === 4 && magic.toString('latin1') === 'GGUF';
  } finally {
    await handle.close();
  }
}
