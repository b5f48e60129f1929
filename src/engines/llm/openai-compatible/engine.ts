/**
 * The openai-compatible engine: any server speaking OpenAI's chat completions (Ollama, vLLM,
 * llama.cpp's server, LM Studio, OpenAI itself), always streamed (`stream: true`) with fetch.
 *
 * - Timeouts: `connectTimeoutMs` until the response headers, `idleTimeoutMs` between chunks.
 * - Retries (408/409/429/5xx, network failures, timeouts) with exponential backoff and jitter,
 *   honouring `retry-after(-ms)`, but only before the first token: once text reached `onText`
 *   a retry would repeat it, so a later failure is a 502.
 * - Tool calls streamed as deltas are assembled by index; usage comes from the final chunk
 *   (`stream_options.include_usage`), else is estimated (characters / 4).
 * - Aborting the signal aborts the fetch, which closes the upstream connection.
 */
import { ApiError, isApiError } from '../../../errors.js';
import { newToolCallId } from '../tool-call-id.js';
import type { LlmEngine, LlmGenerateOptions, LlmMessage, LlmResult, LlmToolCall, LlmUsage } from '../types.js';
import { SseParser } from './sse.js';
import {
  isRetryableStatus,
  parseUpstreamErrorBody,
  retryAfterMs,
  upstreamBrokenError,
  upstreamStatusError,
  upstreamUnreachableError,
} from './upstream-errors.js';

/** Settings of one upstream. */
export interface OpenAiCompatibleSettings {
  /** Base URL, e.g. `http://127.0.0.1:11434/v1` (`/chat/completions` is appended). */
  url: string;
  /** Upstream model id. */
  model: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** ms to wait for the response headers. */
  connectTimeoutMs: number;
  /** Longest silence between streamed chunks, in ms. */
  idleTimeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff delay in ms (doubled each retry, with jitter). */
  retryBaseDelayMs: number;
  /** Longest backoff delay in ms. */
  retryMaxDelayMs: number;
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
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
} as const;

/** One attempt's outcome: a result, or an error and whether another attempt may fix it. */
type Attempt = { ok: true; result: LlmResult } | { ok: false; error: ApiError; retryable: boolean; retryAfterMs?: number; streamOptionsRejected?: boolean };

/** Our own timeouts, told apart from aborts by the client. */
class UpstreamTimeout extends Error {
  constructor(readonly phase: 'connect' | 'idle') {
    super(`upstream ${phase} timeout`);
  }
}

/** An exception from the caller's `onText`: passed through untouched, never retried. */
class CallbackError extends Error {
  constructor(readonly original: unknown) {
    super('onText threw');
  }
}

export class OpenAiCompatibleEngine implements LlmEngine {
  /** Engine id. */
  readonly id = 'openai-compatible';
  /** The upstream model id. */
  readonly model: string;

  private readonly settings: OpenAiCompatibleSettings;
  private readonly endpoint: string;
  private readonly active = new Set<AbortController>();
  private disposed = false;

  constructor(settings: OpenAiCompatibleSettings) {
    this.settings = settings;
    this.model = settings.model;
    this.endpoint = `${settings.url.replace(/\/+$/, '')}/chat/completions`;
  }

  /** Streams one reply from the upstream (retrying before the first token). */
  async generate(options: LlmGenerateOptions): Promise<LlmResult> {
    if (this.disposed) throw unloaded();
    const signal = options.signal;
    let includeUsage = true;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const outcome = await this.attempt(options, includeUsage);
      if (outcome.ok) return outcome.result;
      if (outcome.streamOptionsRejected && includeUsage) {
        // An older server that rejects `stream_options`: ask again without it (usage is then estimated).
        includeUsage = false;
        attempt--;
        continue;
      }
      if (!outcome.retryable || attempt >= this.settings.maxRetries) throw outcome.error;
      const wait = outcome.retryAfterMs ?? this.backoff(attempt);
      if (wait > this.settings.maxRetryAfterMs) throw outcome.error;
      await sleep(wait, signal);
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

  private backoff(attempt: number): number {
    const { retryBaseDelayMs, retryMaxDelayMs } = this.settings;
    const delay = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** attempt);
    return delay * (0.75 + Math.random() * 0.25); // jitter: spread retries of many clients
  }

  private async attempt(options: LlmGenerateOptions, includeUsage: boolean): Promise<Attempt> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.active.add(controller);
    let timer: NodeJS.Timeout | undefined = setTimeout(() => controller.abort(new UpstreamTimeout('connect')), this.settings.connectTimeoutMs);
    const armIdle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new UpstreamTimeout('idle')), this.settings.idleTimeoutMs);
    };
    const reply = new ReplyAssembler(options.onText);
    try {
      const fetchImpl = this.settings.fetch ?? fetch;
      const response = await fetchImpl(this.endpoint, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify(requestBody(this.model, options, includeUsage)),
        signal: controller.signal,
      });
      armIdle();
      if (!response.ok) {
        const body = parseUpstreamErrorBody(await response.text());
        return {
          ok: false,
          error: upstreamStatusError(response.status, body, this.model),
          retryable: isRetryableStatus(response.status),
          ...(retryAfterMs(response.headers) !== undefined ? { retryAfterMs: retryAfterMs(response.headers)! } : {}),
          streamOptionsRejected: response.status === 400 && /stream_options/i.test(body.message ?? ''),
        };
      }
      const type = response.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream')) {
        // A server that ignored `stream: true` and answered with one JSON completion.
        reply.applyCompletion(JSON.parse(await response.text()) as unknown);
        return { ok: true, result: reply.result(options.messages) };
      }
      if (!response.body) throw upstreamBrokenError('sent an empty response');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      let finished = false;
      try {
        while (!finished) {
          const { done, value } = await reader.read();
          armIdle();
          const events = done ? [...parser.push(decoder.decode()), ...parser.end()] : parser.push(decoder.decode(value, { stream: true }));
          for (const ev of events) {
            if (ev.data === '[DONE]') {
              finished = true;
              break;
            }
            let chunk: unknown;
            try {
              chunk = JSON.parse(ev.data);
            } catch (e) {
              throw upstreamBrokenError('sent a chunk that is not JSON', e);
            }
            const streamedError = errorOfChunk(chunk);
            if (streamedError !== undefined) {
              if (reply.emitted) return { ok: false, error: upstreamBrokenError('failed in the middle of a reply', streamedError.error), retryable: false };
              return {
                ok: false,
                error: upstreamStatusError(streamedError.status, parseUpstreamErrorBody(ev.data), this.model),
                retryable: isRetryableStatus(streamedError.status),
              };
            }
            reply.applyChunk(chunk);
          }
          if (done) break;
        }
      } finally {
        // After [DONE] the server ends the response anyway; cancelling frees the connection now.
        void reader.cancel().catch(() => undefined);
      }
      if (!finished && reply.finishReason === undefined) {
        return { ok: false, error: upstreamBrokenError('closed the stream before the reply ended'), retryable: !reply.emitted };
      }
      return { ok: true, result: reply.result(options.messages) };
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (e instanceof CallbackError) throw e.original;
      if (this.disposed) return { ok: false, error: unloaded(), retryable: false };
      const reason: unknown = controller.signal.reason;
      if (reason instanceof UpstreamTimeout) {
        const what = reason.phase === 'connect' ? 'did not answer in time' : 'stopped sending in the middle of a reply';
        return { ok: false, error: upstreamBrokenError(what, reason), retryable: !reply.emitted };
      }
      if (isApiError(e)) return { ok: false, error: e, retryable: false };
      if (e instanceof SyntaxError) return { ok: false, error: upstreamBrokenError('sent a reply that is not JSON', e), retryable: false };
      const error = isUnreachable(e) ? upstreamUnreachableError(e) : upstreamBrokenError('closed the connection', e);
      return { ok: false, error, retryable: !reply.emitted };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.active.delete(controller);
    }
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream, application/json' };
    if (this.settings.apiKey) h.authorization = `Bearer ${this.settings.apiKey}`;
    return h;
  }
}

/** Collects text, tool-call deltas, the finish reason and usage of one reply. */
class ReplyAssembler {
  /** True once text or a tool call reached us (from then on, no retries). */
  emitted = false;
  finishReason: string | undefined;
  private text = '';
  private readonly calls: Array<{ id?: string; name: string; arguments: string } | undefined> = [];
  private usage: { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } } | undefined;

  constructor(private readonly onText: ((delta: string) => void) | undefined) {}

  applyChunk(chunk: unknown): void {
    if (typeof chunk !== 'object' || chunk === null) return;
    const c = chunk as { usage?: unknown; choices?: unknown };
    if (typeof c.usage === 'object' && c.usage !== null) this.usage = c.usage as ReplyAssembler['usage'];
    const choice = Array.isArray(c.choices) ? (c.choices[0] as Record<string, unknown> | undefined) : undefined;
    if (!choice) return;
    const delta = (choice.delta ?? choice.message) as { content?: unknown; tool_calls?: unknown } | undefined;
    if (delta) {
      if (typeof delta.content === 'string' && delta.content !== '') this.addText(delta.content);
      if (Array.isArray(delta.tool_calls)) for (const [i, tc] of delta.tool_calls.entries()) this.addToolCallDelta(tc, i);
    }
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
  }

  /** A whole (non-streamed) completion. */
  applyCompletion(body: unknown): void {
    this.applyChunk(body);
  }

  result(messages: readonly LlmMessage[]): LlmResult {
    const toolCalls: LlmToolCall[] = [];
    for (const c of this.calls) {
      if (!c || c.name === '') continue;
      toolCalls.push({ id: c.id ?? newToolCallId(), name: c.name, arguments: c.arguments === '' ? '{}' : c.arguments });
    }
    const fr = this.finishReason;
    const finishReason = fr === 'length' ? 'length' : toolCalls.length > 0 || fr === 'tool_calls' || fr === 'function_call' ? 'tool_calls' : 'stop';
    return { text: this.text, toolCalls, finishReason, usage: this.resolveUsage(messages, toolCalls) };
  }

  private addText(text: string): void {
    this.text += text;
    this.emitted = true;
    if (!this.onText) return;
    try {
      this.onText(text);
    } catch (e) {
      throw new CallbackError(e);
    }
  }

  private addToolCallDelta(delta: unknown, position: number): void {
    if (typeof delta !== 'object' || delta === null) return;
    const d = delta as { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } };
    // OpenAI sends `index`; some servers send whole calls without one (then: by id, else position).
    let index = typeof d.index === 'number' ? d.index : this.calls.findIndex((c) => c !== undefined && c.id !== undefined && c.id === d.id);
    if (index < 0) index = typeof d.id === 'string' ? this.calls.length : position;
    const call = (this.calls[index] ??= { name: '', arguments: '' });
    if (typeof d.id === 'string' && d.id !== '') call.id = d.id;
    const name = d.function?.name;
    if (typeof name === 'string' && name !== '' && name !== call.name) call.name += name;
    const args = d.function?.arguments;
    if (typeof args === 'string') call.arguments += args;
    else if (typeof args === 'object' && args !== null) call.arguments = JSON.stringify(args); // Ollama's native shape
    this.emitted = true;
  }

  private resolveUsage(messages: readonly LlmMessage[], toolCalls: LlmToolCall[]): LlmUsage {
    const u = this.usage;
    if (u && typeof u.prompt_tokens === 'number' && typeof u.completion_tokens === 'number') {
      const cached = u.prompt_tokens_details?.cached_tokens;
      return { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, cachedTokens: typeof cached === 'number' ? cached : 0 };
    }
    // Estimated: ~4 characters a token, plus a few template tokens per message.
    const promptChars = messages.reduce((n, m) => n + m.content.length + (m.toolCalls ?? []).reduce((k, c) => k + c.name.length + c.arguments.length, 0), 0);
    const outputChars = this.text.length + toolCalls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);
    return { promptTokens: Math.ceil(promptChars / 4) + 4 * messages.length, completionTokens: Math.ceil(outputChars / 4), cachedTokens: 0 };
  }
}

/** OpenAI's request body for our options. */
export function requestBody(model: string, options: LlmGenerateOptions, includeUsage: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages: options.messages.map(toWireMessage), stream: true };
  if (includeUsage) body.stream_options = { include_usage: true };
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.topP !== undefined) body.top_p = options.topP;
  if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
  if (options.stop && options.stop.length > 0) body.stop = options.stop;
  if (options.seed !== undefined) body.seed = options.seed;
  if (options.frequencyPenalty !== undefined) body.frequency_penalty = options.frequencyPenalty;
  if (options.presencePenalty !== undefined) body.presence_penalty = options.presencePenalty;
  const format = options.responseFormat;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: format.name, schema: format.schema, ...(format.strict !== undefined ? { strict: format.strict } : {}) },
    };
  }
  if (options.tools && options.tools.length > 0) {
    body.tools = options.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}) },
    }));
    const choice = options.toolChoice;
    if (choice !== undefined) body.tool_choice = typeof choice === 'object' ? { type: 'function', function: { name: choice.name } } : choice;
  }
  return body;
}

function toWireMessage(m: LlmMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', content: m.content, ...(m.toolCallId ? { tool_call_id: m.toolCallId } : {}) };
  if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: m.content === '' ? null : m.content,
      tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  return { role: m.role, content: m.content };
}

/**
 * An `{"error": …}` chunk some servers stream instead of failing the request, with the HTTP
 * status it stands for (llama.cpp's server puts one in `error.code`; else 502).
 */
function errorOfChunk(chunk: unknown): { error: unknown; status: number } | undefined {
  if (typeof chunk !== 'object' || chunk === null) return undefined;
  const error = (chunk as { error?: unknown }).error;
  if (error === undefined || error === null) return undefined;
  const code = typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  const status = typeof code === 'number' && code >= 400 && code < 600 ? code : 502;
  return { error, status };
}

/** About four characters per token (OpenAI's rule of thumb for English). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function isUnreachable(e: unknown): boolean {
  const code = (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function unloaded(): ApiError {
  return ApiError.engineUnavailable('The language model engine was shut down; retry the request.');
}
