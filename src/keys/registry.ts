import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors.js';
import { apiKeyId, hashApiKey } from '../store/context.js';
import type { Store } from '../store/db.js';
import type { KeyRecord } from '../store/keys.js';

/** What a new key may be given (every field optional: a bare key is an unlimited one). */
export interface KeyCreateParams {
  /** A name for people, unique among live keys. */
  alias?: string;
  /** How long the key lives, seconds from now; absent = forever. */
  durationSec?: number;
  /** Model names the key may use; absent = every model. */
  models?: string[];
  /** Most the key may spend per budget period, USD at OpenAI's list price. */
  maxBudgetUsd?: number;
  /** Budget period, seconds (periods start when the key is made); absent = the key's whole life. */
  budgetDurationSec?: number;
  /** Requests per rate window. */
  rpmLimit?: number;
  /** Tokens per rate window. */
  tpmLimit?: number;
  /** Requests in progress at once. */
  maxParallelRequests?: number;
  /** Free-form string pairs. */
  metadata?: Record<string, string>;
}

/** A key's state at a moment. */
export type KeyStatus = 'active' | 'expired' | 'revoked';

/** Where a key stands against its budget now. */
export interface BudgetState {
  /** USD spent (OpenAI list price of the key's recorded usage) in the current period. */
  spendUsd: number;
  /** Unix seconds the current period began. */
  periodStart: number;
  /** Unix seconds the next period begins, or null when the budget never resets. */
  resetAt: number | null;
}

/** sha256 + the record, in Redis: how servers on other machines (other data folders) know a key. */
const MIRROR_PREFIX = 'parley:key:';

/**
 * The keys an admin hands out. Rows live in the data folder's SQLite (only each key's sha256);
 * with PARLEY_QUEUE=redis://… every record is mirrored into Redis as well, and Redis is read
 * first, so a key made (or revoked) on one server is known (or refused) at once by servers on
 * other machines and by remote batch workers. Nothing is cached in a process: each lookup reads
 * the row, so a revocation counts from its commit on.
 */
export class KeyRegistry {
  readonly #store: Store;
  readonly #redis: Redis | undefined;
  readonly #now: () => number;
  /** Each key's spend so far in its period and the ledger row it was summed to: only newer rows are read next time. */
  readonly #spend = new Map<string, { periodStart: number; lastSeq: number; spendUsd: number }>();

  constructor(options: { store: Store; redis?: Redis; now?: () => number }) {
    this.#store = options.store;
    this.#redis = options.redis;
    this.#now = options.now ?? Date.now;
  }

  /** Unix seconds now. */
  nowSec(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** The record of the key with this sha256 (live or not), or undefined when it is no key of ours. */
  async lookup(hash: string): Promise<KeyRecord | undefined> {
    if (this.#redis) {
      try {
        const mirrored = await this.#redis.get(MIRROR_PREFIX + hash);
        if (mirrored !== null) return JSON.parse(mirrored) as KeyRecord;
      } catch {
        // Redis unreachable: this data folder's rows still answer for the keys made here.
      }
    }
    const local = this.#store.keys.byHash(hash);
    // Redis lost its data (it need not be durable): put back what this folder knows.
    if (local && this.#redis) await this.#mirror(local).catch(() => undefined);
    return local;
  }

  /** Makes a key; the key itself is returned here once and never stored. */
  async create(params: KeyCreateParams): Promise<{ key: string; record: KeyRecord }> {
    const now = this.nowSec();
    if (params.alias !== undefined && this.#store.keys.find(params.alias)?.alias === params.alias) {
      throw ApiError.invalidRequest('alias', `A live key with alias '${params.alias}' already exists.`, 'alias_taken');
    }
    const key = `sk-parley-${crypto.randomBytes(24).toString('base64url')}`;
    const hash = hashApiKey(key);
    const record: KeyRecord = {
      id: apiKeyId(hash),
      hash,
      alias: params.alias ?? null,
      createdAt: now,
      expiresAt: params.durationSec === undefined ? null : now + params.durationSec,
      revokedAt: null,
      models: params.models ?? null,
      maxBudgetUsd: params.maxBudgetUsd ?? null,
      budgetDurationSec: params.budgetDurationSec ?? null,
      rpmLimit: params.rpmLimit ?? null,
      tpmLimit: params.tpmLimit ?? null,
      maxParallelRequests: params.maxParallelRequests ?? null,
      metadata: params.metadata ?? null,
    };
    this.#store.keys.insert(record);
    await this.#mirror(record);
    return { key, record };
  }

  /** Keys made on this data folder, oldest first. */
  list(options: { includeRevoked?: boolean } = {}): KeyRecord[] {
    return this.#store.keys.list(options);
  }

  /** A key by id (`key_…`) or by a live key's alias; 404 when unknown. */
  get(idOrAlias: string): KeyRecord {
    const record = this.#store.keys.find(idOrAlias);
    if (!record) throw ApiError.notFound(`No API key with id or alias '${idOrAlias}'.`, 'key_not_found', 'key');
    return record;
  }

  /** Revokes a key at once, here and (Redis mode) on every server; revoking twice is harmless. */
  async revoke(idOrAlias: string): Promise<KeyRecord> {
    const record = this.#store.keys.revoke(this.get(idOrAlias).id, this.nowSec())!;
    await this.#mirror(record);
    return record;
  }

  /** Puts every record of this data folder into Redis (at start: Redis need not be durable). */
  async publishAll(): Promise<void> {
    if (!this.#redis) return;
    for (const record of this.#store.keys.list({ includeRevoked: true })) await this.#mirror(record);
  }

  /** `revoked`, `expired` (at or after `expires_at`) or `active`. */
  status(record: KeyRecord, nowSec = this.nowSec()): KeyStatus {
    if (record.revokedAt !== null) return 'revoked';
    if (record.expiresAt !== null && nowSec >= record.expiresAt) return 'expired';
    return 'active';
  }

  /**
   * The key's spend in its current budget period: the usage ledger's cost (OpenAI list price) of
   * the key's requests since the period began. Periods start when the key was made and repeat
   * every `budget_duration` (LiteLLM's budget reset); without one the budget is for the key's life.
   */
  budget(record: KeyRecord, nowSec = this.nowSec()): BudgetState {
    const d = record.budgetDurationSec;
    const periodStart = d === null ? record.createdAt : record.createdAt + Math.floor(Math.max(0, nowSec - record.createdAt) / d) * d;
    // A running total brought up to date from the rows recorded since the last check (by any
    // process on the data folder): exact, and its cost does not grow with the key's history.
    const known = this.#spend.get(record.id);
    const base = known && known.periodStart === periodStart ? known : { periodStart, lastSeq: 0, spendUsd: 0 };
    const fresh = this.#store.usage.summary({ since: periodStart, owner: record.hash, afterSeq: base.lastSeq });
    const spendUsd = Math.round((base.spendUsd + fresh.openaiCostUsd.total) * 1e9) / 1e9;
    this.#spend.set(record.id, { periodStart, lastSeq: fresh.lastSeq, spendUsd });
    return { spendUsd, periodStart, resetAt: d === null ? null : periodStart + d };
  }

  async #mirror(record: KeyRecord): Promise<void> {
    if (this.#redis) await this.#redis.set(MIRROR_PREFIX + record.hash, JSON.stringify(record));
  }
}
