import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { snakeKeys } from '../wire.js';

/**
 * `GET /health`: 200 once the server takes requests, 503 while starting or draining; needs no key.
 * The body says how saturated the server is: live requests in progress per kind against their
 * bound (past it they get 503 + retry-after), the engine slots running and queued; per
 * capability the engine serving it, the one loaded now, and why (or what is missing); and which
 * safety layers are live (of the default pipeline: word list and self-harm phrases always, the
 * classifier and the judge when configured, with their state) and whether voices are watermarked.
 * Model names and paths are not shown: the probe needs no key.
 */
export function healthRoutes(app: FastifyInstance, services: Services): void {
  const handler = async (_request: unknown, reply: FastifyReply) => {
    const state = services.state();
    const engines = services.limiter.stats();
    const requests = Object.fromEntries(Object.entries(services.admission).map(([kind, a]) => [kind, a.stats()]));
    const saturation = Math.max(...Object.values(requests).map((r) => r.saturation));
    const defaults = services.engines();
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
      safety: {
        layers: defaults.safety.layers().map((l) => ({ name: snakeName(l.name), state: l.state, hot_path: l.hotPath })),
        watermark: defaults.watermark.enabled ? 'on' : 'off',
      },
      // Per capability: the engine that serves it, the one loaded now (null until first use), and why.
      capabilities: Object.fromEntries(capabilities.map((c) => [c.capability, { engine: c.engine, live: c.live, state: c.state, reason: c.reason }])),
    });
  };
  app.get('/health', handler);
  app.get('/healthz', handler);
}

/** camelCase layer names (`wordList`) as the wire spells fields (`word_list`). */
function snakeName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
