/**
 * LLM engine ids → lazily imported descriptors. Nothing heavy (node-llama-cpp) loads until an
 * engine is created.
 */
import { ApiError } from '../../errors.js';
import type { LlmEngine, LlmEngineDescriptor, LlmEngineOptions } from './types.js';

/** Every LLM engine id; the first is the default. */
export const LLM_ENGINE_IDS = ['llama', 'openai-compatible'] as const;
export type LlmEngineId = (typeof LLM_ENGINE_IDS)[number];

const loaders: Record<LlmEngineId, () => Promise<LlmEngineDescriptor>> = {
  llama: async () => (await import('./llama/index.js')).llamaDescriptor,
  'openai-compatible': async () => (await import('./openai-compatible/index.js')).openAiCompatibleDescriptor,
};

/** True for a known engine id. */
export function isLlmEngineId(id: string): id is LlmEngineId {
  return (LLM_ENGINE_IDS as readonly string[]).includes(id);
}

/** The descriptor of engine `id` (imports its folder's index, nothing native). */
export async function loadLlmEngineDescriptor(id: string): Promise<LlmEngineDescriptor> {
  if (!isLlmEngineId(id)) throw ApiError.invalidValue('llm.engine', id, LLM_ENGINE_IDS);
  return loaders[id]();
}

/**
 * Creates engine `id`; rejects with `engine_unavailable` (saying what to run or set) when the
 * model, the native library or the upstream settings are missing.
 */
export async function createLlmEngine(id: LlmEngineId | (string & {}), options: LlmEngineOptions): Promise<LlmEngine> {
  return (await loadLlmEngineDescriptor(id)).create(options);
}
