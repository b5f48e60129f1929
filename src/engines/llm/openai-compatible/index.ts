/**
 * The openai-compatible engine's descriptor: any OpenAI-style chat completions server at
 * `options.url`. Creating it contacts the upstream only to discover the model when none is set.
 */
import { ApiError } from '../../../errors.js';
import type { LlmEngineDescriptor, LlmEngineOptions } from '../types.js';
import { OPENAI_COMPATIBLE_DEFAULTS, OpenAiCompatibleEngine, type OpenAiCompatibleSettings, openAiClient } from './engine.js';

export { OPENAI_COMPATIBLE_DEFAULTS, OpenAiCompatibleEngine, type OpenAiCompatibleSettings } from './engine.js';

export const openAiCompatibleDescriptor: LlmEngineDescriptor = {
  id: 'openai-compatible',
  description: 'Any OpenAI-compatible chat completions server (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI)',
  create: (options) => createOpenAiCompatibleEngine(options),
};

/**
 * Checks the settings and builds the engine. `overrides` (tests, embedding) may set any setting,
 * e.g. `maxRetryAfterMs` or a fetch implementation.
 */
export async function createOpenAiCompatibleEngine(
  options: LlmEngineOptions,
  overrides: Partial<OpenAiCompatibleSettings> = {},
): Promise<OpenAiCompatibleEngine> {
  const url = overrides.url ?? options.url;
  if (!url) {
    throw ApiError.engineUnavailable(
      'The openai-compatible engine needs the upstream URL: set PARLEY_LLM_URL (e.g. http://127.0.0.1:11434/v1 for Ollama, http://127.0.0.1:8000/v1 for vLLM).',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw ApiError.engineUnavailable('PARLEY_LLM_URL is not a valid URL (expected e.g. http://127.0.0.1:11434/v1).', e);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw ApiError.engineUnavailable('PARLEY_LLM_URL must be an http:// or https:// URL.');
  }
  const base: Omit<OpenAiCompatibleSettings, 'model'> = {
    ...OPENAI_COMPATIBLE_DEFAULTS,
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...overrides,
    url,
  };
  const model = overrides.model ?? options.model ?? (await discoverModel(base));
  return new OpenAiCompatibleEngine({ ...base, model });
}

/** The first model the upstream lists (`GET {url}/models`): right for single-model servers. */
async function discoverModel(settings: Omit<OpenAiCompatibleSettings, 'model'>): Promise<string> {
  const advice = 'Set PARLEY_LLM_MODEL to the upstream model name (e.g. qwen2.5:0.5b for Ollama).';
  let first: string | undefined;
  try {
    const client = openAiClient({ ...settings, maxRetries: 0, connectTimeoutMs: Math.min(settings.connectTimeoutMs, 10_000) });
    first = (await client.models.list()).data[0]?.id;
  } catch (e) {
    throw ApiError.engineUnavailable(`No upstream model is configured and the upstream did not list its models. ${advice}`, e);
  }
  if (typeof first !== 'string') throw ApiError.engineUnavailable(`No upstream model is configured and the upstream lists none. ${advice}`);
  return first;
}
