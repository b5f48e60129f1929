import type { FastifyInstance } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { unixParam } from '../params.js';
import { snakeKeys } from '../wire.js';

/**
 * `GET /v1/usage?since=&until=` (a Parley extension): the caller's tokens and audio seconds, with
 * what the same traffic would have cost at OpenAI's list prices for gpt-4o-mini-audio-preview.
 * With keys configured a caller sees only its own key's traffic.
 */
export function usageRoutes(app: FastifyInstance, services: Services): void {
  app.get('/v1/usage', async (request) => {
    const query = request.query as Record<string, unknown>;
    const owner = services.config.apiKeys.length > 0 ? request.owner : undefined;
    const summary = services.usage.summary({ since: unixParam(query, 'since'), until: unixParam(query, 'until'), owner });
    return { object: 'usage.summary', ...(snakeKeys(summary) as object) };
  });
}
