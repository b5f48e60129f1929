/**
 * The openai-compatible engine: any server speaking OpenAI's chat completions (Ollama, vLLM,
 * llama.cpp's server, LM Studio, OpenAI, another Parley) through the official `openai` SDK,
 * always streamed.
 *
 * - The SDK retries 408/409/429/5xx and connection failures (`maxRetries`), honouring
 *   `retry-after(-ms)` and `x-should-retry`, always before the body starts; `guarded-fetch.ts`
 *   extends that to a body that breaks or stays silent before its first bytes, and adds the
 *   idle timeout. Once text reached `onText` nothing is retried: a later failure is a 502/504.
 * - The SDK's `timeout` ends when the response starts, so it is our `connectTimeoutMs`.
 * - Tool calls streamed as deltas are assembled by index; usage comes from the final chunk
 *   (`stream_options.include_usage`), else is estimated (characters / 4).
 * - Aborting the signal aborts the request, which closes the upstream connection.
 */
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { ApiError } from '../../../errors.js';
import { newToolCallId } from '../tool-call-id.js';
import type { LlmEngine, LlmGenerateOptions, LlmMessage, LlmResult, LlmToolCall, LlmUsage } from '../types.js';
import { guardedFetch } from './guarded-fetch.js';
import { upstreamBroken, upstreamError } from './upstream-errors.js';

/** Settings of one upstream. */
export interface OpenAiCompatibleSettings {
  /** Base URL, e.g. `http://127.0.0.1:11434/v1` (`/chat/completions` is appended). */
  url: string;
  /** Upstream model id. */
  model: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** ms to wait for the response to start (headers and first bytes), per attempt. */
  connectTimeoutMs: number;
  /** Longest silence between streamed chunks, in ms. */
  idleTimeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** A `retry-after` longer than this (ms) is not waited for: the error goes to the client. */
  maxRetryAfterMs: number;
  /** The fetch to use (tests; default the global one). */
  fetch?: typeof fetch;
}

/** Defaults of the timing settings. */
export const OPENAI_COMPATIBLE_DEFAULTS = {
  connectTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxRetries: 2,
  maxRetryAfterMs: 60_000,
} as const;

/** The SDK client for one upstream. */
export function openAiClient(settings: Omit<OpenAiCompatibleSettings, 'model'>): OpenAI {
  return new OpenAI({
    baseURL: settings.url,
    // The SDK insists on a key; without one, the header is removed (null) instead of sent.
    apiKey: settings.apiKey || 'none',
    ...(settings.apiKey ? {} : { defaultHeaders: { Authorization: null } }),
    // Explicit, so OPENAI_ORG_ID / OPENAI_PROJECT_ID in Parley's environment never reach an upstream.
    organization: null,
    project: null,
    timeout: settings.connectTimeoutMs,
    maxRetries: settings.maxRetries,
    fetch: guardedFetch(settings.fetch ?? fetch, settings.idleTimeoutMs, settings.maxRetryAfterMs),
  });
}

export class OpenAiCompatibleEngine implements LlmEngine {
  /** Engine id. */
  readonly id = 'openai-compatible';
  /** The upstream model id. */
  readonly model: string;

  private readonly client: OpenAI;
  private readonly active = new Set<AbortController>();
  private disposed = false;

  constructor(settings: OpenAiCompatibleSettings) {
    this.model = settings.model;
    this.client = openAiClient(settings);
  }

  /** Streams one reply from the upstream. */
  async generate(options: LlmGenerateOptions): Promise<LlmResult> {
    if (this.disposed) throw unloaded();
    options.signal?.throwIfAborted();
    // One signal for the caller's abort and dispose(); its reason is what we throw.
    const controller = new AbortController();
    const forward = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', forward, { once: true });
    this.active.add(controller);
    // The SDK sleeps between retries without watching the signal: racing it keeps aborts prompt.
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
    const reply = new Reply();
    let inCallback = false;
    const open = (includeUsage: boolean): Promise<AsyncIterable<ChatCompletionChunk>> =>
      Promise.race([this.client.chat.completions.create(requestBody(this.model, options, includeUsage), { signal: controller.signal }), aborted]);
    try {
      const stream = await open(true).catch((e: unknown) => {
        // An older server that rejects `stream_options`: ask again without it (usage is then estimated).
        if (e instanceof OpenAI.BadRequestError && /stream_options/i.test(e.message)) return open(false);
        throw e;
      });
      for await (const chunk of stream) {
        const text = reply.add(chunk);
        // An exception from the caller's onText passes through untouched.
        inCallback = true;
        if (text !== '') options.onText?.(text);
        inCallback = false;
      }
      // An aborted stream ends quietly in the SDK: the reason is thrown below.
      controller.signal.throwIfAborted();
      if (reply.finishReason === undefined) throw upstreamBroken('closed the stream before the reply ended');
      return reply.result(options.messages);
    } catch (e) {
      controller.signal.throwIfAborted();
      if (inCallback) throw e;
      throw upstreamError(e, this.model, reply.emitted);
    } finally {
      options.signal?.removeEventListener('abort', forward);
      this.active.delete(controller);
    }
  }

  /** An estimate: upstream tokenizers are unknown here (about four characters per token). */
  async countTokens(text: string): Promise<number> {
    return estimateTokens(text);
  }

  /** Aborts requests in flight; later calls fail with engine_unavailable. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const c of this.active) c.abort(unloaded());
    this.active.clear();
  }
}

/** One reply being streamed: text, tool calls assembled from their deltas, finish reason, usage. */
class Reply {
  text = '';
  finishReason: string | undefined;
  private usage: CompletionUsage | undefined;
  private readonly calls: Array<{ id?: string; name: string; arguments: string } | undefined> = [];

  /** True once text or a tool call came (then a failure is mid-reply). */
  get emitted(): boolean {
    return this.text !== '' || this.calls.length > 0;
  }

  /** Takes one chunk; returns its text. */
  add(chunk: ChatCompletionChunk): string {
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0] as (ChatCompletionChunk.Choice & { message?: ChatCompletionChunk.Choice.Delta }) | undefined;
    if (!choice) return '';
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    // `message`: a whole completion from a server that ignored `stream: true` (see guarded-fetch.ts).
    const delta = choice.delta ?? choice.message ?? {};
    for (const call of delta.tool_calls ?? []) this.addToolCall(call);
    const text = delta.content ?? '';
    this.text += text;
    return text;
  }

  result(messages: readonly LlmMessage[]): LlmResult {
    const toolCalls: LlmToolCall[] = this.calls
      .filter((c) => c !== undefined && c.name !== '')
      .map((c) => ({ id: c!.id ?? newToolCallId(), name: c!.name, arguments: c!.arguments || '{}' }));
    const fr = this.finishReason;
    const finishReason = fr === 'length' ? 'length' : toolCalls.length > 0 || fr === 'tool_calls' || fr === 'function_call' ? 'tool_calls' : 'stop';
    return { text: this.text, toolCalls, finishReason, usage: this.resolveUsage(messages, toolCalls) };
  }

  private addToolCall(d: ChatCompletionChunk.Choice.Delta.ToolCall): void {
    // OpenAI numbers each call's deltas by `index`; whole calls without one are told apart by id.
    const last = this.calls.length - 1;
    const index = typeof d.index === 'number' ? d.index : d.id && d.id !== this.calls[last]?.id ? last + 1 : Math.max(last, 0);
    const call = (this.calls[index] ??= { name: '', arguments: '' });
    if (d.id) call.id = d.id;
    const name = d.function?.name;
    if (name && name !== call.name) call.name += name; // some servers repeat the whole name in every delta
    const args: unknown = d.function?.arguments;
    if (typeof args === 'string') call.arguments += args;
    else if (typeof args === 'object' && args !== null) call.arguments = JSON.stringify(args); // Ollama's native shape
  }

  private resolveUsage(messages: readonly LlmMessage[], toolCalls: LlmToolCall[]): LlmUsage {
    const u = this.usage;
    if (typeof u?.prompt_tokens === 'number' && typeof u.completion_tokens === 'number') {
      return { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, cachedTokens: u.prompt_tokens_details?.cached_tokens ?? 0 };
    }
    // Estimated: ~4 characters a token, plus a few template tokens per message.
    const callChars = (calls: readonly LlmToolCall[]): number => calls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);
    const promptChars = messages.reduce((n, m) => n + m.content.length + callChars(m.toolCalls ?? []), 0);
    return {
      promptTokens: Math.ceil(promptChars / 4) + 4 * messages.length,
      completionTokens: Math.ceil((this.text.length + callChars(toolCalls)) / 4),
      cachedTokens: 0,
    };
  }
}

/** OpenAI's request body for our options (undefined fields are left out of the JSON). */
function requestBody(model: string, o: LlmGenerateOptions, includeUsage: boolean): ChatCompletionCreateParamsStreaming {
  const format = o.responseFormat;
  const choice = o.toolChoice;
  const tools = o.tools && o.tools.length > 0 ? o.tools : undefined;
  return {
    model,
    messages: o.messages.map(toWireMessage),
    stream: true,
    stream_options: includeUsage ? { include_usage: true } : undefined,
    temperature: o.temperature,
    top_p: o.topP,
    // Not `max_completion_tokens`: most OpenAI-compatible servers know only `max_tokens`.
    max_tokens: o.maxTokens,
    stop: o.stop && o.stop.length > 0 ? o.stop : undefined,
    seed: o.seed,
    frequency_penalty: o.frequencyPenalty,
    presence_penalty: o.presencePenalty,
    response_format:
      format?.type === 'json_schema'
        ? { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, strict: format.strict } }
        : format?.type === 'json_object'
          ? { type: 'json_object' }
          : undefined,
    tools: tools?.map((t) => ({ type: 'function', function: { name: t.name, description: t.description || undefined, parameters: t.parameters } })),
    tool_choice: !tools || choice === undefined ? undefined : typeof choice === 'object' ? { type: 'function', function: { name: choice.name } } : choice,
  };
}

function toWireMessage(m: LlmMessage): ChatCompletionMessageParam {
  if (m.role === 'tool') return { role: 'tool', content: m.content, tool_call_id: m.toolCallId as string }; // left out of the JSON when absent
  if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: m.content === '' ? null : m.content,
      tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  return { role: m.role, content: m.content };
}

/** About four characters per token (OpenAI's rule of thumb for English). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function unloaded(): ApiError {
  return ApiError.engineUnavailable('The language model engine was shut down; retry the request.');
}
