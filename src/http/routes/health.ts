import type { FastifyInstance } from 'fastify';
import type { Services } from '../../runtime/services.js';

/** `GET /health`: 200 once the server takes requests, 503 while starting or draining. */
export function healthRoutes(app: FastifyInstance, services: Services): void {
  const handler = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const state = services.state();
    void reply.status(state === 'ready' ? 200 : 503).send({ status: state });
  };
  app.get('/health', handler);
  app.get('/healthz', handler);
}
