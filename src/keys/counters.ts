import type { Redis } from 'ioredis';
import type { KeyStore, LimitAsk, LimitCounts } from '../store/keys.js';

/**
 * Where a key's rate-limit counters live: SQLite in embedded mode (shared by the processes on one
 * data folder), Redis with PARLEY_QUEUE=redis://… (shared by every server on that Redis). Windows
 * are fixed: `windowStart` = now rounded down to the window length, the same on every process.
 */
export interface LimitCounters {
  /** Takes one request (and its estimated tokens) from the key's limits, or nothing when a limit would be passed. */
  admit(ask: LimitRequest): Promise<LimitCounts>;
  /** Settles a request's tokens: adds `delta` (negative gives back) to the window it was counted in, if that window still exists. */
  adjustTokens(keyId: string, windowStart: number, delta: number): Promise<void>;
  /** The request is over; it no longer counts against `max_parallel_requests`. */
  release(keyId: string, requestId: string): Promise<void>;
}

/** What a caller asks of the counters (the process is theirs to fill in). */
export type LimitRequest = Omit<LimitAsk, 'process'>;

/** Counters in the data folder's SQLite (embedded mode). */
export class SqliteCounters implements LimitCounters {
  /**
   * `processId` (`host/pid/…`) marks this process's requests in progress; rows of processes for
   * which `isDead` holds are dropped now (a process killed mid-request leaves them behind).
   */
  constructor(
    private readonly keys: KeyStore,
    private readonly processId: string,
    isDead: (process: string) => boolean,
  ) {
    keys.releaseDead(isDead);
  }

  async admit(ask: LimitRequest): Promise<LimitCounts> {
    return this.keys.admit({ ...ask, process: this.processId });
  }

  async adjustTokens(keyId: string, windowStart: number, delta: number): Promise<void> {
    this.keys.adjustTokens(keyId, windowStart, delta);
  }

  async release(_keyId: string, requestId: string): Promise<void> {
    this.keys.release(requestId);
  }
}

/**
 * A request in progress whose process died is forgotten after this long in Redis (a process on
 * another machine cannot be checked for life): 15 minutes, longer than the SDK's 10-minute timeout.
 */
const STALE_IN_FLIGHT_MS = 15 * 60_000;

/** Checks every limit and takes from all of them, or from none, in one round trip. */
const ADMIT_LUA = `
local rpm = tonumber(ARGV[1]); local tpm = tonumber(ARGV[2]); local par = tonumber(ARGV[3]); local tok = tonumber(ARGV[4])
local req = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local used = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local inflight = 0
if par >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[8])
  inflight = redis.call('ZCARD', KEYS[2])
end
local refused = ''
if par >= 0 and inflight + 1 > par then refused = 'parallel'
elseif rpm >= 0 and req + 1 > rpm then refused = 'requests'
elseif tpm >= 0 and used > 0 and used + tok > tpm then refused = 'tokens' end
if refused ~= '' then return {0, refused, req, used, inflight} end
redis.call('HINCRBY', KEYS[1], 'r', 1)
redis.call('HINCRBY', KEYS[1], 't', tok)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
if par >= 0 then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
  inflight = inflight + 1
end
return {1, '', req + 1, used + tok, inflight}`;

/** Settles tokens into a window only while it exists (a passed window is gone, not recreated without expiry). */
const ADJUST_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('HINCRBY', KEYS[1], 't', ARGV[1])
if t < 0 then redis.call('HSET', KEYS[1], 't', 0) end
return 1`;

type AdmitReply = [number, string, number, number, number];

interface LimitScripts {
  parleyAdmit(window: string, inFlight: string, ...args: (string | number)[]): Promise<AdmitReply>;
  parleyAdjust(window: string, delta: number): Promise<number>;
}

/** Counters in Redis, shared by every server on it (PARLEY_QUEUE=redis://…). */
export class RedisCounters implements LimitCounters {
  readonly #redis: Redis & LimitScripts;
  readonly #windowMs: number;

  constructor(redis: Redis, windowMs: number) {
    redis.defineCommand('parleyAdmit', { numberOfKeys: 2, lua: ADMIT_LUA });
    redis.defineCommand('parleyAdjust', { numberOfKeys: 1, lua: ADJUST_LUA });
    this.#redis = redis as Redis & LimitScripts;
    this.#windowMs = windowMs;
  }

  async admit(ask: LimitRequest): Promise<LimitCounts> {
    const [ok, refused, requests, tokens, inFlight] = await this.#redis.parleyAdmit(
      windowKey(ask.keyId, ask.windowStart),
      inFlightKey(ask.keyId),
      ask.rpm ?? -1,
      ask.tpm ?? -1,
      ask.parallel ?? -1,
      ask.tokens,
      ask.requestId,
      ask.now,
      // A window's counts are kept one window longer than it lasts, so late settlements still find it.
      2 * this.#windowMs,
      ask.now - STALE_IN_FLIGHT_MS,
      STALE_IN_FLIGHT_MS,
    );
    return ok === 1
      ? { admitted: true, requests, tokens, inFlight }
      : { admitted: false, refusedBy: refused as 'requests' | 'tokens' | 'parallel', requests, tokens, inFlight };
  }

  async adjustTokens(keyId: string, windowStart: number, delta: number): Promise<void> {
    if (delta !== 0) await this.#redis.parleyAdjust(windowKey(keyId, windowStart), delta);
  }

  async release(keyId: string, requestId: string): Promise<void> {
    await this.#redis.zrem(inFlightKey(keyId), requestId);
  }
}

function windowKey(keyId: string, windowStart: number): string {
  return `parley:rl:${keyId}:${windowStart}`;
}

function inFlightKey(keyId: string): string {
  return `parley:inflight:${keyId}`;
}
