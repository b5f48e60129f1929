import type { Statement } from 'better-sqlite3';
import { checkKeyHash, type StoreContext, unixSeconds } from './context.js';

/**
 * OpenAI's list prices for gpt-4o-mini-audio-preview(-2024-12-17), USD per 1M tokens.
 * Source: /work/shared/contract/08_pricing_and_audio_tokens.txt (list price at launch, Dec 2024).
 * `cachedTextIn` is not in that source, which notes no cached-input discount is listed for this
 * model; 0.075 is half the text-input price, the rate OpenAI charges cached input of gpt-4o-mini,
 * used here as specified for Parley's comparison. Set it to `textIn` for the list-price-only view.
 */
export const OPENAI_PRICES_USD_PER_1M = {
  /** Uncached text input tokens. */
  textIn: 0.15,
  /** Cached text input tokens (see the note above). */
  cachedTextIn: 0.075,
  /** Text output tokens (the transcript of an audio reply counts here too). */
  textOut: 0.6,
  /** Audio input tokens (10 per second of input audio). */
  audioIn: 10.0,
  /** Audio output tokens (20 per second of output audio). */
  audioOut: 20.0,
} as const;

/**
 * OpenAI's usage families (`/v1/organization/usage/{kind}`) and the endpoints each counts. Voice
 * analysis (a Parley extension) is audio heard, so it counts with transcriptions. Moderations are
 * free at OpenAI: their rows are priced at 0.
 */
export const USAGE_KINDS = {
  completions: ['/v1/chat/completions'],
  audio_speeches: ['/v1/audio/speech'],
  audio_transcriptions: ['/v1/audio/transcriptions', '/v1/audio/translations', '/v1/audio/analysis'],
  moderations: ['/v1/moderations'],
} as const;

/** One of OpenAI's usage families. */
export type UsageKind = keyof typeof USAGE_KINDS;

/** The family an endpoint's usage belongs to (undefined for an endpoint no family counts). */
export function usageKindOf(endpoint: string): UsageKind | undefined {
  for (const [kind, endpoints] of Object.entries(USAGE_KINDS)) if ((endpoints as readonly string[]).includes(endpoint)) return kind as UsageKind;
  return undefined;
}

/**
 * One request's metered usage: what the pipeline records and the ledger keeps (one type for both).
 * Counts are as OpenAI bills them (audio: 10 tokens per second heard, 20 per second spoken).
 */
export interface UsageEntry {
  /** The request's id (e.g. `chatcmpl-…` or a batch line's request id). Recording the same id twice counts once. */
  requestId: string;
  /** Who asked: sha256 hex of the caller's API key (see `hashApiKey`), never the key; null for anonymous. */
  owner: string | null;
  /** The operation, named by its OpenAI path (`/v1/chat/completions`, `/v1/audio/speech`, …). */
  endpoint: string;
  /** The model name the client asked for. */
  model: string;
  /** A batch line (not a live request). */
  batch?: boolean;
  /** Text tokens of the prompt (including `cachedTokens`). */
  promptTextTokens: number;
  /** Audio tokens of the prompt. */
  promptAudioTokens: number;
  /** Text tokens of the completion (for audio replies, the transcript). */
  completionTextTokens: number;
  /** Audio tokens of the completion. */
  completionAudioTokens: number;
  /** Prompt tokens served from cache (a subset of `promptTextTokens`). */
  cachedTokens: number;
  /** Seconds of audio heard. */
  audioInSec: number;
  /** Seconds of audio spoken. */
  audioOutSec: number;
  /** Characters of text spoken (speech requests). */
  characters?: number;
  /** Core-seconds the request's engine jobs held (`EngineMeter`): Parley's own cost. */
  engineSec?: number;
  /** Unix seconds (default: the store's clock). */
  createdAt?: number;
}

/** Filter of `UsageLedger.summary`. */
export interface UsageSummaryParams {
  /** Unix seconds, inclusive. */
  since?: number;
  /** Unix seconds, exclusive. */
  until?: number;
  /** Only this key's traffic (sha256 hex; null = anonymous traffic only). Absent = every key. */
  owner?: string | null;
  /** Only the keys whose public id (`key_` + 16 hex) is one of these. */
  apiKeyIds?: readonly string[];
  /** Price of one core-hour, USD, for Parley's own cost (config `usage.coreHourUsd`; absent = 0). */
  coreHourUsd?: number;
  /**
   * Only rows recorded after this one (`UsageSummary.lastSeq` of an earlier summary): how a running
   * total is brought up to date by reading the new rows only (a key's budget check).
   */
  afterSeq?: number;
}

/** What the same traffic would have cost at OpenAI, USD, per price line and in total. */
export interface OpenAICost {
  /** Uncached text input. */
  textIn: number;
  /** Cached text input. */
  cachedTextIn: number;
  /** Text output. */
  textOut: number;
  /** Audio input. */
  audioIn: number;
  /** Audio output. */
  audioOut: number;
  /** Sum of the above. */
  total: number;
}

/** Totals of `UsageLedger.summary`. */
export interface UsageSummary {
  /** Number of requests recorded. */
  requests: number;
  /** Sum of prompt text tokens (cached included). */
  promptTextTokens: number;
  /** Sum of prompt audio tokens. */
  promptAudioTokens: number;
  /** Sum of completion text tokens. */
  completionTextTokens: number;
  /** Sum of completion audio tokens. */
  completionAudioTokens: number;
  /** Sum of cached prompt tokens. */
  cachedTokens: number;
  /** promptTextTokens + promptAudioTokens. */
  promptTokens: number;
  /** completionTextTokens + completionAudioTokens. */
  completionTokens: number;
  /** promptTokens + completionTokens. */
  totalTokens: number;
  /** Seconds of input audio. */
  audioInSec: number;
  /** Seconds of output audio. */
  audioOutSec: number;
  /** Characters of text spoken. */
  characters: number;
  /** Core-seconds of engine work. */
  engineSec: number;
  /** The same traffic at OpenAI's list prices (`OPENAI_PRICES_USD_PER_1M`; moderations free). */
  openaiCostUsd: OpenAICost;
  /** What it cost here: `engineSec` at the configured $/core-hour. */
  parleyCostUsd: number;
  /** The newest row of the whole ledger when this was read (pass it as `afterSeq` to continue). */
  lastSeq: number;
}

/** Token counts that `openaiCost` prices. */
export interface TokenCounts {
  /** Prompt text tokens, cached included. */
  promptTextTokens: number;
  /** Prompt audio tokens. */
  promptAudioTokens: number;
  /** Completion text tokens. */
  completionTextTokens: number;
  /** Completion audio tokens. */
  completionAudioTokens: number;
  /** Cached prompt tokens. */
  cachedTokens: number;
}

/** Rounds to a nano-dollar so sums of float products compare cleanly. */
function usd(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/**
 * Prices token counts at OpenAI's list prices. Cached tokens are treated as text (this model's
 * chat completions report `cached_tokens` without a split) and capped at the prompt text tokens, so
 * a bad count can never make the cost negative.
 */
export function openaiCost(t: TokenCounts, prices: typeof OPENAI_PRICES_USD_PER_1M = OPENAI_PRICES_USD_PER_1M): OpenAICost {
  const cached = Math.min(t.cachedTokens, t.promptTextTokens);
  const perToken = (n: number, price: number): number => (n * price) / 1_000_000;
  const textIn = usd(perToken(t.promptTextTokens - cached, prices.textIn));
  const cachedTextIn = usd(perToken(cached, prices.cachedTextIn));
  const textOut = usd(perToken(t.completionTextTokens, prices.textOut));
  const audioIn = usd(perToken(t.promptAudioTokens, prices.audioIn));
  const audioOut = usd(perToken(t.completionAudioTokens, prices.audioOut));
  return { textIn, cachedTextIn, textOut, audioIn, audioOut, total: usd(textIn + cachedTextIn + textOut + audioIn + audioOut) };
}

const COUNT_FIELDS = ['promptTextTokens', 'promptAudioTokens', 'completionTextTokens', 'completionAudioTokens', 'cachedTokens'] as const;

/** Sums of one group (one endpoint inside it), as the aggregate query returns them. */
interface SumRow {
  endpoint: string;
  b: number;
  owner: string | null;
  model: string | null;
  batch: number | null;
  requests: number;
  pt: number;
  pa: number;
  ct: number;
  ca: number;
  cached: number;
  cachedText: number;
  ain: number;
  aout: number;
  chars: number;
  esec: number;
}

/** Totals of one usage group (see {@link UsageLedger.buckets}). */
export interface UsageTotals extends TokenCounts {
  requests: number;
  audioInSec: number;
  audioOutSec: number;
  characters: number;
  engineSec: number;
  /** At OpenAI's list prices, USD (moderations free). */
  openaiCostUsd: number;
  /** Engine core-seconds at the configured $/core-hour, USD. */
  parleyCostUsd: number;
}

/** What {@link UsageLedger.buckets} reads. */
export interface UsageBucketQuery {
  /** Unix seconds, inclusive: the first bucket starts here. */
  start: number;
  /** Unix seconds, exclusive. */
  end: number;
  /** Bucket width, seconds (60, 3600, 86400). */
  widthSec: number;
  /** Only these families (absent: all). */
  kinds?: readonly UsageKind[];
  /** Split each bucket by these. */
  groupBy?: { owner?: boolean; model?: boolean; batch?: boolean; kind?: boolean };
  /** Only these owners (sha256 hex; null = anonymous). */
  owners?: readonly (string | null)[];
  /** Only owners whose public id (`key_` + 16 hex) is one of these. */
  apiKeyIds?: readonly string[];
  /** Only these models. */
  models?: readonly string[];
  /** Only batch lines (true) or only live requests (false). */
  batch?: boolean;
  /** $/core-hour for `parleyCostUsd` (config `usage.coreHourUsd`; absent = 0). */
  coreHourUsd?: number;
}

/** One group of one bucket. */
export interface UsageGroup {
  /** Bucket start, unix seconds. */
  start: number;
  /** Present when grouped by owner. */
  owner?: string | null;
  model?: string;
  batch?: boolean;
  kind?: UsageKind;
  totals: UsageTotals;
}

/** Every count of a {@link UsageEntry} at 0: what a request that used nothing of a kind reports. */
export const NO_USAGE = {
  promptTextTokens: 0,
  promptAudioTokens: 0,
  completionTextTokens: 0,
  completionAudioTokens: 0,
  cachedTokens: 0,
  audioInSec: 0,
  audioOutSec: 0,
  characters: 0,
  engineSec: 0,
} as const satisfies Partial<UsageEntry>;

function emptyTotals(): UsageTotals {
  return { requests: 0, ...NO_USAGE, openaiCostUsd: 0, parleyCostUsd: 0 };
}

const ZERO_COST: OpenAICost = { textIn: 0, cachedTextIn: 0, textOut: 0, audioIn: 0, audioOut: 0, total: 0 };

/** OpenAI's price of one endpoint's sums: moderations are free, the rest at the list prices (cached capped per row). */
function rowCost(row: SumRow): OpenAICost {
  if (usageKindOf(row.endpoint) === 'moderations') return ZERO_COST;
  return openaiCost({
    promptTextTokens: row.pt,
    promptAudioTokens: row.pa,
    completionTextTokens: row.ct,
    completionAudioTokens: row.ca,
    cachedTokens: row.cachedText,
  });
}

function addRow(t: UsageTotals, row: SumRow, coreHourUsd: number): void {
  t.requests += row.requests;
  t.promptTextTokens += row.pt;
  t.promptAudioTokens += row.pa;
  t.completionTextTokens += row.ct;
  t.completionAudioTokens += row.ca;
  t.cachedTokens += row.cached;
  t.audioInSec += row.ain;
  t.audioOutSec += row.aout;
  t.characters += row.chars;
  t.engineSec += row.esec;
  t.openaiCostUsd = usd(t.openaiCostUsd + rowCost(row).total);
  t.parleyCostUsd = usd(t.parleyCostUsd + (row.esec / 3600) * coreHourUsd);
}

/** The public id of a key: `key_` + the first 16 hex digits of its sha256 (never the key). */
export function apiKeyIdOf(owner: string | null): string | null {
  return owner === null ? null : `key_${owner.slice(0, 16)}`;
}

/** The usage ledger. Created by `Store`; reach it as `store.usage`. */
export class UsageLedger {
  readonly #ctx: StoreContext;
  readonly #insert: Statement;

  /** Use `store.usage`. */
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#insert = ctx.db.prepare(`INSERT INTO usage_events (
        request_id, api_key_hash, endpoint, model,
        prompt_text_tokens, prompt_audio_tokens, completion_text_tokens, completion_audio_tokens, cached_tokens,
        audio_in_sec, audio_out_sec, created_at, characters, batch, engine_sec)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (request_id) DO NOTHING`);
  }

  /**
   * Adds one request's usage. Returns false when `requestId` was already recorded (nothing
   * changes), so a retried or resumed batch line is never counted twice.
   */
  record(entry: UsageEntry): boolean {
    if (typeof entry.requestId !== 'string' || entry.requestId.length === 0) throw new TypeError('requestId must be a non-empty string');
    const keyHash = checkKeyHash(entry.owner, 'owner');
    const characters = entry.characters ?? 0;
    for (const [f, v] of [...COUNT_FIELDS.map((f) => [f, entry[f]] as const), ['characters', characters] as const]) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${f} must be a non-negative integer, got ${v}`);
    }
    const engineSec = entry.engineSec ?? 0;
    for (const [f, v] of [
      ['audioInSec', entry.audioInSec],
      ['audioOutSec', entry.audioOutSec],
      ['engineSec', engineSec],
    ] as const) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`${f} must be a non-negative number, got ${v}`);
    }
    const createdAt = entry.createdAt ?? unixSeconds(this.#ctx.now());
    if (!Number.isInteger(createdAt)) throw new RangeError(`createdAt must be integer unix seconds, got ${createdAt}`);
    const r = this.#insert.run(
      entry.requestId,
      keyHash,
      entry.endpoint,
      entry.model,
      entry.promptTextTokens,
      entry.promptAudioTokens,
      entry.completionTextTokens,
      entry.completionAudioTokens,
      entry.cachedTokens,
      entry.audioInSec,
      entry.audioOutSec,
      createdAt,
      characters,
      entry.batch ? 1 : 0,
      engineSec,
    );
    return r.changes === 1;
  }

  /** Totals over `[since, until)`, optionally for one key, with the OpenAI-price comparison and Parley's own cost. */
  summary(params: UsageSummaryParams = {}): UsageSummary {
    // One read transaction: the sums and lastSeq see the same rows, whatever other processes write.
    const { rows, lastSeq } = this.#ctx.db.transaction(() => ({
      rows: this.#sums({
        since: params.since,
        until: params.until,
        owners: params.owner === undefined ? undefined : [params.owner],
        apiKeyIds: params.apiKeyIds,
        afterSeq: params.afterSeq,
      }),
      lastSeq: (this.#ctx.db.prepare('SELECT MAX(seq) AS s FROM usage_events').get() as { s: number | null }).s ?? 0,
    }))();
    const coreHourUsd = params.coreHourUsd ?? 0;
    const t = emptyTotals();
    const cost = { ...ZERO_COST };
    for (const row of rows) {
      addRow(t, row, coreHourUsd);
      const c = rowCost(row);
      for (const k of Object.keys(cost) as (keyof OpenAICost)[]) cost[k] = usd(cost[k] + c[k]);
    }
    const promptTokens = t.promptTextTokens + t.promptAudioTokens;
    const completionTokens = t.completionTextTokens + t.completionAudioTokens;
    return {
      requests: t.requests,
      promptTextTokens: t.promptTextTokens,
      promptAudioTokens: t.promptAudioTokens,
      completionTextTokens: t.completionTextTokens,
      completionAudioTokens: t.completionAudioTokens,
      cachedTokens: t.cachedTokens,
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      audioInSec: t.audioInSec,
      audioOutSec: t.audioOutSec,
      characters: t.characters,
      engineSec: t.engineSec,
      openaiCostUsd: cost,
      parleyCostUsd: t.parleyCostUsd,
      lastSeq,
    };
  }

  /**
   * Usage in time buckets of `widthSec` from `start` (OpenAI's organization usage and costs), each
   * split by the asked groups. Only buckets and groups with traffic are returned, in time order.
   */
  buckets(q: UsageBucketQuery): UsageGroup[] {
    if (!(q.widthSec > 0)) throw new RangeError('widthSec must be positive');
    const endpoints = q.kinds?.flatMap((k) => USAGE_KINDS[k]);
    const g = q.groupBy ?? {};
    const rows = this.#sums({
      since: q.start,
      until: q.end,
      bucket: { start: q.start, width: q.widthSec },
      endpoints,
      owners: q.owners,
      apiKeyIds: q.apiKeyIds,
      models: q.models,
      batch: q.batch,
      group: { owner: g.owner === true, model: g.model === true, batch: g.batch === true },
    });
    const coreHourUsd = q.coreHourUsd ?? 0;
    const groups = new Map<string, UsageGroup>();
    for (const row of rows) {
      const kind = usageKindOf(row.endpoint);
      if (kind === undefined && q.kinds !== undefined) continue;
      const start = q.start + row.b * q.widthSec;
      const group: UsageGroup = { start, totals: emptyTotals() };
      if (g.owner) group.owner = row.owner;
      if (g.model) group.model = row.model ?? '';
      if (g.batch) group.batch = row.batch === 1;
      if (g.kind && kind !== undefined) group.kind = kind;
      const key = JSON.stringify([start, group.owner, group.model, group.batch, group.kind]);
      const existing = groups.get(key) ?? groups.set(key, group).get(key)!;
      addRow(existing.totals, row, coreHourUsd);
    }
    return [...groups.values()].sort((a, b) => a.start - b.start);
  }

  /** Sums per endpoint (and per bucket and asked group) of the rows that match. */
  #sums(f: {
    since?: number;
    until?: number;
    bucket?: { start: number; width: number };
    endpoints?: readonly string[];
    owners?: readonly (string | null)[];
    apiKeyIds?: readonly string[];
    models?: readonly string[];
    batch?: boolean;
    group?: { owner: boolean; model: boolean; batch: boolean };
    afterSeq?: number;
  }): SumRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const inList = (column: string, values: readonly string[]) => {
      where.push(values.length === 0 ? '0' : `${column} IN (${values.map(() => '?').join(', ')})`);
      args.push(...values);
    };
    if (f.since !== undefined) {
      where.push('created_at >= ?');
      args.push(f.since);
    }
    if (f.until !== undefined) {
      where.push('created_at < ?');
      args.push(f.until);
    }
    if (f.endpoints) inList('endpoint', f.endpoints);
    if (f.owners) {
      const hashes = f.owners.filter((o): o is string => o !== null).map((o) => checkKeyHash(o, 'owner') as string);
      const anonymous = f.owners.includes(null);
      const parts = [...(hashes.length > 0 ? [`api_key_hash IN (${hashes.map(() => '?').join(', ')})`] : []), ...(anonymous ? ['api_key_hash IS NULL'] : [])];
      where.push(parts.length > 0 ? `(${parts.join(' OR ')})` : '0');
      args.push(...hashes);
    }
    if (f.apiKeyIds) inList("('key_' || substr(api_key_hash, 1, 16))", f.apiKeyIds);
    if (f.models) inList('model', f.models);
    if (f.batch !== undefined) {
      where.push('batch = ?');
      args.push(f.batch ? 1 : 0);
    }
    if (f.afterSeq !== undefined) {
      // Walk the new rows by rowid: '+' keeps SQLite from preferring the (key, time) index, which
      // would read every row of the key's period again.
      for (let i = 0; i < where.length; i++) where[i] = `+${where[i]}`;
      where.push('seq > ?');
      args.push(f.afterSeq);
    }
    const bucket = f.bucket ? `(created_at - ${Math.floor(f.bucket.start)}) / ${Math.floor(f.bucket.width)}` : '0';
    const cols = [
      `${bucket} AS b`,
      f.group?.owner ? 'api_key_hash AS owner' : 'NULL AS owner',
      f.group?.model ? 'model' : 'NULL AS model',
      f.group?.batch ? 'batch' : 'NULL AS batch',
    ];
    const groupBy = ['endpoint', 'b', ...(f.group?.owner ? ['api_key_hash'] : []), ...(f.group?.model ? ['model'] : []), ...(f.group?.batch ? ['batch'] : [])];
    return this.#ctx.db
      .prepare(
        `SELECT endpoint, ${cols.join(', ')}, COUNT(*) AS requests,
          TOTAL(prompt_text_tokens) AS pt, TOTAL(prompt_audio_tokens) AS pa,
          TOTAL(completion_text_tokens) AS ct, TOTAL(completion_audio_tokens) AS ca,
          TOTAL(cached_tokens) AS cached, TOTAL(MIN(cached_tokens, prompt_text_tokens)) AS cachedText,
          TOTAL(audio_in_sec) AS ain, TOTAL(audio_out_sec) AS aout, TOTAL(characters) AS chars, TOTAL(engine_sec) AS esec
        FROM usage_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        GROUP BY ${groupBy.join(', ')} ORDER BY b`,
      )
      .all(...args) as SumRow[];
  }
}
