import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import { requestKey } from './auth.js';
import { ApiError } from './errors.js';

/**
 * The one check for administrative routes (model pulls today). With no keys configured the server
 * only listens on loopback (or was told `--no-auth`), so everyone is the operator. With keys, any
 * configured key is an admin for now: the key check in auth.ts has already refused the others.
 * Issue 12 brings a separate admin key; it belongs here and nowhere else.
 */
export function assertAdmin(request: FastifyRequest, config: Pick<Config, 'apiKeys'>): void {
  if (config.apiKeys.length === 0) return;
  const key = requestKey(request);
  if (key === undefined || !config.apiKeys.some((k) => sameKey(k, key))) {
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
