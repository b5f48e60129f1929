/**
 * The llama engine's descriptor. Importing this file is cheap: node-llama-cpp loads in `create`.
 */
import path from 'node:path';
import { ApiError } from '../../../errors.js';
import type { LlmEngineDescriptor, LlmEngineOptions } from '../types.js';
import type { LlamaEngine } from './engine.js';
import { DEFAULT_LLAMA_MODEL, isGgufFile, locateLlamaModel, missingLlamaModelError } from './model-file.js';

export { DEFAULT_LLAMA_MODEL } from './model-file.js';

export const llamaDescriptor: LlmEngineDescriptor = {
  id: 'llama',
  description: 'node-llama-cpp (llama.cpp) in-process: any GGUF chat model, CPU or GPU',
  create: (options) => createLlamaEngine(options),
};

/** Resolves the model, checks it is a GGUF file, then loads it (see engine.ts). */
export async function createLlamaEngine(options: LlmEngineOptions): Promise<LlamaEngine> {
  const location = await locateLlamaModel(options);
  if (!location.found) throw missingLlamaModelError(location, options.model !== undefined);
  const modelName = options.model ?? path.basename(location.path);
  let gguf: boolean;
  try {
    gguf = await isGgufFile(location.path);
  } catch (e) {
    throw ApiError.engineUnavailable(`The language model file of '${modelName}' could not be read: check its permissions.`, e);
  }
  if (!gguf) {
    throw ApiError.engineUnavailable(
      `The language model '${modelName}' is not a GGUF file. Set PARLEY_LLM_MODEL to a .gguf chat model, or run \`parley models pull ${DEFAULT_LLAMA_MODEL}\`.`,
    );
  }
  const { LlamaEngine } = await import('./engine.js');
  return LlamaEngine.create({
    modelPath: location.path,
    modelName,
    threads: options.threads,
    ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
    ...(options.gpu !== undefined ? { gpu: options.gpu } : {}),
  });
}
