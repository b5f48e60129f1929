import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import { requestKey } from './auth.js';
import { ApiError } from './errors.js';

/**
 * Whether the request is the operator's: with no keys configured the server only listens on
 * loopback (or was told `--no-auth`), so everyone is; with keys, a key listed in `adminKeys`
 * (`PARLEY_ADMIN_KEYS`). Used where one key may see what another key made (watermark verify).
 */
export function isAdmin(request: FastifyRequest, config: Pick<Config, 'apiKeys' | 'adminKeys'>): boolean {
  if (config.apiKeys.length === 0) return true;
  const key = requestKey(request);
  return key !== undefined && config.adminKeys.some((k) => sameKey(k, key));
}

/**
 * The one check for administrative routes (model pulls today): an admin ({@link isAdmin}); while
 * no admin key is configured, any configured key (the key check in auth.ts has already refused
 * the others), as before admin keys existed.
 */
export function assertAdmin(request: FastifyRequest, config: Pick<Config, 'apiKeys' | 'adminKeys'>): void {
  if (isAdmin(request, config)) return;
  const key = requestKey(request);
  if (config.adminKeys.length === 0 && key !== undefined && config.apiKeys.some((k) => sameKey(k, key))) return;
  throw new ApiError({
    status: 403,
    type: 'invalid_request_error',
    code: 'admin_key_required',
    message: 'This endpoint needs an admin key.',
  });
}

/** Compares digests so the time taken says nothing about the key. */
function sameKey(a: string, b: string): boolean {
  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(digest(a), digest(b));
}
