import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * Response headers a browser client may read. The official SDK reads `x-request-id` and the retry
 * hints; Azure clients read `apim-request-id`.
 */
const EXPOSED_HEADERS = [
  'x-request-id',
  'apim-request-id',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
];

/**
 * CORS for pages served by other origins (`cors.origins`, `PARLEY_CORS_ORIGINS`). Off when the list
 * is empty: the playground at `/` is same-origin and needs none, and a browser then refuses to let
 * other sites' scripts read responses. Must be installed before the key check, so that a preflight
 * (which never carries a key) is answered instead of refused, and so that a 401 still carries the
 * headers that let the calling page read it.
 */
export async function installCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'],
    exposedHeaders: EXPOSED_HEADERS,
    // Keys travel in headers, never in cookies.
    credentials: false,
    maxAge: 600,
  });
}
