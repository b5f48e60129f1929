import type { FastifyReply, FastifyRequest } from 'fastify';
import { linkSignals } from '../lib/signals.js';
import type { RequestScope } from '../pipeline/context.js';
import type { Services } from '../runtime/services.js';

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
  const scope: RequestScope = { owner: request.owner, requestId: request.id, signal: link.signal };
  scopes.set(request, scope);
  return scope;
}
