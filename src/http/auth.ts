import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** Paths that never need a key (probes). */
const OPEN_PATHS = new Set(['/health', '/healthz']);

function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** The key a request carries: `Authorization: Bearer K` (OpenAI) or `api-key: K` (Azure). */
export function requestKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  const apiKey = request.headers['api-key'];
  if (typeof apiKey === 'string' && apiKey.trim().length > 0) return apiKey.trim();
  return undefined;
}

function masked(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

/**
 * API-key check on every request but the health probe. With no keys configured everything is
 * accepted (start-up only allows that on loopback or with --no-auth).
 */
export function installAuth(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  app.addHook('onRequest', async (request) => {
    if (OPEN_PATHS.has(request.url.split('?')[0]!)) return;
    const key = requestKey(request);
    if (key === undefined) {
      throw ApiError.invalidApiKey(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the api-key header.",
      );
    }
    if (!keys.some((k) => safeEqual(k, key))) throw ApiError.invalidApiKey(`Incorrect API key provided: ${masked(key)}.`);
  });
}
