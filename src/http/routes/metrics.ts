import type { FastifyInstance } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { assertAdmin } from '../admin.js';

/**
 * `GET /metrics`: Prometheus text of this process (see runtime/metrics.ts). Behind the admin check
 * unless `metrics.access` is `open`; not on the API port when `metrics.port` serves it alone.
 */
export function metricsRoutes(app: FastifyInstance, services: Services): void {
  const metrics = services.metrics;
  if (!metrics || services.config.metrics.port !== undefined) return;
  const open = services.config.metrics.access === 'open';
  app.get('/metrics', { config: { public: open } }, async (request, reply) => {
    if (!open) assertAdmin(request, services.config);
    const { contentType, body } = await metrics.expose();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });
}
