import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashApiKey } from '../store/context.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is asking, computed once by the auth hook: the sha256 of the request's API key, or null
     * when the server runs without keys. Files, batches, audio ids and usage all belong to it.
     */
    owner: string | null;
  }
}

/** Paths that never need a key (probes). */
const OPEN_PATHS = new Set(['/health', '/healthz']);

/** Headers by which an in-process caller (a batch line) acts for an owner; see `Services.internalToken`. */
export const INTERNAL_TOKEN_HEADER = 'x-parley-internal';
export const INTERNAL_OWNER_HEADER = 'x-parley-owner';

function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** The key a request carries: `Authorization: Bearer K` (OpenAI) or `api-key: K` (Azure). */
export function requestKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  const apiKey = request.headers['api-key'];
  if (typeof apiKey === 'string' && apiKey.trim().length > 0) return apiKey.trim();
  return undefined;
}

function masked(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

/** Whether a request was injected in-process with this process's internal token (a batch line). */
export function isInternalRequest(request: FastifyRequest, internalToken: string): boolean {
  return internalOwner(request, internalToken) !== undefined;
}

/** The owner named by an in-process request that carries this process's internal token, else undefined. */
function internalOwner(request: FastifyRequest, internalToken: string): string | null | undefined {
  const token = request.headers[INTERNAL_TOKEN_HEADER];
  if (typeof token !== 'string' || !safeEqual(token, internalToken)) return undefined;
  const owner = request.headers[INTERNAL_OWNER_HEADER];
  return typeof owner === 'string' && /^[0-9a-f]{64}$/.test(owner) ? owner : null;
}

/**
 * API-key check on every request but the health probe, and the request's owner (`request.owner`).
 * With no keys configured everything is accepted and owned by nobody (start-up only allows that on
 * loopback or with --no-auth). A request carrying the process's internal token (batch lines,
 * injected in-process) acts for the owner it names.
 */
export function installAuth(app: FastifyInstance, options: { keys: readonly string[]; internalToken: string }): void {
  app.decorateRequest('owner', null);
  const { keys, internalToken } = options;
  const keyHashes = new Set(keys.map(hashApiKey));
  app.addHook('onRequest', async (request) => {
    const internal = internalOwner(request, internalToken);
    if (internal !== undefined) {
      if (keys.length === 0) return;
      // Work done for an owner (a batch line) stops with the owner's key.
      if (internal === null || !keyHashes.has(internal))
        throw ApiError.invalidApiKey('The API key that created this batch is no longer accepted by this server.');
      request.owner = internal;
      return;
    }
    if (keys.length === 0 || OPEN_PATHS.has(request.url.split('?')[0]!)) return;
    // Routes that hold nothing secret (the playground's files, see routes/web.ts) opt out.
    if ((request.routeOptions.config as { public?: boolean } | undefined)?.public === true) return;
    const key = requestKey(request);
    if (key === undefined) {
      throw ApiError.invalidApiKey(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the api-key header.",
      );
    }
    if (!keys.some((k) => safeEqual(k, key))) throw ApiError.invalidApiKey(`Incorrect API key provided: ${masked(key)}.`);
    request.owner = hashApiKey(key);
  });
}
