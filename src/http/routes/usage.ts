import type { FastifyInstance } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { assertAdmin } from '../admin.js';
import { unixParam } from '../params.js';
import { readWindow, usagePage } from '../usage-page.js';
import { snakeKeys } from '../wire.js';

/**
 * `GET /v1/usage?since=&until=` (a Parley extension): the caller's tokens, audio seconds and
 * characters, with what the same traffic would have cost at OpenAI's list prices for
 * gpt-4o-mini-audio-preview and what it cost here (engine core-seconds × `usage.coreHourUsd`).
 * With keys configured a caller sees only its own key's traffic. With `start_time` (and
 * `end_time`, `bucket_width`, `limit`, `page` as OpenAI's organization usage) the same totals come
 * per time bucket, for charts: `{object: "page", data: [{start_time, end_time, results: [totals]}]}`.
 * An admin may pass `api_key_id=key_…` (one key's traffic) or `api_key_id=all` (every key's).
 */
export function usageRoutes(app: FastifyInstance, services: Services): void {
  app.get('/v1/usage', async (request) => {
    const query = request.query as Record<string, unknown>;
    const keyId = query.api_key_id;
    if (keyId !== undefined) assertAdmin(request, services.config);
    // A key's caller sees its own traffic (an admin may name another key, or all); only a server
    // without keys shows everything to everyone.
    const authOn = services.config.apiKeys.length > 0 || services.config.adminKey !== undefined;
    const owner = keyId !== undefined ? undefined : request.owner !== null ? request.owner : authOn ? null : undefined;
    const apiKeyIds = keyId === undefined || keyId === 'all' ? undefined : [String(keyId)];
    if (query.start_time !== undefined) {
      const w = readWindow(query, Math.floor(Date.now() / 1000));
      const found = services.usage.buckets({
        start: w.pageStart,
        end: Math.min(w.end, w.pageStart + w.limit * w.widthSec),
        widthSec: w.widthSec,
        owners: owner === undefined ? undefined : [owner],
        apiKeyIds,
      });
      return usagePage(w, found, (g) => ({ object: 'usage.bucket_totals', ...(snakeKeys(g.totals) as object) }));
    }
    const { lastSeq: _internal, ...summary } = services.usage.summary({ since: unixParam(query, 'since'), until: unixParam(query, 'until'), owner, apiKeyIds });
    return { object: 'usage.summary', ...(snakeKeys(summary) as object) };
  });
}
