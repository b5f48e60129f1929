/**
 * The openai-compatible engine's descriptor: any OpenAI-style chat completions server at
 * `options.url`. Creating it contacts the upstream only to discover the model when none is set.
 */
import { ApiError } from '../../../errors.js';
import type { LlmEngineDescriptor, LlmEngineOptions } from '../types.js';
import { OPENAI_COMPATIBLE_DEFAULTS, OpenAiCompatibleEngine, type OpenAiCompatibleSettings } from './engine.js';

export { OPENAI_COMPATIBLE_DEFAULTS, OpenAiCompatibleEngine, type OpenAiCompatibleSettings } from './engine.js';

export const openAiCompatibleDescriptor: LlmEngineDescriptor = {
  id: 'openai-compatible',
  description: 'Any OpenAI-compatible chat completions server (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI)',
  create: (options) => createOpenAiCompatibleEngine(options),
};

/**
 * Checks the settings and builds the engine. `overrides` (tests, embedding) may set the retry
 * delays or a fetch implementation.
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
  let body: unknown;
  try {
    const response = await (settings.fetch ?? fetch)(`${settings.url.replace(/\/+$/, '')}/models`, {
      headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {},
      signal: AbortSignal.timeout(Math.min(settings.connectTimeoutMs, 10_000)),
    });
    if (!response.ok) throw new Error(`GET /models: HTTP ${response.status}`);
    body = await response.json();
  } catch (e) {
    throw ApiError.engineUnavailable(`No upstream model is configured and the upstream did not list its models. ${advice}`, e);
  }
  const data = (body as { data?: unknown } | null)?.data;
  const first = Array.isArray(data) ? (data[0] as { id?: unknown } | undefined) : undefined;
  if (typeof first?.id !== 'string') throw ApiError.engineUnavailable(`No upstream model is configured and the upstream lists none. ${advice}`);
  return first.id;
}
