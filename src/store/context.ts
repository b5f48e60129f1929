import crypto from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * What each part of the store (audio ids, usage, files) is handed by `Store`: the one connection,
 * the clock, and the durable-transaction helper. Kept in its own file so `db.ts` can compose the
 * parts without an import cycle.
 */
export interface StoreContext {
  /** The process's one connection to `<dataDir>/parley.db`. */
  readonly db: Database.Database;
  /** The data folder (absolute). */
  readonly dataDir: string;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now(): number;
  /** Runs `fn` in a transaction whose commit is fsynced (`synchronous=FULL`); see `db.ts`. */
  durable<T>(fn: () => T): T;
}

/** sha256 hex of an API key: the only form in which a key is ever written to disk. */
export function hashApiKey(apiKey: string): string {
  return crypto.createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * A key's public id: `key_` + the first 16 hex digits of its sha256. What lists, logs and usage
 * reports (`api_key_id`) show instead of the key; derived, so every process names a key alike.
 */
export function apiKeyId(keyHash: string): string {
  return `key_${checkKeyHash(keyHash)!.slice(0, 16)}`;
}

/**
 * Accepts a key hash or null (anonymous caller) and refuses anything else, so a raw key passed by
 * mistake fails loudly instead of landing in the database.
 */
export function checkKeyHash(keyHash: string | null | undefined, what = 'apiKeyHash'): string | null {
  if (keyHash === null || keyHash === undefined) return null;
  if (typeof keyHash !== 'string' || !SHA256_HEX.test(keyHash)) {
    throw new TypeError(`${what} must be a lowercase sha256 hex digest (use hashApiKey), or null`);
  }
  return keyHash;
}

/** Unix seconds (floored) of a millisecond clock reading. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
