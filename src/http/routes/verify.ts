import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeBase64Strict } from '../../audio/decode/index.js';
import { MAX_VERIFY_BYTES, verifyRecording } from '../../pipeline/verify.js';
import type { Services } from '../../runtime/services.js';
import { isAdmin } from '../admin.js';
import { ApiError } from '../errors.js';
import { field, readUploadForm } from '../multipart.js';
import { requestScope } from '../request-scope.js';
import { asObject, readString } from '../validate.js';
import { wireVerification } from '../wire.js';

/** The recording: multipart `file` (+ optional `format`), or JSON `{"audio": base64, "format"?}`. */
async function readRecording(request: FastifyRequest): Promise<{ bytes: Uint8Array; format?: string; param: string }> {
  if (/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
    const form = await readUploadForm(request, { fileField: 'file', maxFileBytes: MAX_VERIFY_BYTES });
    if (!form.file) throw ApiError.missingParameter('file');
    return { bytes: form.file.bytes, format: field(form, 'format') ?? form.file.filename.split('.').pop(), param: 'file' };
  }
  const body = asObject(request.body);
  const audio = readString(body, 'audio', { required: true })!;
  const format = readString(body, 'format');
  return { bytes: decodeBase64Strict(audio, 'audio', { maxBytes: MAX_VERIFY_BYTES }), format, param: 'audio' };
}

/**
 * `POST /v1/audio/verify` (Parley extension): is this recording a voice this server made? Anyone
 * with a key learns whether it is watermarked; which response it was (id, time, model, voice)
 * only the key that asked for that response, or an admin (see `isAdmin`), is told.
 */
export function verifyRoutes(app: FastifyInstance, services: Services): void {
  app.post('/v1/audio/verify', async (request, reply) => {
    const recording = await readRecording(request);
    const scope = requestScope(request, reply, services);
    const verdict = await verifyRecording(services.engines(), recording.bytes, { param: recording.param, format: recording.format, signal: scope.signal });
    const body = wireVerification(verdict, (owner) => owner === scope.owner || isAdmin(request, services.config));
    return reply.send(body);
  });
}
