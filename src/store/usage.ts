import type { Statement } from 'better-sqlite3';
import { checkKeyHash, type StoreContext } from './context.js';

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

/** One request's metered usage. */
export interface UsageRecordParams {
  /** The request's id (e.g. `chatcmpl-…` or a batch line's request id). Recording the same id twice counts once. */
  requestId: string;
  /** sha256 hex of the caller's API key (see `hashApiKey`), never the key; null for anonymous. */
  apiKeyHash: string | null;
  /** Endpoint path, e.g. `/v1/chat/completions`. */
  endpoint: string;
  /** The model name the client asked for. */
  model: string;
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
  /** Seconds of input audio. */
  audioInSec: number;
  /** Seconds of output audio. */
  audioOutSec: number;
  /** Unix seconds. */
  createdAt: number;
}

/** Filter of `UsageLedger.summary`. */
export interface UsageSummaryParams {
  /** Unix seconds, inclusive. */
  since?: number;
  /** Unix seconds, exclusive. */
  until?: number;
  /** Only this key's traffic (sha256 hex). Absent = every key. */
  apiKeyHash?: string;
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
  /** The same traffic at OpenAI's list prices (`OPENAI_PRICES_USD_PER_1M`). */
  openaiCostUsd: OpenAICost;
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

interface SumRow {
  requests: number;
  pt: number;
  pa: number;
  ct: number;
  ca: number;
  cached: number;
  cachedText: number;
  ain: number;
  aout: number;
  lastSeq: number | null;
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
        audio_in_sec, audio_out_sec, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (request_id) DO NOTHING`);
  }

  /**
   * Adds one request's usage. Returns false when `requestId` was already recorded (nothing
   * changes), so a retried or resumed batch line is never counted twice.
   */
  record(params: UsageRecordParams): boolean {
    if (typeof params.requestId !== 'string' || params.requestId.length === 0) throw new TypeError('requestId must be a non-empty string');
    const keyHash = checkKeyHash(params.apiKeyHash);
    for (const f of COUNT_FIELDS) {
      const v = params[f];
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${f} must be a non-negative integer, got ${v}`);
    }
    for (const f of ['audioInSec', 'audioOutSec'] as const) {
      const v = params[f];
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`${f} must be a non-negative number, got ${v}`);
    }
    if (!Number.isInteger(params.createdAt)) throw new RangeError(`createdAt must be integer unix seconds, got ${params.createdAt}`);
    const r = this.#insert.run(
      params.requestId,
      keyHash,
      params.endpoint,
      params.model,
      params.promptTextTokens,
      params.promptAudioTokens,
      params.completionTextTokens,
      params.completionAudioTokens,
      params.cachedTokens,
      params.audioInSec,
      params.audioOutSec,
      params.createdAt,
    );
    return r.changes === 1;
  }

  /** Totals over `[since, until)`, optionally for one key, with the OpenAI-price comparison. */
  summary(params: UsageSummaryParams = {}): UsageSummary {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (params.since !== undefined) {
      where.push('created_at >= ?');
      args.push(params.since);
    }
    if (params.until !== undefined) {
      where.push('created_at < ?');
      args.push(params.until);
    }
    if (params.apiKeyHash !== undefined) {
      where.push('api_key_hash = ?');
      args.push(checkKeyHash(params.apiKeyHash) as string);
    }
    if (params.afterSeq !== undefined) {
      // Walk the new rows by rowid: '+' keeps SQLite from preferring the (key, time) index, which
      // would read every row of the key's period again.
      for (let i = 0; i < where.length; i++) where[i] = `+${where[i]}`;
      where.push('seq > ?');
      args.push(params.afterSeq);
    }
    const row = this.#ctx.db
      .prepare(
        `SELECT COUNT(*) AS requests,
          TOTAL(prompt_text_tokens) AS pt, TOTAL(prompt_audio_tokens) AS pa,
          TOTAL(completion_text_tokens) AS ct, TOTAL(completion_audio_tokens) AS ca,
          TOTAL(cached_tokens) AS cached, TOTAL(MIN(cached_tokens, prompt_text_tokens)) AS cachedText,
          TOTAL(audio_in_sec) AS ain, TOTAL(audio_out_sec) AS aout,
          (SELECT MAX(seq) FROM usage_events) AS lastSeq
        FROM usage_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`,
      )
      .get(...args) as SumRow;
    const counts: TokenCounts = {
      promptTextTokens: row.pt,
      promptAudioTokens: row.pa,
      completionTextTokens: row.ct,
      completionAudioTokens: row.ca,
      cachedTokens: row.cached,
    };
    const promptTokens = row.pt + row.pa;
    const completionTokens = row.ct + row.ca;
    return {
      requests: row.requests,
      ...counts,
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      audioInSec: row.ain,
      audioOutSec: row.aout,
      // Priced with cached tokens capped per row (see openaiCost), not on the aggregate.
      openaiCostUsd: openaiCost({ ...counts, cachedTokens: row.cachedText }),
      lastSeq: row.lastSeq ?? 0,
    };
  }
}
