import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyRegistry } from '../keys/registry.js';
import { hashApiKey } from '../store/context.js';
import type { KeyRecord } from '../store/keys.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is asking, computed once by the auth hook: the sha256 of the request's API key, or null
     * when the server runs without keys. Files, batches, audio ids and usage all belong to it.
     */
    owner: string | null;
    /**
     * The key's record when the caller used a key an admin handed out (`parley keys create`,
     * `POST /v1/parley/keys`): its limits apply. Null for PARLEY_API_KEYS keys and the admin key
     * (unlimited), and without a key.
     */
    apiKey: KeyRecord | null;
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

/** Why a key of the registry is refused, or undefined when it is live. */
function refusal(registry: KeyRegistry, record: KeyRecord): string | undefined {
  const status = registry.status(record);
  if (status === 'revoked') return `The API key ${record.id} has been revoked.`;
  if (status === 'expired') return `The API key ${record.id} expired at ${new Date(record.expiresAt! * 1000).toISOString()}.`;
  return undefined;
}

/** Options of `installAuth`. */
export interface AuthOptions {
  /** PARLEY_API_KEYS: unlimited keys. */
  keys: readonly string[];
  /** PARLEY_ADMIN_KEY: an unlimited key that also administers. */
  adminKey?: string;
  /** Keys an admin handed out; looked up per request (no cache), so revocation counts at once. Absent: none. */
  registry?: KeyRegistry;
  /** This process's internal token (batch lines). */
  internalToken: string;
}

/**
 * API-key check on every request but the health probe, and the request's owner (`request.owner`).
 * Keys: PARLEY_API_KEYS and the admin key (unlimited), then the registry's keys (limited; revoked
 * or expired → 401 at once). With neither PARLEY_API_KEYS nor an admin key configured, requests
 * without a registry key are accepted and owned by nobody (start-up only allows that on loopback or
 * with --no-auth). A request carrying the process's internal token (batch lines, injected
 * in-process) acts for the owner it names, as long as that owner's key is still accepted.
 */
export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest('owner', null);
  app.decorateRequest('apiKey', null);
  const { keys, internalToken, registry } = options;
  const unlimited = options.adminKey === undefined ? keys : [...keys, options.adminKey];
  const authOn = unlimited.length > 0;
  const unlimitedHashes = new Set(unlimited.map(hashApiKey));
  app.addHook('onRequest', async (request) => {
    const internal = internalOwner(request, internalToken);
    if (internal !== undefined) {
      if (internal === null) {
        if (authOn) throw ApiError.invalidApiKey('The API key that created this batch is no longer accepted by this server.');
        return;
      }
      // Work done for an owner (a batch line) stops with the owner's key.
      if (!unlimitedHashes.has(internal)) {
        const record = await registry?.lookup(internal);
        const why = record ? refusal(registry!, record) : authOn ? 'The API key that created this batch is no longer accepted by this server.' : undefined;
        if (why) throw ApiError.invalidApiKey(why);
        request.apiKey = record ?? null;
      }
      request.owner = internal;
      return;
    }
    if (OPEN_PATHS.has(request.url.split('?')[0]!)) return;
    // Routes that hold nothing secret (the playground's files, see routes/web.ts) opt out.
    if ((request.routeOptions.config as { public?: boolean } | undefined)?.public === true) return;
    const key = requestKey(request);
    if (key === undefined) {
      if (!authOn) return;
      throw ApiError.invalidApiKey(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the api-key header.",
      );
    }
    if (unlimited.some((k) => safeEqual(k, key))) {
      request.owner = hashApiKey(key);
      return;
    }
    const hash = hashApiKey(key);
    const record = await registry?.lookup(hash);
    if (record) {
      const why = refusal(registry!, record);
      if (why) throw ApiError.invalidApiKey(why);
      request.owner = hash;
      request.apiKey = record;
      return;
    }
    if (authOn) throw ApiError.invalidApiKey(`Incorrect API key provided: ${masked(key)}.`);
  });
}
