import type { FastifyInstance } from 'fastify';
import { normalizeUrl } from '../../batch/input.js';
import { BATCH_ENDPOINTS, type BatchEndpoint, type BatchRecord } from '../../batch/types.js';
import { parseDurationSec } from '../../lib/duration.js';
import type { Services } from '../../runtime/services.js';
import { ApiError } from '../errors.js';
import { apiVersion, type ResourceRouteOptions } from '../mount.js';
import { limitParam, readMetadata } from '../params.js';
import { asObject, readString } from '../validate.js';

/** Longest completion window accepted (Parley extension; OpenAI accepts only `24h`). */
const MAX_WINDOW_SEC = 30 * 24 * 3600;

/**
 * The window in seconds. OpenAI accepts only `24h`; Parley also takes any `<n>s|m|h|d` up to 30
 * days (a short window is how a test, or an impatient operator, sees `expired`).
 */
export function parseCompletionWindow(value: string): number | undefined {
  const sec = parseDurationSec(value);
  return sec !== undefined && sec >= 1 && sec <= MAX_WINDOW_SEC ? sec : undefined;
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
  const check = options.azure ? apiVersion : () => undefined;

  app.post(`${prefix}/batches`, async (request) => {
    check(request);
    const body = asObject(request.body);
    const owner = request.owner;
    const inputFileId = readString(body, 'input_file_id', { required: true });
    const endpointGiven = readString(body, 'endpoint', { required: true });
    const endpoint = normalizeUrl(endpointGiven);
    if (!(BATCH_ENDPOINTS as readonly string[]).includes(endpoint)) throw ApiError.invalidValue('endpoint', endpointGiven, BATCH_ENDPOINTS);
    const completionWindow = readString(body, 'completion_window', { required: true });
    const windowSec = parseCompletionWindow(completionWindow);
    if (windowSec === undefined) {
      throw ApiError.invalidRequest(
        'completion_window',
        `Invalid value: '${completionWindow}'. Supported values are: '24h' (Parley also accepts any '<n>s', '<n>m', '<n>h' or '<n>d' up to 30 days).`,
        'invalid_value',
      );
    }
    const metadata = readMetadata(body.metadata) ?? null;
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
    const batch = batches.get(id, request.owner);
    if (!batch) throw notFound(id);
    return wireBatch(batch);
  });

  app.get(`${prefix}/batches`, async (request) => {
    check(request);
    const query = request.query as Record<string, unknown>;
    const page = batches.list({
      owner: request.owner,
      after: typeof query.after === 'string' && query.after.length > 0 ? query.after : undefined,
      limit: limitParam(query, 20, 100),
    });
    return { object: 'list', data: page.data.map(wireBatch), first_id: page.firstId, last_id: page.lastId, has_more: page.hasMore };
  });

  app.post(`${prefix}/batches/:id/cancel`, async (request) => {
    check(request);
    const { id } = request.params as { id: string };
    const batch = batches.cancel(id, request.owner);
    if (!batch) throw notFound(id);
    return wireBatch(batch);
  });
}
