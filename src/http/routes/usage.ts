import type { FastifyInstance } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { unixParam } from '../params.js';
import { snakeKeys } from '../wire.js';

/**
 * `GET /v1/usage?since=&until=` (a Parley extension): the caller's tokens and audio seconds, with
 * what the same traffic would have cost at OpenAI's list prices for gpt-4o-mini-audio-preview.
 * A caller with a key sees only that key's traffic.
 */
export function usageRoutes(app: FastifyInstance, services: Services): void {
  app.get('/v1/usage', async (request) => {
    const query = request.query as Record<string, unknown>;
    // A key's caller sees its own traffic; only a server without keys shows everything to everyone.
    const authOn = services.config.apiKeys.length > 0 || services.config.adminKey !== undefined;
    const owner = request.owner !== null ? request.owner : authOn ? null : undefined;
    const { lastSeq: _internal, ...summary } = services.usage.summary({ since: unixParam(query, 'since'), until: unixParam(query, 'until'), owner });
    return { object: 'usage.summary', ...(snakeKeys(summary) as object) };
  });
}
