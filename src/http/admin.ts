import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import { requestKey } from './auth.js';
import { ApiError } from './errors.js';

/**
 * Whether the request is the operator's. With an admin key configured (PARLEY_ADMIN_KEY or
 * `adminKey`), only it. Without one, the PARLEY_API_KEYS keys are the admins; with no keys at all the
 * server only listens on loopback (or was told `--no-auth`), so everyone is the operator — except a
 * caller using a key an admin handed out: those keys never administer. Used by the admin routes
 * (keys, model pulls) and where one key may see what another made (watermark verify).
 */
export function isAdmin(request: FastifyRequest, config: Pick<Config, 'apiKeys' | 'adminKey'>): boolean {
  const admins = config.adminKey !== undefined ? [config.adminKey] : config.apiKeys;
  const key = requestKey(request);
  return admins.length === 0 ? request.apiKey === null : key !== undefined && admins.some((k) => sameKey(k, key));
}

/** The one check for administrative routes: an admin ({@link isAdmin}) or a 403. */
export function assertAdmin(request: FastifyRequest, config: Pick<Config, 'apiKeys' | 'adminKey'>): void {
  if (!isAdmin(request, config)) {
    throw new ApiError({
      status: 403,
      type: 'invalid_request_error',
      code: 'admin_key_required',
      message: 'This endpoint needs an admin key.',
    });
  }
}

/** Compares digests so the time taken says nothing about the key. */
function sameKey(a: string, b: string): boolean {
  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(digest(a), digest(b));
}
