/**
 * What an upstream failure (the `openai` SDK's typed errors) means to our client. The upstream's
 * own words reach the client only for a 400 (it is about the client's request, e.g. a context
 * too long); everything else gets our message, and the upstream's error goes to the cause (the log).
 */
import OpenAI from 'openai';
import { ApiError, isApiError } from '../../../errors.js';
import { UpstreamIdleTimeout } from './guarded-fetch.js';

/** `e` (thrown while asking `model`) as an ApiError; `midReply` once text or a tool call came. */
export function upstreamError(e: unknown, model: string, midReply: boolean): ApiError {
  if (isApiError(e)) return e;
  if (e instanceof UpstreamIdleTimeout) return upstreamTimeout(midReply ? 'stopped sending in the middle of a reply' : 'stopped sending', e);
  if (e instanceof OpenAI.APIConnectionTimeoutError) return upstreamTimeout('did not answer in time', e);
  if (e instanceof OpenAI.APIConnectionError) {
    const code = (e.cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(code)) {
      return ApiError.engineUnavailable('The upstream model server is not reachable: start it, or check PARLEY_LLM_URL.', e);
    }
    return upstreamBroken('closed the connection', e);
  }
  if (!(e instanceof OpenAI.APIError)) return upstreamBroken(midReply ? 'failed in the middle of a reply' : 'sent a reply that could not be read', e);
  // An error streamed in place of chunks has no HTTP status; llama.cpp's server puts one in `code`.
  const code: unknown = e.code;
  const status = e.status ?? (typeof code === 'number' && code >= 400 && code < 600 ? code : 502);
  if (midReply) return upstreamBroken('failed in the middle of a reply', e);
  if (status === 400 || status === 422) {
    const message = (e.error as { message?: unknown } | undefined)?.message;
    return new ApiError({
      status: 400,
      type: 'invalid_request_error',
      code: typeof code === 'string' ? code : null,
      param: typeof e.param === 'string' ? e.param : null,
      message: typeof message === 'string' && message !== '' ? message : 'The upstream model server rejected the request.',
      cause: e,
    });
  }
  if (status === 401 || status === 403) {
    return ApiError.engineUnavailable(`The upstream model server refused Parley's API key (HTTP ${status}): check PARLEY_LLM_API_KEY.`, e);
  }
  if (status === 404) {
    return ApiError.engineUnavailable(
      `The upstream model server does not serve the model '${model}' (HTTP 404): pull or load it there, or set PARLEY_LLM_MODEL; and check that PARLEY_LLM_URL ends in /v1.`,
      e,
    );
  }
  if (status === 429) {
    return new ApiError({
      status: 429,
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      message: 'The upstream model server is rate limiting requests. Please retry later.',
      cause: e,
    });
  }
  return upstreamBroken(`failed (HTTP ${status})`, e);
}

/** 502 `upstream_error`: the upstream failed, broke the stream or sent something unreadable. */
export function upstreamBroken(what: string, cause?: unknown): ApiError {
  return new ApiError({ status: 502, type: 'server_error', code: 'upstream_error', message: `The upstream model server ${what}.`, cause });
}

function upstreamTimeout(what: string, cause: unknown): ApiError {
  return new ApiError({ status: 504, type: 'server_error', code: 'upstream_timeout', message: `The upstream model server ${what}.`, cause });
}
