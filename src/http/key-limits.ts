import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatResetDuration } from '../lib/duration.js';
import { inputAudioTokens, outputAudioTokens } from '../pipeline/chat/usage.js';
import type { RequestTimings, UsageEntry, UsageRecorder } from '../pipeline/context.js';
import { textTokens } from '../pipeline/metering.js';
import type { Services } from '../runtime/services.js';
import type { KeyRecord, LimitCounts } from '../store/keys.js';
import { workClass } from './admission.js';
import { INTERNAL_TOKEN_HEADER } from './auth.js';
import { ApiError, type ApiErrorInit } from './errors.js';

/**
 * A key's 429 (rate, parallel requests, budget). On Azure routes it answers in Azure's form,
 * `{"error": {"code": "429", "message": "… Please retry after N seconds …"}}`.
 */
export class KeyLimitError extends ApiError {
  readonly #azureMessage: string;

  constructor(init: ApiErrorInit & { azureMessage: string }) {
    super(init);
    this.#azureMessage = init.azureMessage;
  }

  /** Azure OpenAI's 429 body. */
  toAzureWire() {
    return { error: { code: '429', message: this.#azureMessage } };
  }
}

/** What one admitted request took from its key's window, to settle when its usage is known. */
interface Ticket {
  keyId: string;
  windowStart: number;
  estimate: number;
  settled: boolean;
}

const tickets = new WeakMap<FastifyRequest, Ticket>();

/** Typical speaking rate of synthesized speech, characters per second (for estimating speech's audio tokens). */
const SPOKEN_CHARS_PER_SEC = 15;
/** Bytes per second assumed for compressed audio whose length cannot be read from a header (128 kbit/s). */
const COMPRESSED_BYTES_PER_SEC = 16_000;

/** Seconds of base64 audio: exact for WAV (its byte rate), else at 128 kbit/s. */
function audioSeconds(base64: string): number {
  const bytes = (base64.length * 3) / 4;
  const head = Buffer.from(base64.slice(0, 48), 'base64');
  if (head.length >= 32 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE') {
    const byteRate = head.readUInt32LE(28);
    if (byteRate > 0) return bytes / byteRate;
  }
  return bytes / COMPRESSED_BYTES_PER_SEC;
}

/** Tokens of a chat message's content: text parts by length, audio parts as billed (10 a second heard). */
function contentTokens(content: unknown): number {
  if (typeof content === 'string') return textTokens(content);
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content as Array<Record<string, unknown>>) {
    if (typeof part?.text === 'string') n += textTokens(part.text);
    const audio = (part?.input_audio as { data?: unknown } | undefined)?.data;
    if (typeof audio === 'string') n += inputAudioTokens(audioSeconds(audio));
  }
  return n;
}

/**
 * A request's tokens before it runs, counted as they will be billed: prompt text at 4 characters a
 * token, audio heard at 10 tokens a second, plus what the request asks to generate (`max_tokens`,
 * or speech's input spoken at 20 tokens a second). Uploads are judged by their size. The estimate
 * is replaced by the real count when the request's usage is recorded.
 */
export function estimateTokens(request: FastifyRequest): number {
  const body = request.body;
  if (body === null || typeof body !== 'object') {
    // A multipart upload (transcriptions, analysis): its length in seconds at 128 kbit/s.
    const length = Number(request.headers['content-length'] ?? 0);
    return Number.isFinite(length) ? inputAudioTokens(length / COMPRESSED_BYTES_PER_SEC) : 0;
  }
  const b = body as Record<string, unknown>;
  let n = 0;
  if (Array.isArray(b.messages)) for (const m of b.messages as Array<Record<string, unknown>>) n += contentTokens(m?.content);
  const max = b.max_completion_tokens ?? b.max_tokens;
  if (typeof max === 'number' && Number.isFinite(max) && max > 0) n += Math.ceil(max);
  if (typeof b.input === 'string') {
    n += textTokens(b.input);
    // Speech: what will be spoken, 20 tokens a second.
    if (typeof b.voice === 'string' || typeof b.voice === 'object') n += outputAudioTokens(b.input.length / SPOKEN_CHARS_PER_SEC);
  } else if (Array.isArray(b.input)) {
    n += contentTokens(b.input);
  }
  if (typeof b.audio === 'string') n += inputAudioTokens(audioSeconds(b.audio));
  return n;
}

/** The model a request names: the Azure deployment in the path, else the JSON body's `model`. */
function requestedModel(request: FastifyRequest): string | undefined {
  const deployment = (request.params as { deployment?: unknown } | undefined)?.deployment;
  if (typeof deployment === 'string') return deployment;
  const model = (request.body as { model?: unknown } | null | undefined)?.model;
  return typeof model === 'string' ? model : undefined;
}

/**
 * 403 `model_not_found` (OpenAI's answer to a project without access to a model) when the
 * request's key may not use `model`. A key's `models` may list served ids or aliases; either name
 * of a model grants it.
 */
export function assertModelAllowed(request: FastifyRequest, services: Services, model: string): void {
  const allowed = request.apiKey?.models;
  if (!allowed) return;
  if (allowed.includes(model)) return;
  const served = services.models.find(model)?.id;
  if (served !== undefined && allowed.includes(served)) return;
  throw new ApiError({
    status: 403,
    type: 'invalid_request_error',
    code: 'model_not_found',
    param: 'model',
    message: `The API key ${request.apiKey!.id} does not have access to model '${model}'.`,
  });
}

/** The Azure operation a path calls, for Azure's 429 wording. */
function azureOperation(path: string): string {
  if (path.endsWith('/chat/completions')) return 'ChatCompletions_Create';
  if (path.endsWith('/audio/speech')) return 'Speech_Create';
  if (path.endsWith('/audio/transcriptions')) return 'Transcriptions_Create';
  if (path.endsWith('/audio/translations')) return 'Translations_Create';
  return 'API';
}

function azureRetryMessage(request: FastifyRequest, retrySec: number, what: string): string {
  const version = (request.query as Record<string, unknown> | undefined)?.['api-version'];
  return (
    `Requests to the ${azureOperation(request.url.split('?')[0]!)} Operation under Azure OpenAI API version ${typeof version === 'string' ? version : 'unknown'} ` +
    `have exceeded ${what}. Please retry after ${retrySec} second${retrySec === 1 ? '' : 's'}.`
  );
}

/** OpenAI's `x-ratelimit-*` headers for the limits the key has. */
function rateHeaders(record: KeyRecord, counts: LimitCounts, resetMs: number): Record<string, string> {
  const h: Record<string, string> = {};
  const reset = formatResetDuration(resetMs);
  if (record.rpmLimit !== null) {
    h['x-ratelimit-limit-requests'] = String(record.rpmLimit);
    h['x-ratelimit-remaining-requests'] = String(Math.max(0, record.rpmLimit - counts.requests));
    h['x-ratelimit-reset-requests'] = reset;
  }
  if (record.tpmLimit !== null) {
    h['x-ratelimit-limit-tokens'] = String(record.tpmLimit);
    h['x-ratelimit-remaining-tokens'] = String(Math.max(0, record.tpmLimit - counts.tokens));
    h['x-ratelimit-reset-tokens'] = reset;
  }
  return h;
}

/** 429 `insufficient_quota` with `x-should-retry: false`: the key's budget for this period is spent. */
function budgetSpent(request: FastifyRequest, record: KeyRecord, spendUsd: number, resetAt: number | null): KeyLimitError {
  const when = resetAt === null ? 'It does not reset.' : `It resets at ${new Date(resetAt * 1000).toISOString()}.`;
  const message =
    'You exceeded your current quota, please check your plan and billing details. ' +
    `The API key ${record.id} has spent $${spendUsd.toFixed(6)} of its $${record.maxBudgetUsd} budget. ${when}`;
  return new KeyLimitError({
    status: 429,
    type: 'insufficient_quota',
    code: 'insufficient_quota',
    param: null,
    message,
    headers: { 'x-should-retry': 'false' },
    azureMessage: `${azureRetryMessage(request, resetAt === null ? 86_400 : Math.max(1, resetAt - Math.floor(Date.now() / 1000)), 'the budget of this key')} ${when}`,
  });
}

/** 429 `rate_limit_exceeded` (type `requests` or `tokens`) with `retry-after` / `retry-after-ms`. */
function rateLimited(
  request: FastifyRequest,
  record: KeyRecord,
  counts: LimitCounts,
  asked: number,
  resetMs: number,
  windowSec: number,
  headers: Record<string, string>,
) {
  const reason = counts.refusedBy!;
  const retryMs = reason === 'parallel' ? 1000 : Math.max(1, Math.ceil(resetMs));
  const retrySec = Math.max(1, Math.ceil(retryMs / 1000));
  const per = windowSec === 60 ? 'min' : `${windowSec} s`;
  const model = requestedModel(request);
  const subject = `Rate limit reached${model ? ` for ${model}` : ''} on API key ${record.id}`;
  const message =
    reason === 'parallel'
      ? `Too many requests in progress on API key ${record.id}: Limit ${record.maxParallelRequests}, In progress ${counts.inFlight}. Please try again when one has finished.`
      : reason === 'requests'
        ? `${subject} on requests per ${per} (RPM): Limit ${record.rpmLimit}, Used ${counts.requests}, Requested 1. Please try again in ${formatResetDuration(retryMs)}.`
        : `${subject} on tokens per ${per} (TPM): Limit ${record.tpmLimit}, Used ${counts.tokens}, Requested ${asked}. Please try again in ${formatResetDuration(retryMs)}.`;
  return new KeyLimitError({
    status: 429,
    type: reason === 'tokens' ? 'tokens' : 'requests',
    code: 'rate_limit_exceeded',
    param: null,
    message,
    headers: { ...headers, 'retry-after': String(retrySec), 'retry-after-ms': String(retryMs) },
    azureMessage: azureRetryMessage(
      request,
      retrySec,
      reason === 'parallel' ? 'the parallel request limit of this key' : `the ${reason === 'tokens' ? 'token' : 'call'} rate limit of this key`,
    ),
  });
}

/**
 * The limits of keys an admin handed out, checked once the body is read (the model and the token
 * estimate come from it) and before the route runs: allowed models (403), budget (429
 * `insufficient_quota`), then parallel requests, requests and tokens per window (429
 * `rate_limit_exceeded`), all taken at once or not at all. Every response of a key with a request
 * or token limit carries OpenAI's `x-ratelimit-*` headers. Batch lines (internal) are held to the
 * key's models and budget, not to its rates: they are paced by the batch worker.
 */
export function installKeyLimits(app: FastifyInstance, services: Services): void {
  const windowMs = services.config.limits.rateWindowSec * 1000;
  app.addHook('preHandler', async (request, reply) => {
    const record = request.apiKey;
    if (!record) return;
    const model = requestedModel(request);
    if (model !== undefined) assertModelAllowed(request, services, model);
    if (record.maxBudgetUsd !== null) {
      const budget = services.keys.budget(record);
      if (budget.spendUsd >= record.maxBudgetUsd) throw budgetSpent(request, record, budget.spendUsd, budget.resetAt);
    }
    if (request.headers[INTERNAL_TOKEN_HEADER] !== undefined) return;
    if (record.rpmLimit === null && record.tpmLimit === null && record.maxParallelRequests === null) return;
    const now = Date.now();
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const estimate = record.tpmLimit !== null && workClass(request) ? estimateTokens(request) : 0;
    let counts: LimitCounts;
    try {
      counts = await services.keyCounters.admit({
        keyId: record.id,
        requestId: request.id,
        windowStart,
        rpm: record.rpmLimit,
        tpm: record.tpmLimit,
        parallel: record.maxParallelRequests,
        tokens: estimate,
        now,
      });
    } catch (error) {
      throw new ApiError({
        status: 503,
        type: 'server_error',
        code: 'limits_unavailable',
        message: "The store of this key's rate limits (Redis) cannot be reached. Please retry shortly.",
        headers: { 'retry-after': '1' },
        cause: error,
      });
    }
    const resetMs = windowStart + windowMs - now;
    const headers = rateHeaders(record, counts, resetMs);
    if (!counts.admitted) throw rateLimited(request, record, counts, estimate, resetMs, services.config.limits.rateWindowSec, headers);
    reply.headers(headers);
    if (estimate > 0) tickets.set(request, { keyId: record.id, windowStart, estimate, settled: false });
    if (record.maxParallelRequests !== null) releaseOnClose(reply, services, record.id, request.id);
  });
}

function releaseOnClose(reply: FastifyReply, services: Services, keyId: string, requestId: string): void {
  reply.raw.once('close', () => {
    services.keyCounters.release(keyId, requestId).catch((error: unknown) => reply.log.warn({ err: error }, 'could not release a parallel-request place'));
  });
}

/**
 * The usage recorder of one request: records into the ledger, then settles the request's token
 * estimate against its key's window with the real count (audio as billed). Routes hand it to the
 * pipeline instead of `services.usage`.
 */
export function meteredUsage(request: FastifyRequest, services: Services): UsageRecorder {
  return {
    record(entry: UsageEntry, timings?: RequestTimings) {
      services.usage.record(entry, timings);
      const ticket = tickets.get(request);
      if (!ticket || ticket.settled) return;
      ticket.settled = true;
      const actual = entry.promptTextTokens + entry.promptAudioTokens + entry.completionTextTokens + entry.completionAudioTokens;
      services.keyCounters
        .adjustTokens(ticket.keyId, ticket.windowStart, actual - ticket.estimate)
        .catch((error: unknown) => request.log.warn({ err: error }, "could not settle a request's tokens"));
    },
  };
}
