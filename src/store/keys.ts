import type { Statement } from 'better-sqlite3';
import { apiKeyId, checkKeyHash, type StoreContext } from './context.js';

/** A key handed out by an admin, as stored (the key itself never is: only its sha256). */
export interface KeyRecord {
  /** `key_` + the first 16 hex digits of the key's sha256 (see `apiKeyId`). */
  id: string;
  /** sha256 hex of the key. */
  hash: string;
  /** A name for people (unique among live keys), or null. */
  alias: string | null;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds after which the key is refused, or null (never). */
  expiresAt: number | null;
  /** Unix seconds of revocation, or null (live). */
  revokedAt: number | null;
  /** Model names the key may use, or null (every model). */
  models: string[] | null;
  /** Most the key may spend per budget period, USD at OpenAI's list price; null = no budget. */
  maxBudgetUsd: number | null;
  /** Length of a budget period, seconds (periods start at `createdAt`); null = one period for the key's life. */
  budgetDurationSec: number | null;
  /** Requests per rate window (a minute unless configured), or null. */
  rpmLimit: number | null;
  /** Tokens per rate window (audio as billed: 10/s heard, 20/s spoken), or null. */
  tpmLimit: number | null;
  /** Requests in progress at once, or null. */
  maxParallelRequests: number | null;
  /** Free-form string pairs kept with the key, or null. */
  metadata: Record<string, string> | null;
}

/** What `KeyStore.admit` is asked: take one request (and `tokens`) from a key's limits, or nothing. */
export interface LimitAsk {
  /** The key's id. */
  keyId: string;
  /** The request, to count in progress until `release`. */
  requestId: string;
  /** Who runs it (`host/pid/…`), so a dead process's requests can be dropped. */
  process: string;
  /** Start of the current rate window, ms. */
  windowStart: number;
  /** Requests allowed per window, or null. */
  rpm: number | null;
  /** Tokens allowed per window, or null. */
  tpm: number | null;
  /** Requests allowed in progress, or null. */
  parallel: number | null;
  /** Estimated tokens of this request. */
  tokens: number;
  /** ms since the epoch. */
  now: number;
}

/** Counts after `admit`: what the window holds (this request included when admitted). */
export interface LimitCounts {
  /** True when the request was taken; false when a limit refused it (nothing was counted). */
  admitted: boolean;
  /** Which limit refused it. */
  refusedBy?: 'requests' | 'tokens' | 'parallel';
  /** Requests counted in the window. */
  requests: number;
  /** Tokens counted in the window. */
  tokens: number;
  /** Requests of the key in progress. */
  inFlight: number;
}

interface KeyRow {
  id: string;
  hash: string;
  alias: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  models: string | null;
  max_budget_usd: number | null;
  budget_duration_sec: number | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  metadata: string | null;
}

function fromRow(r: KeyRow): KeyRecord {
  return {
    id: r.id,
    hash: r.hash,
    alias: r.alias,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    models: r.models === null ? null : (JSON.parse(r.models) as string[]),
    maxBudgetUsd: r.max_budget_usd,
    budgetDurationSec: r.budget_duration_sec,
    rpmLimit: r.rpm_limit,
    tpmLimit: r.tpm_limit,
    maxParallelRequests: r.max_parallel_requests,
    metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, string>),
  };
}

/**
 * Keys and, in embedded mode, their rate-limit counters. Created by `Store`; reach it as
 * `store.keys`. Lookups read the row every time (no cache), so a revocation by another process on
 * the same data folder counts from its commit on.
 */
export class KeyStore {
  readonly #ctx: StoreContext;
  readonly #byHash: Statement;
  readonly #window: Statement;
  readonly #inFlight: Statement;
  readonly #dropOldWindows: Statement;
  readonly #count: Statement;
  readonly #markInFlight: Statement;
  readonly #release: Statement;
  readonly #adjust: Statement;
  readonly #admit: (ask: LimitAsk) => LimitCounts;

  /** Use `store.keys`. */
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    // Prepared once: they run on every request of a limited key.
    this.#byHash = db.prepare('SELECT * FROM api_keys WHERE hash = ?');
    this.#window = db.prepare('SELECT requests, tokens FROM key_rate_windows WHERE key_id = ? AND window_start = ?');
    this.#inFlight = db.prepare('SELECT COUNT(*) AS n FROM key_in_flight WHERE key_id = ?');
    this.#dropOldWindows = db.prepare('DELETE FROM key_rate_windows WHERE key_id = ? AND window_start < ?');
    this.#count = db.prepare(
      `INSERT INTO key_rate_windows (key_id, window_start, requests, tokens) VALUES (?, ?, 1, ?)
       ON CONFLICT (key_id, window_start) DO UPDATE SET requests = requests + 1, tokens = tokens + excluded.tokens`,
    );
    this.#markInFlight = db.prepare('INSERT OR REPLACE INTO key_in_flight (request_id, key_id, process, started_at) VALUES (?, ?, ?, ?)');
    this.#release = db.prepare('DELETE FROM key_in_flight WHERE request_id = ?');
    this.#adjust = db.prepare('UPDATE key_rate_windows SET tokens = MAX(0, tokens + ?) WHERE key_id = ? AND window_start = ?');
    const admit = db.transaction((ask: LimitAsk) => this.#admitIn(ask));
    this.#admit = (ask) => admit.immediate(ask);
  }

  /** Stores a new key (durably: a key handed out must not vanish in a power cut). */
  insert(record: KeyRecord): void {
    checkKeyHash(record.hash, 'hash');
    if (record.id !== apiKeyId(record.hash)) throw new TypeError('id must be apiKeyId(hash)');
    this.#ctx.durable(() =>
      this.#ctx.db
        .prepare(`INSERT INTO api_keys (id, hash, alias, created_at, expires_at, revoked_at, models, max_budget_usd, budget_duration_sec,
            rpm_limit, tpm_limit, max_parallel_requests, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(
          record.id,
          record.hash,
          record.alias,
          record.createdAt,
          record.expiresAt,
          record.revokedAt,
          record.models === null ? null : JSON.stringify(record.models),
          record.maxBudgetUsd,
          record.budgetDurationSec,
          record.rpmLimit,
          record.tpmLimit,
          record.maxParallelRequests,
          record.metadata === null ? null : JSON.stringify(record.metadata),
        ),
    );
  }

  /** The key with this sha256, live or not. */
  byHash(hash: string): KeyRecord | undefined {
    const row = this.#byHash.get(hash) as KeyRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** A key by its id (`key_…`), or by the alias of a live key. */
  find(idOrAlias: string): KeyRecord | undefined {
    const row = this.#ctx.db
      .prepare('SELECT * FROM api_keys WHERE id = ? OR (alias = ? AND revoked_at IS NULL) ORDER BY revoked_at IS NULL DESC LIMIT 1')
      .get(idOrAlias, idOrAlias) as KeyRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Every key, oldest first; revoked ones only when asked. */
  list(options: { includeRevoked?: boolean } = {}): KeyRecord[] {
    const rows = this.#ctx.db
      .prepare(`SELECT * FROM api_keys ${options.includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`)
      .all() as KeyRow[];
    return rows.map(fromRow);
  }

  /** Marks the key revoked (durably); returns the updated record, or undefined when unknown. Revoking twice keeps the first time. */
  revoke(id: string, at: number): KeyRecord | undefined {
    this.#ctx.durable(() => this.#ctx.db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(at, id));
    const row = this.#ctx.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /**
   * Takes one request (and `ask.tokens`) from the key's window and marks it in progress, or — when
   * any limit would be passed — takes nothing and says which. One IMMEDIATE transaction, so
   * processes sharing the database never both take the last place.
   */
  admit(ask: LimitAsk): LimitCounts {
    return this.#admit(ask);
  }

  #admitIn(ask: LimitAsk): LimitCounts {
    const row = this.#window.get(ask.keyId, ask.windowStart) as { requests: number; tokens: number } | undefined;
    const requests = row?.requests ?? 0;
    const tokens = row?.tokens ?? 0;
    const inFlight = ask.parallel === null ? 0 : (this.#inFlight.get(ask.keyId) as { n: number }).n;
    const refusedBy =
      ask.parallel !== null && inFlight + 1 > ask.parallel
        ? 'parallel'
        : ask.rpm !== null && requests + 1 > ask.rpm
          ? 'requests'
          : ask.tpm !== null && tokens + ask.tokens > ask.tpm && tokens > 0
            ? 'tokens'
            : undefined;
    if (refusedBy) return { admitted: false, refusedBy, requests, tokens, inFlight };
    if (!row) this.#dropOldWindows.run(ask.keyId, ask.windowStart);
    this.#count.run(ask.keyId, ask.windowStart, ask.tokens);
    if (ask.parallel !== null) this.#markInFlight.run(ask.requestId, ask.keyId, ask.process, ask.now);
    return { admitted: true, requests: requests + 1, tokens: tokens + ask.tokens, inFlight: inFlight + (ask.parallel === null ? 0 : 1) };
  }

  /** Adds `delta` tokens (negative: gives back) to a window that still exists, never below zero. */
  adjustTokens(keyId: string, windowStart: number, delta: number): void {
    if (delta === 0) return;
    this.#adjust.run(delta, keyId, windowStart);
  }

  /** The request is over: it no longer counts as in progress. */
  release(requestId: string): void {
    this.#release.run(requestId);
  }

  /** Drops in-progress marks of processes for which `isDead(process)` holds (they died mid-request). */
  releaseDead(isDead: (process: string) => boolean): number {
    const processes = (this.#ctx.db.prepare('SELECT DISTINCT process FROM key_in_flight').all() as { process: string }[]).map((r) => r.process);
    let n = 0;
    for (const p of processes.filter(isDead)) n += this.#ctx.db.prepare('DELETE FROM key_in_flight WHERE process = ?').run(p).changes;
    return n;
  }
}
