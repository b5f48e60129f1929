import type { FastifyInstance } from 'fastify';
import { modelNotFound } from '../../pipeline/models.js';
import type { Services } from '../../runtime/services.js';

/** Wire shape of a model (OpenAI's `Model`). */
function wireModel(model: { id: string; created: number }) {
  return { id: model.id, object: 'model' as const, created: model.created, owned_by: 'parley' };
}

/** `GET /v1/models` and `GET /v1/models/{id}`: what this server serves. */
export function modelRoutes(app: FastifyInstance, services: Services): void {
  app.get('/v1/models', async () => ({ object: 'list', data: services.models.list().map(wireModel) }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (request) => {
    const model = services.models.find(request.params.id);
    if (!model) throw modelNotFound(request.params.id, null);
    return wireModel({ ...model, id: request.params.id });
  });
}
