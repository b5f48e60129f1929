import type { FastifyInstance } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { assertAdmin } from '../admin.js';
import { readKeyCreateParams, wireKey } from '../keys-wire.js';

/**
 * Key administration (a Parley extension modelled on LiteLLM's `/key/generate`), admin key only:
 * - `POST /v1/parley/keys`: makes a key; the answer holds the key itself, the only time it is shown;
 * - `GET /v1/parley/keys[?include_revoked=true]`: the keys (never the keys themselves);
 * - `GET /v1/parley/keys/{id or alias}`: one key, with its spend in the current budget period;
 * - `DELETE /v1/parley/keys/{id or alias}`: revokes it at once (the row stays, so its usage keeps a name).
 */
export function keyRoutes(app: FastifyInstance, services: Services): void {
  const { config, keys } = services;
  app.post('/v1/parley/keys', async (request) => {
    assertAdmin(request, config);
    const { key, record } = await keys.create(readKeyCreateParams(request.body));
    request.log.info({ key_id: record.id, alias: record.alias }, 'API key created');
    return wireKey(record, keys.status(record), { key });
  });
  app.get('/v1/parley/keys', async (request) => {
    assertAdmin(request, config);
    const includeRevoked = (request.query as Record<string, unknown>).include_revoked === 'true';
    return { object: 'list', data: keys.list({ includeRevoked }).map((r) => wireKey(r, keys.status(r))) };
  });
  app.get<{ Params: { id: string } }>('/v1/parley/keys/:id', async (request) => {
    assertAdmin(request, config);
    const record = keys.get(request.params.id);
    return wireKey(record, keys.status(record), { budget: keys.budget(record) });
  });
  app.delete<{ Params: { id: string } }>('/v1/parley/keys/:id', async (request) => {
    assertAdmin(request, config);
    const record = await keys.revoke(request.params.id);
    request.log.info({ key_id: record.id, alias: record.alias }, 'API key revoked');
    return { object: 'parley.api_key.deleted', id: record.id, deleted: true };
  });
}
