/**
 * What an upstream failure means to our client. The upstream's own words reach the client only
 * for a 400 (it is about the client's request); everything else gets our message, and the
 * upstream's body goes to the cause (the log).
 */
import { ApiError } from '../../../errors.js';

/** An upstream error body, as far as it could be read (OpenAI, vLLM, llama.cpp, Ollama shapes). */
export interface UpstreamErrorBody {
  message?: string;
  code?: string;
  param?: string;
  type?: string;
}

/** Statuses worth another attempt (OpenAI's SDK retries the same set). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Reads `{"error":{message,…}}`, `{"error":"…"}`, `{"message":"…"}` or plain text. */
export function parseUpstreamErrorBody(text: string): UpstreamErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return trimmed ? { message: trimmed.slice(0, 500) } : {};
  }
  if (typeof json !== 'object' || json === null) return {};
  const top = json as Record<string, unknown>;
  const inner = typeof top.error === 'object' && top.error !== null ? (top.error as Record<string, unknown>) : top;
  const out: UpstreamErrorBody = {};
  const message = typeof top.error === 'string' ? top.error : inner.message;
  if (typeof message === 'string') out.message = message;
  if (typeof inner.code === 'string') out.code = inner.code;
  if (typeof inner.param === 'string') out.param = inner.param;
  if (typeof inner.type === 'string') out.type = inner.type;
  return out;
}

/** The error for an upstream HTTP status that will not be retried (again). */
export function upstreamStatusError(status: number, body: UpstreamErrorBody, model: string): ApiError {
  const cause = new Error(`upstream HTTP ${status}: ${JSON.stringify(body)}`);
  if (status === 400 || status === 422) {
    return new ApiError({
      status: 400,
      type: 'invalid_request_error',
      code: body.code ?? null,
      param: body.param ?? null,
      message: body.message ?? 'The upstream model server rejected the request.',
      cause,
    });
  }
  if (status === 401 || status === 403) {
    return new ApiError({
      status: 502,
      type: 'server_error',
      code: 'upstream_auth_failed',
      message: `The upstream model server refused Parley's API key (HTTP ${status}): check PARLEY_LLM_API_KEY.`,
      cause,
    });
  }
  if (status === 404) {
    return ApiError.engineUnavailable(
      `The upstream model server does not serve the model '${model}' (HTTP 404): pull or load it there, or set PARLEY_LLM_MODEL; and check that PARLEY_LLM_URL ends in /v1.`,
      cause,
    );
  }
  if (status === 429) {
    return new ApiError({
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      message: 'The upstream model server is rate limiting requests. Please retry later.',
      cause,
    });
  }
  return new ApiError({
    status: 502,
    type: 'server_error',
    code: 'upstream_error',
    message: `The upstream model server failed (HTTP ${status}).`,
    cause,
  });
}

/** The upstream could not be reached at all (refused, DNS, TLS). */
export function upstreamUnreachableError(cause: unknown): ApiError {
  return ApiError.engineUnavailable('The upstream model server is not reachable: start it, or check PARLEY_LLM_URL.', cause);
}

/** The upstream went quiet, or the stream broke, or it sent something unreadable. */
export function upstreamBrokenError(what: string, cause?: unknown): ApiError {
  return new ApiError({ status: 502, type: 'server_error', code: 'upstream_error', message: `The upstream model server ${what}.`, cause });
}

/**
 * How long `retry-after` / `retry-after-ms` ask us to wait, in ms; undefined when absent or
 * unreadable.
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
