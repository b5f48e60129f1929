import type { FastifyInstance } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { type FileRecord, MAX_FILE_BYTES, MAX_LIST_LIMIT, storageQuotaExceeded } from '../../store/files.js';
import { ApiError } from '../errors.js';
import { apiVersion, type ResourceRouteOptions } from '../mount.js';
import { multipartError, multipartParts } from '../multipart.js';
import { limitParam } from '../params.js';

/** Purposes a client may upload with (`batch_output` and `assistants_output` are written by the server). */
export const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

/** Room for the multipart framing around the file when checking Content-Length up front. */
const MULTIPART_OVERHEAD = 64 * 1024;

/** OpenAI's `file` object. */
export function wireFile(f: FileRecord) {
  return { id: f.id, object: 'file' as const, bytes: f.bytes, created_at: f.createdAt, filename: f.filename, purpose: f.purpose, status: f.status };
}

function notFound(id: string): ApiError {
  return ApiError.notFound(`No such File object: ${id}`, null, 'id');
}

/** `attachment; filename="…"; filename*=UTF-8''…` for a stored (already cleaned) name. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/**
 * `/v1/files` as OpenAI's: multipart upload streamed to disk (up to 200 MB), list with
 * `purpose`/`limit`/`after`/`order`, retrieve, `/content` (streamed), delete. Each file belongs
 * to the key that uploaded it; any other key gets a 404. Also mounted as Azure's `/openai/files`.
 */
export function fileRoutes(app: FastifyInstance, services: Services): void {
  mountFileRoutes(app, services);
  mountFileRoutes(app, services, { prefix: '/openai', azure: true });
}

/** The file routes under one prefix. */
export function mountFileRoutes(app: FastifyInstance, services: Services, options: ResourceRouteOptions = {}): void {
  const prefix = options.prefix ?? '/v1';
  const files = services.store.files;
  const check = options.azure ? apiVersion : () => undefined;

  app.post(`${prefix}/files`, async (request, reply) => {
    check(request);
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_FILE_BYTES + MULTIPART_OVERHEAD) {
      reply.header('connection', 'close');
      throw ApiError.tooLarge(`The file is too large: the maximum file size is ${MAX_FILE_BYTES / 1024 / 1024} MB.`, 'file');
    }
    const apiKeyHash = request.owner;
    // The key's storage quota (limits.filesBytesPerOwner): an upload that cannot fit is refused
    // before its body is read when the declared length says so, else as soon as the bytes pass it.
    const quotaBytes = services.config.limits.filesBytesPerOwner;
    const used = files.usedBytes(apiKeyHash);
    if (used >= quotaBytes || (Number.isFinite(declared) && declared > quotaBytes - used + MULTIPART_OVERHEAD)) {
      reply.header('connection', 'close');
      throw storageQuotaExceeded(quotaBytes, used);
    }
    const fields = new Map<string, string>();
    // The purpose may come after the file: the bytes stream to disk meanwhile, and the purpose
    // is settled (or the upload refused and removed) once the form has been read.
    let settlePurpose!: { resolve: (p: string) => void; reject: (e: unknown) => void };
    const laterPurpose = new Promise<string>((resolve, reject) => (settlePurpose = { resolve, reject }));
    laterPurpose.catch(() => undefined);
    let creating: Promise<FileRecord> | undefined;
    const parts = multipartParts(request, { fileSize: MAX_FILE_BYTES + 1, files: 1, fields: 20, fieldSize: 64 * 1024 }, "'file' and 'purpose' fields");
    try {
      for await (const part of parts) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file' || creating) {
            part.file.resume();
            continue;
          }
          const known = fields.get('purpose');
          if (known !== undefined && !(UPLOAD_PURPOSES as readonly string[]).includes(known)) throw ApiError.invalidValue('purpose', known, UPLOAD_PURPOSES);
          // The store waits for the purpose until the whole form has been read, so that a form
          // cut short after the file never leaves a (truncated) file behind.
          creating = files.create({
            purpose: laterPurpose,
            filename: part.filename || 'file',
            stream: part.file,
            apiKeyHash,
            maxBytes: MAX_FILE_BYTES,
            quotaBytes,
          });
          creating.catch(() => undefined);
          // A part cut short closes without 'end': give the upload up (the store then removes
          // what it wrote, and rejects; an error of the store's own, a 413, comes first).
          part.file.once('close', () => {
            if (!part.file.readableEnded) settlePurpose.reject(new Error('the file part was cut short'));
          });
          // Either the whole file is on disk, or the upload failed (too large, cut short): then stop reading.
          const failed = await Promise.race([
            new Promise<false>((resolve) => part.file.once('end', () => resolve(false))),
            creating.then(
              () => false,
              () => true,
            ),
          ]);
          if (failed) await creating;
        } else {
          fields.set(part.fieldname, String(part.value));
        }
      }
    } catch (e) {
      // The upload is abandoned: the store removes whatever it wrote once the purpose fails.
      settlePurpose.reject(e);
      throw multipartError(request, e);
    }
    const purpose = fields.get('purpose');
    if (!creating) throw ApiError.missingParameter('file');
    if (purpose === undefined || purpose === '') settlePurpose.reject(ApiError.missingParameter('purpose'));
    else if (!(UPLOAD_PURPOSES as readonly string[]).includes(purpose)) settlePurpose.reject(ApiError.invalidValue('purpose', purpose, UPLOAD_PURPOSES));
    else settlePurpose.resolve(purpose);
    return wireFile(await creating.catch((e) => Promise.reject(multipartError(request, e))));
  });

  app.get(`${prefix}/files`, async (request) => {
    check(request);
    const query = request.query as Record<string, unknown>;
    const order = query.order === undefined ? 'desc' : String(query.order);
    if (order !== 'asc' && order !== 'desc') throw ApiError.invalidValue('order', order, ['asc', 'desc']);
    const page = files.list({
      keyHash: request.owner,
      purpose: typeof query.purpose === 'string' && query.purpose.length > 0 ? query.purpose : undefined,
      limit: limitParam(query, MAX_LIST_LIMIT, MAX_LIST_LIMIT),
      after: typeof query.after === 'string' && query.after.length > 0 ? query.after : undefined,
      order,
    });
    return { object: 'list', data: page.data.map(wireFile), first_id: page.firstId, last_id: page.lastId, has_more: page.hasMore };
  });

  app.get(`${prefix}/files/:id`, async (request) => {
    check(request);
    const { id } = request.params as { id: string };
    const file = files.get(id, request.owner);
    if (!file) throw notFound(id);
    return wireFile(file);
  });

  app.get(`${prefix}/files/:id/content`, async (request, reply) => {
    check(request);
    const { id } = request.params as { id: string };
    const owner = request.owner;
    const file = files.get(id, owner);
    const stream = file ? files.openContent(id, owner) : undefined;
    if (!file || !stream) throw notFound(id);
    reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', file.bytes)
      .header('content-disposition', contentDisposition(file.filename));
    return reply.send(stream);
  });

  app.delete(`${prefix}/files/:id`, async (request) => {
    check(request);
    const { id } = request.params as { id: string };
    if (!(await files.delete(id, request.owner))) throw notFound(id);
    return { id, object: 'file', deleted: true };
  });
}
