import type { FastifyReply, FastifyRequest } from 'fastify';
import { EngineMeter } from '../lib/limiter.js';
import { linkSignals } from '../lib/signals.js';
import type { RequestScope } from '../pipeline/context.js';
import type { Services } from '../runtime/services.js';
import { isInternalRequest } from './auth.js';

const started = new WeakMap<FastifyRequest, number>();

/** Notes when a request arrived (an `onRequest` hook), for time to first token and audio. */
export function markRequestStart(request: FastifyRequest): void {
  started.set(request, performance.now());
}

/** When the request arrived (`performance.now()` ms), if noted. */
export function requestStartedAt(request: FastifyRequest): number | undefined {
  return started.get(request);
}

const scopes = new WeakMap<FastifyRequest, RequestScope>();

/**
 * The pipeline's view of a request: its owner, its id, and a signal that aborts when the client
 * goes away before the response is complete, or when the server gives up at shutdown. Made once
 * per request; the signal's links are dropped when the response closes (no listener outlives it).
 */
export function requestScope(request: FastifyRequest, reply: FastifyReply, services: Services): RequestScope {
  const existing = scopes.get(request);
  if (existing) return existing;
  const link = linkSignals(services.shutdownSignal);
  const onClose = () => {
    if (!reply.raw.writableFinished) link.abort(new DOMException('client disconnected', 'AbortError'));
    link.dispose();
  };
  reply.raw.once('close', onClose);
  request.raw.once('aborted', onClose);
  const scope: RequestScope = {
    owner: request.owner,
    requestId: request.id,
    signal: link.signal,
    batch: isInternalRequest(request, services.internalToken),
    // Engine time is measured when something uses it: the ledger (Parley's own cost) or the metrics (real-time factors).
    meter: services.config.usage.enabled || services.metrics ? new EngineMeter() : undefined,
    startedAt: requestStartedAt(request),
  };
  scopes.set(request, scope);
  return scope;
}
