import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { snakeKeys } from '../wire.js';

/**
 * `GET /health`: 200 once the server takes requests, 503 while starting or draining; needs no key.
 * The body says how saturated the server is: live requests in progress per kind against their
 * bound (past it they get 503 + retry-after), the engine slots running and queued, and per
 * capability the engine serving it, the one loaded now, and why (or what is missing).
 */
export function healthRoutes(app: FastifyInstance, services: Services): void {
  const handler = async (_request: unknown, reply: FastifyReply) => {
    const state = services.state();
    const engines = services.limiter.stats();
    const requests = Object.fromEntries(Object.entries(services.admission).map(([kind, a]) => [kind, a.stats()]));
    const saturation = Math.max(...Object.values(requests).map((r) => r.saturation));
    const capabilities = await services.capabilities().catch(() => []);
    void reply.status(state === 'ready' ? 200 : 503).send({
      status: state,
      saturation: Math.round(saturation * 100) / 100,
      requests: snakeKeys(requests),
      engines: {
        capacity: engines.capacity,
        running: engines.running,
        queued: engines.queued,
        running_by_kind: engines.runningByKind,
        queued_by_kind: engines.queuedByKind,
        avg_queue_wait_ms_by_kind: Object.fromEntries(
          Object.entries(engines.waitedMsByKind).map(([k, ms]) => [
            k,
            Math.round((ms ?? 0) / Math.max(1, engines.startedByKind[k as keyof typeof engines.startedByKind] ?? 1)),
          ]),
        ),
      },
      // Per capability: the engine that serves it, the one loaded now (null until first use), and why.
      capabilities: Object.fromEntries(capabilities.map((c) => [c.capability, { engine: c.engine, live: c.live, state: c.state, reason: c.reason }])),
    });
  };
  app.get('/health', handler);
  app.get('/healthz', handler);
}
