import type { FastifyInstance, FastifyRequest } from 'fastify';
import { modelNotFound } from '../../pipeline/models.js';
import type { Services } from '../../runtime/services.js';

/** Wire shape of a model (OpenAI's `Model`). */
function wireModel(model: { id: string; created: number }) {
  return { id: model.id, object: 'model' as const, created: model.created, owned_by: 'parley' };
}

/** `GET /v1/models` and `GET /v1/models/{id}`: what this server serves. */
export function modelRoutes(app: FastifyInstance, services: Services): void {
  // A key limited to some models sees only those (as an OpenAI project does).
  const visible = (request: FastifyRequest, id: string) => {
    const allowed = request.apiKey?.models;
    return !allowed || allowed.includes(id) || allowed.includes(services.models.find(id)?.id ?? '');
  };
  app.get('/v1/models', async (request) => ({
    object: 'list',
    data: services.models
      .list()
      .filter((m) => visible(request, m.id))
      .map(wireModel),
  }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (request) => {
    const model = services.models.find(request.params.id);
    if (!model || !visible(request, request.params.id)) throw modelNotFound(request.params.id, null);
    return wireModel({ ...model, id: request.params.id });
  });
}
