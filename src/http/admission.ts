import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Admission } from '../lib/admission.js';
import type { Services } from '../runtime/services.js';
import { INTERNAL_TOKEN_HEADER } from './auth.js';
import { ApiError } from './errors.js';

/** Which admission pool a request belongs to, by its path; undefined for requests that cause no engine work. */
export function workClass(request: FastifyRequest): 'chat' | 'speech' | 'transcription' | undefined {
  if (request.method !== 'POST') return undefined;
  const path = request.url.split('?')[0]!;
  if (path.endsWith('/chat/completions')) return 'chat';
  if (path.endsWith('/audio/speech')) return 'speech';
  if (path.endsWith('/audio/transcriptions') || path.endsWith('/audio/translations') || path.endsWith('/audio/analysis') || path === '/v1/moderations') {
    return 'transcription';
  }
  return undefined;
}

/**
 * Overload is an answer, not a collapse: each live request that causes engine work takes a place
 * in its pool (chat, speech, transcription) before anything is read or decoded; with every place
 * taken it gets a 503 `server_overloaded` with `retry-after` at once. The place is given back when
 * the response is over (sent, failed or abandoned). Batch lines (injected with the internal token)
 * are paced by the batch worker instead.
 */
export function installAdmission(app: FastifyInstance, services: Services): void {
  app.addHook('onRequest', async (request, reply) => {
    const kind = workClass(request);
    if (!kind || request.headers[INTERNAL_TOKEN_HEADER] !== undefined) return;
    const pool: Admission = services.admission[kind];
    const leave = pool.tryEnter();
    if (!leave) throw ApiError.overloaded(pool.retryAfterSec(), `${kind} requests`);
    reply.raw.once('close', leave);
  });
}
