import type { FastifyInstance } from 'fastify';
import { requestKey } from '../auth.js';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { snakeKeys } from '../wire.js';

function unixParam(query: Record<string, unknown>, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw ApiError.invalidRequest(name, `Invalid '${name}': expected unix seconds, got '${String(raw)}'.`, 'invalid_value');
  return n;
}

/**
 * `GET /v1/usage?since=&until=` (a Parley extension): the caller's tokens and audio seconds, with
 * what the same traffic would have cost at OpenAI's list prices for gpt-4o-mini-audio-preview.
 * With keys configured a caller sees only its own key's traffic.
 */
export function usageRoutes(app: FastifyInstance, services: Services): void {
  app.get('/v1/usage', async (request) => {
    const query = request.query as Record<string, unknown>;
    const apiKey = services.config.apiKeys.length > 0 ? requestKey(request) : undefined;
    const summary = services.usage?.summary({ since: unixParam(query, 'since'), until: unixParam(query, 'until'), apiKey });
    return { object: 'usage.summary', ...(snakeKeys(summary ?? {}) as object) };
  });
}
