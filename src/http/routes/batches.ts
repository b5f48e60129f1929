import type { FastifyInstance } from 'fastify';
import { normalizeUrl } from '../../batch/input.js';
import { BATCH_ENDPOINTS, type BatchEndpoint, type BatchRecord } from '../../batch/types.js';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { asObject, readString } from '../validate.js';
import { checkAzureApiVersion, limitParam, ownerOf, type ResourceRouteOptions } from './files.js';

/** Longest completion window accepted (Parley extension; OpenAI accepts only `24h`). */
const MAX_WINDOW_SEC = 30 * 24 * 3600;
const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * The window in seconds. OpenAI accepts only `24h`; Parley also takes any `<n>s|m|h|d` up to 30
 * days (a short window is how a test, or an impatient operator, sees `expired`).
 */
export function parseCompletionWindow(value: string): number | undefined {
  const m = /^(\d{1,7})([smhd])$/.exec(value);
  if (!m) return undefined;
  const sec = Number(m[1]) * UNIT_SEC[m[2]!]!;
  return sec >= 1 && sec <= MAX_WINDOW_SEC ? sec : undefined;
}

/** OpenAI's metadata rules: at most 16 pairs, keys up to 64 characters, string values up to 512. */
function readMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  const o = asObject(value, 'metadata');
  const entries = Object.entries(o);
  if (entries.length > 16)
    throw ApiError.invalidRequest(
      'metadata',
      `Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got ${entries.length} instead.`,
      'object_above_max_properties',
    );
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length > 64)
      throw ApiError.invalidRequest(
        `metadata.${k}`,
        `Invalid 'metadata': keys can be at most 64 characters long, but '${k.slice(0, 16)}…' has ${k.length}.`,
        'invalid_value',
      );
    if (typeof v !== 'string') throw ApiError.invalidRequest(`metadata.${k}`, `Invalid type for 'metadata.${k}': expected a string.`, 'invalid_type');
    if (v.length > 512)
      throw ApiError.invalidRequest(
        `metadata.${k}`,
        `Invalid 'metadata.${k}': string too long. Expected a string with maximum length 512, but got a string with length ${v.length} instead.`,
        'string_above_max_length',
      );
    out[k] = v;
  }
  return out;
}

/** OpenAI's `batch` object. */
export function wireBatch(b: BatchRecord) {
  return {
    id: b.id,
    object: 'batch' as const,
    endpoint: b.endpoint,
    errors: b.errors ? { object: 'list' as const, data: b.errors } : null,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: b.outputFileId,
    error_file_id: b.errorFileId,
    created_at: b.createdAt,
    in_progress_at: b.inProgressAt,
    expires_at: b.expiresAt,
    finalizing_at: b.finalizingAt,
    completed_at: b.completedAt,
    failed_at: b.failedAt,
    expired_at: b.expiredAt,
    cancelling_at: b.cancellingAt,
    cancelled_at: b.cancelledAt,
    request_counts: { total: b.requestCounts.total, completed: b.requestCounts.completed, failed: b.requestCounts.failed },
    metadata: b.metadata,
  };
}

function notFound(id: string): ApiError {
  return ApiError.notFound(`No batch found with id '${id}'.`, null, 'batch_id');
}

/**
 * `/v1/batches` as OpenAI's: create (from an uploaded `batch` file), retrieve, list, cancel. The
 * work itself is done by the batch worker (src/batch). Endpoints: `/v1/chat/completions`, and as
 * Parley extensions `/v1/audio/speech`, `/v1/audio/transcriptions`, `/v1/audio/translations`.
 * Also mounted as Azure's `/openai/batches` (api-version required; lines may say `/chat/completions`).
 */
export function batchRoutes(app: FastifyInstance, services: Services): void {
  mountBatchRoutes(app, services);
  mountBatchRoutes(app, services, { prefix: '/openai', azure: true });
}

/** The batch routes under one prefix. */
export function mountBatchRoutes(app: FastifyInstance, services: Services, options: ResourceRouteOptions = {}): void {
  const prefix = options.prefix ?? '/v1';
  const { batches } = services;
  const check = options.azure ? checkAzureApiVersion : () => undefined;

  app.post(`${prefix}/batches`, async (request) => {
    check(request);
    const body = asObject(request.body);
    const owner = ownerOf(request, services);
    const inputFileId = readString(body, 'input_file_id', { required: true });
    const endpointGiven = readString(body, 'endpoint', { required: true });
    const endpoint = normalizeUrl(endpointGiven);
    if (!(BATCH_ENDPOINTS as readonly string[]).includes(endpoint)) throw ApiError.invalidValue('endpoint', endpointGiven, BATCH_ENDPOINTS);
    const completionWindow = readString(body, 'completion_window', { required: true });
    const windowSec = parseCompletionWindow(completionWindow);
    if (windowSec === undefined) throw ApiError.invalidValue('completion_window', completionWindow, ['24h']);
    const metadata = readMetadata(body.metadata);
    const file = services.store.files.get(inputFileId, owner);
    if (!file) throw ApiError.notFound(`No such File object: ${inputFileId}`, null, 'input_file_id');
    if (file.purpose !== 'batch') {
      throw ApiError.invalidRequest(
        'input_file_id',
        `The input file ${inputFileId} has purpose '${file.purpose}'; a batch needs a file uploaded with purpose 'batch'.`,
        'invalid_value',
      );
    }
    const batch = batches.create({ owner, endpoint: endpoint as BatchEndpoint, inputFileId, completionWindow, windowSec, metadata });
    return wireBatch(batch);
  });

  app.get(`${prefix}/batches/:id`, async (request) => {
    check(request);
    const { id } = request.params as { id: string };
    const batch = batches.get(id, ownerOf(request, services));
    if (!batch) throw notFound(id);
    return wireBatch(batch);
  });

  app.get(`${prefix}/batches`, async (request) => {
    check(request);
    const query = request.query as Record<string, unknown>;
    const page = batches.list({
      owner: ownerOf(request, services),
      after: typeof query.after === 'string' && query.after.length > 0 ? query.after : undefined,
      limit: limitParam(query, 20, 100),
    });
    return { object: 'list', data: page.data.map(wireBatch), first_id: page.firstId, last_id: page.lastId, has_more: page.hasMore };
  });

  app.post(`${prefix}/batches/:id/cancel`, async (request) => {
    check(request);
    const { id } = request.params as { id: string };
    const batch = batches.cancel(id, ownerOf(request, services));
    if (!batch) throw notFound(id);
    return wireBatch(batch);
  });
}
