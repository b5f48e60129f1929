import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeBase64Strict } from '../../audio/decode/index.js';
import { MAX_VERIFY_BYTES, verifyRecording } from '../../pipeline/verify.js';
import type { Services } from '../../runtime/services.js';
import { isAdmin } from '../admin.js';
import { ApiError } from '../errors.js';
import { field, readUploadForm } from '../multipart.js';
import { requestScope } from '../request-scope.js';
import { asObject, readString } from '../validate.js';

/** The answer of `POST /v1/audio/verify` (a Parley extension). */
export interface AudioVerification {
  object: 'audio.verification';
  /** This server's watermark is in the recording. */
  watermarked: boolean;
  /** 0 (like unmarked audio) … 1; 0.5 at the detection threshold. */
  confidence: number;
  /** The response the voice was made for — only for the key that made it, or an admin. */
  response_id: string | null;
  /** Unix seconds the response was made (same rule). */
  created_at: number | null;
  /** The model asked for (same rule). */
  model: string | null;
  /** The voice (same rule). */
  voice: string | null;
  /** Seconds of audio verified. */
  duration: number;
}

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
 * only the key that asked for that response, or an admin (`PARLEY_ADMIN_KEYS`), is told.
 */
export function verifyRoutes(app: FastifyInstance, services: Services): void {
  app.post('/v1/audio/verify', async (request, reply) => {
    const recording = await readRecording(request);
    const scope = requestScope(request, reply, services);
    const verdict = await verifyRecording(services.engines(), recording.bytes, { param: recording.param, format: recording.format, signal: scope.signal });
    const response = verdict.response;
    const disclosed = response !== undefined && (response.owner === scope.owner || isAdmin(request, services.config)) ? response : undefined;
    const body: AudioVerification = {
      object: 'audio.verification',
      watermarked: verdict.watermarked,
      confidence: verdict.confidence,
      response_id: disclosed?.responseId ?? null,
      created_at: disclosed?.createdAt ?? null,
      model: disclosed?.model ?? null,
      voice: disclosed?.voice ?? null,
      duration: Math.round(verdict.durationSec * 100) / 100,
    };
    return reply.send(body);
  });
}
