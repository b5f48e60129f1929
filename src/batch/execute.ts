import crypto from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { ApiError } from '../errors.js';
import { INTERNAL_OWNER_HEADER, INTERNAL_TOKEN_HEADER } from '../http/auth.js';
import { BATCH_PRIORITY, withPriority } from '../lib/limiter.js';
import { errorLine, newBatchRequestId } from './batch-store.js';
import type { LineResult } from './types.js';

/**
 * Runs one batch line through the live pipeline: the request is injected into the same Fastify
 * app that serves live traffic (`app.inject`, no socket), so validation, errors, engines, usage
 * metering and audio ids are exactly the live ones. It runs under `BATCH_PRIORITY`, so every
 * engine job it starts queues behind live requests.
 *
 * Parley's audio extensions travel as JSON: a `/v1/audio/speech` line answers
 * `{"audio": <base64>, "format", "content_type"}`, and a `/v1/audio/transcriptions` (or
 * `/translations`) line sends `{"file": <base64>, "filename"?, "model", …the form fields}`, turned
 * into the multipart request the live route expects.
 */

/** What a line to run carries. */
export interface LineToRun {
  customId: string;
  /** `{"url": "/v1/…", "body": {…}}` as JSON text. */
  request: string;
  /** sha256 of the batch owner's API key, or null. */
  owner: string | null;
}

/** Runs a line; never rejects (a failure is a `failed` result). */
export type LineRunner = (line: LineToRun) => Promise<LineResult & { statusCode: number | null }>;

function outputLine(customId: string, statusCode: number, requestId: string, bodyJson: string): string {
  return `{"id":${JSON.stringify(newBatchRequestId())},"custom_id":${JSON.stringify(customId)},"response":{"status_code":${statusCode},"request_id":${JSON.stringify(requestId)},"body":${bodyJson}},"error":null}`;
}

/**
 * `app.inject` under `BATCH_PRIORITY`. Two traps lose the AsyncLocalStorage context that carries
 * the priority, and the line would then compete with live traffic as an equal: inject's promise
 * form returns a thenable whose `then` (where the request is dispatched) runs outside the
 * caller's context, and before the app is ready requests are dispatched from avvio's callbacks.
 * So: the app is booted first, and the callback form dispatches synchronously, in context.
 */
async function injectBehindLiveTraffic(app: FastifyInstance, options: InjectOptions): Promise<LightMyRequestResponse> {
  await app.ready();
  return new Promise((resolve, reject) => {
    withPriority(BATCH_PRIORITY, () => {
      void app.inject(options, (err, res) => (err || !res ? reject(err ?? new Error('no response')) : resolve(res)));
    });
  });
}

/**
 * Live WAV is streamed with unknown sizes (0xFFFFFFFF); a batch answer is whole, so its RIFF and
 * data sizes are filled in for decoders that trust them.
 */
export function completeWavHeader(wav: Buffer): Buffer {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') return wav;
  const out = Buffer.from(wav);
  out.writeUInt32LE(out.length - 8, 4);
  for (let at = 12; at + 8 <= out.length; ) {
    const id = out.toString('ascii', at, at + 4);
    if (id === 'data') {
      out.writeUInt32LE(out.length - at - 8, at + 4);
      break;
    }
    at += 8 + out.readUInt32LE(at + 4) + (out.readUInt32LE(at + 4) % 2);
  }
  return out;
}

/** The multipart body of a transcription line (the form the live route expects). */
async function multipartFrom(body: Record<string, unknown>): Promise<{ payload: Buffer; contentType: string } | ApiError> {
  const form = new FormData();
  for (const [key, value] of Object.entries(body)) {
    if (key === 'file' || key === 'filename' || value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      const name = key.endsWith('[]') ? key : `${key}[]`;
      for (const v of value) form.append(name, String(v));
    } else if (typeof value === 'object') {
      return ApiError.invalidRequest(key, `Invalid type for '${key}': expected a string, number or array.`, 'invalid_type');
    } else {
      form.append(key, String(value));
    }
  }
  if (body.file !== undefined && body.file !== null) {
    if (typeof body.file !== 'string')
      return ApiError.invalidRequest('file', "Invalid type for 'file': expected the audio as a base64 string.", 'invalid_type');
    const filename = typeof body.filename === 'string' && body.filename.length > 0 ? body.filename : 'audio';
    form.append('file', new Blob([Buffer.from(body.file, 'base64')]), filename);
  }
  const encoded = new Response(form);
  return { payload: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! };
}

/**
 * A runner over `app`. The line runs as the owner of its batch: it is injected with this process's
 * internal token and the owner's id (see `Services.internalToken`), so no API key is kept or
 * needed, and whatever it creates (audio ids, usage) belongs to the batch's owner. A line whose
 * owner's key is no longer accepted is answered 401 by the auth hook, like any request.
 */
export function createLineRunner(app: FastifyInstance, internalToken: string): LineRunner {
  return async (line) => {
    try {
      const headers: Record<string, string> = { [INTERNAL_TOKEN_HEADER]: internalToken, ...(line.owner ? { [INTERNAL_OWNER_HEADER]: line.owner } : {}) };
      const { url, body } = JSON.parse(line.request) as { url: string; body: Record<string, unknown> };
      let payload: string | Buffer;
      if (url === '/v1/audio/transcriptions' || url === '/v1/audio/translations') {
        const form = await multipartFrom(body);
        if (form instanceof ApiError)
          return {
            state: 'failed',
            statusCode: form.status,
            line: outputLine(line.customId, form.status, `req_${crypto.randomBytes(16).toString('hex')}`, JSON.stringify(form.toWire())),
          };
        payload = form.payload;
        headers['content-type'] = form.contentType;
      } else {
        payload = JSON.stringify(body);
        headers['content-type'] = 'application/json';
      }
      const res = await injectBehindLiveTraffic(app, { method: 'POST', url, payload, headers });
      const requestId = String(res.headers['x-request-id'] ?? `req_${crypto.randomBytes(16).toString('hex')}`);
      const contentType = String(res.headers['content-type'] ?? '');
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      let bodyJson: string;
      if (ok && url === '/v1/audio/speech') {
        const format = typeof body.response_format === 'string' ? body.response_format : 'mp3';
        const audio = format === 'wav' ? completeWavHeader(res.rawPayload) : res.rawPayload;
        bodyJson = JSON.stringify({ audio: audio.toString('base64'), format, content_type: contentType });
      } else if (contentType.includes('json')) {
        bodyJson = res.payload;
        // Fastify writes compact JSON; anything else is re-serialised so it stays on one line.
        if (bodyJson.includes('\n') || bodyJson.length === 0) bodyJson = bodyJson.length === 0 ? 'null' : JSON.stringify(JSON.parse(bodyJson));
      } else {
        // text, srt, vtt transcripts: the body is the text as a JSON string.
        bodyJson = JSON.stringify(res.payload);
      }
      return { state: ok ? 'done' : 'failed', statusCode: res.statusCode, line: outputLine(line.customId, res.statusCode, requestId, bodyJson) };
    } catch (e) {
      app.log.error({ err: e, customId: line.customId }, 'batch line could not be run');
      return { state: 'failed', statusCode: null, line: errorLine(line.customId, 'internal_error', 'The server had an error while processing this request.') };
    }
  };
}
