/**
 * The one error type of Parley. Everything that reaches a client as an error is an ApiError,
 * serialised in exactly one place (`toWire`) to OpenAI's shape:
 * `{"error":{"message","type","param","code"}}` (all four keys always present).
 * See ../shared/contract/07_errors.txt.
 * Lives outside http/ because every layer (engines, store, pipeline) raises it; http/ serialises it.
 */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  // OpenAI's 429s name what ran out: the request or token rate, or the quota (budget).
  | 'requests'
  | 'tokens'
  | 'insufficient_quota';

export interface ApiErrorInit {
  status: number;
  type: ApiErrorType;
  message: string;
  code?: string | null;
  param?: string | null;
  cause?: unknown;
  /** Response headers that go with the error (`retry-after`, `x-should-retry`, rate-limit headers). */
  headers?: Record<string, string>;
}

/** Wire shape of an error body. */
export interface WireError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class ApiError extends Error {
  /** HTTP status to answer with. */
  readonly status: number;
  /** OpenAI error type, e.g. `invalid_request_error`. */
  readonly type: ApiErrorType;
  /** Machine-readable code, e.g. `invalid_value`; null when OpenAI sends none. */
  readonly code: string | null;
  /** Path of the offending request field, e.g. `audio.voice`; null when not about one field. */
  readonly param: string | null;
  /** Response headers that go with the error. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ApiError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.headers = init.headers ?? {};
  }

  /** The body sent to the client. */
  toWire(): WireError {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /** 400 `invalid_value`: "Invalid value: 'x'. Supported values are: 'a', 'b', and 'c'." */
  static invalidValue(param: string, value: unknown, supported?: readonly string[]): ApiError {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    const tail = supported && supported.length > 0 ? ` Supported values are: ${listQuoted(supported)}.` : '';
    return new ApiError({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_value',
      param,
      message: `Invalid value: '${shown}'.${tail}`,
    });
  }

  /** 400 with a free message about one field (types, ranges, lengths). */
  static invalidRequest(param: string | null, message: string, code: string | null = null): ApiError {
    return new ApiError({ status: 400, type: 'invalid_request_error', code, param, message });
  }

  /** 400 `missing_required_parameter`. */
  static missingParameter(param: string): ApiError {
    return new ApiError({
      status: 400,
      type: 'invalid_request_error',
      code: 'missing_required_parameter',
      param,
      message: `Missing required parameter: '${param}'.`,
    });
  }

  /** 400 `unsupported_value`. */
  static unsupportedValue(param: string, message: string): ApiError {
    return new ApiError({ status: 400, type: 'invalid_request_error', code: 'unsupported_value', param, message });
  }

  /** 400 `unsupported_format`: input audio that cannot be decoded. */
  static unsupportedFormat(param: string | null, message = 'This model does not support the format you provided.'): ApiError {
    return new ApiError({ status: 400, type: 'invalid_request_error', code: 'unsupported_format', param, message });
  }

  /** 404 for a missing resource (model, file, batch, route). */
  static notFound(message: string, code: string | null = null, param: string | null = null): ApiError {
    return new ApiError({ status: 404, type: 'invalid_request_error', code, param, message });
  }

  /** 401 `invalid_api_key`. */
  static invalidApiKey(message: string): ApiError {
    return new ApiError({ status: 401, type: 'invalid_request_error', code: 'invalid_api_key', param: null, message });
  }

  /** 413 for a body over the limit. */
  static tooLarge(message: string, param: string | null = null): ApiError {
    return new ApiError({ status: 413, type: 'invalid_request_error', code: 'request_too_large', param, message });
  }

  /** 503 `engine_unavailable`: a model or native library is missing; the message says what to run. */
  static engineUnavailable(message: string, cause?: unknown): ApiError {
    return new ApiError({ status: 503, type: 'server_error', code: 'engine_unavailable', param: null, message, cause });
  }

  /**
   * 507 `insufficient_storage`: the server's disk (or its quota) is full, so what had to be kept
   * could not be written; nothing half-written is kept. Not the client's fault; retry later.
   */
  static insufficientStorage(cause?: unknown): ApiError {
    return new ApiError({
      status: 507,
      type: 'server_error',
      code: 'insufficient_storage',
      param: null,
      message: 'The server has no room left to store this request’s data. Please retry later.',
      cause,
      headers: { 'retry-after': '60' },
    });
  }

  /** 500 with OpenAI's generic wording; the cause goes to the log, never to the client. */
  static internal(cause?: unknown): ApiError {
    return new ApiError({
      status: 500,
      type: 'server_error',
      code: null,
      param: null,
      message: 'The server had an error while processing your request. Sorry about that!',
      cause,
    });
  }

  /**
   * 503 `server_overloaded`: the server's queues are full (a property of the whole server, unlike a
   * key's 429). `retry-after` says when to come back; clients and the SDK retry on it.
   */
  static overloaded(retryAfterSec: number, what = 'requests'): ApiError {
    const sec = Math.max(1, Math.ceil(retryAfterSec));
    return new ApiError({
      status: 503,
      type: 'server_error',
      code: 'server_overloaded',
      param: null,
      message: `The server is at capacity (too many ${what} in progress). Please retry after ${sec} second${sec === 1 ? '' : 's'}.`,
      headers: { 'retry-after': String(sec), 'retry-after-ms': String(sec * 1000) },
    });
  }

  /** 499-style cancellation (client went away); never serialised to a live client. */
  static cancelled(): ApiError {
    return new ApiError({ status: 499, type: 'invalid_request_error', code: 'request_cancelled', message: 'The request was cancelled.' });
  }
}

/** `'a', 'b', and 'c'` as OpenAI lists supported values. */
export function listQuoted(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  if (q.length <= 2) return q.join(' and ');
  return `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]}`;
}

/** Error codes meaning "the disk is full": the OS's (ENOSPC, EDQUOT) and SQLite's (SQLITE_FULL). */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** True when `error`, or an error in its `cause` chain, says the disk is full. */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (DISK_FULL.has(String((e as { code?: unknown }).code))) return true;
  }
  return false;
}

/** True for an ApiError (also across module copies). */
export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
