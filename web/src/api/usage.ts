/**
 * Where the Usage page's numbers come from — the one file to change when the usage endpoints do.
 *
 * - `GET /v1/usage?start_time=&end_time=&bucket_width=&limit=` (every key): the caller's key per
 *   hour or day in one call — requests, tokens, audio seconds, the OpenAI list-price equivalent and
 *   Parley's own cost. An admin adds `api_key_id=key_…` (one key) or `api_key_id=all`.
 * - `GET /v1/organization/usage/completions` and `GET /v1/organization/costs` (OpenAI's admin
 *   shapes, admin key only): per-key rows. When they answer, the page shows the per-key view and a
 *   key picker for the charts; when they do not (401/403 for a non-admin key), it does not.
 * - Parley's own cost: shown wherever the server reports it (see `parleyCostOf`).
 */
import type OpenAI from 'openai';
import { parleyCostOf } from './prices.js';

/** A time range and how it is cut. */
export interface UsageRange {
  id: '24h' | '7d' | '30d';
  label: string;
  /** Bucket width, seconds. */
  bucketSec: number;
  buckets: number;
}

export const RANGES: readonly UsageRange[] = [
  { id: '24h', label: 'Last 24 hours, by hour', bucketSec: 3600, buckets: 24 },
  { id: '7d', label: 'Last 7 days, by day', bucketSec: 86_400, buckets: 7 },
  { id: '30d', label: 'Last 30 days, by day', bucketSec: 86_400, buckets: 30 },
];

/** One bucket of the series. */
export interface UsageBucket {
  /** Unix seconds, inclusive. */
  start: number;
  /** Unix seconds, exclusive. */
  end: number;
  requests: number;
  audioInSec: number;
  audioOutSec: number;
  promptTokens: number;
  completionTokens: number;
  /** The same traffic at OpenAI's list prices, USD. */
  openaiUsd: number;
  /** What it cost to run on Parley, USD; null when the server does not report it. */
  parleyUsd: number | null;
}

/** One bucket's totals of `/v1/usage` as they are on the wire (snake_case). */
interface UsageTotalsWire {
  requests: number;
  prompt_text_tokens: number;
  prompt_audio_tokens: number;
  completion_text_tokens: number;
  completion_audio_tokens: number;
  audio_in_sec: number;
  audio_out_sec: number;
  openai_cost_usd: number;
  parley_cost_usd: number;
}

/** `/v1/usage` with `start_time`: OpenAI's page of buckets. */
interface UsagePageWire {
  data: Array<{ start_time: number; end_time: number; results: UsageTotalsWire[] }>;
}

function toBucket(start: number, end: number, w: UsageTotalsWire | undefined): UsageBucket {
  return {
    start,
    end,
    requests: w?.requests ?? 0,
    audioInSec: w?.audio_in_sec ?? 0,
    audioOutSec: w?.audio_out_sec ?? 0,
    promptTokens: (w?.prompt_text_tokens ?? 0) + (w?.prompt_audio_tokens ?? 0),
    completionTokens: (w?.completion_text_tokens ?? 0) + (w?.completion_audio_tokens ?? 0),
    openaiUsd: w?.openai_cost_usd ?? 0,
    parleyUsd: w ? parleyCostOf(w) : 0,
  };
}

/** Bucket edges ending at the current bucket's end (whole hours or days, UTC). */
export function bucketEdges(range: UsageRange, nowSec: number): Array<[number, number]> {
  const end = Math.ceil((nowSec + 1) / range.bucketSec) * range.bucketSec;
  const edges: Array<[number, number]> = [];
  for (let i = range.buckets; i > 0; i--) edges.push([end - i * range.bucketSec, end - (i - 1) * range.bucketSec]);
  return edges;
}

/**
 * Usage over `range`, one bucket per hour or day, in one request: the caller's own key, or for an
 * admin `apiKeyId` (`key_…`, or `all` for every key).
 */
export async function loadUsageSeries(client: OpenAI, range: UsageRange, nowSec = Math.floor(Date.now() / 1000), apiKeyId?: string): Promise<UsageBucket[]> {
  const edges = bucketEdges(range, nowSec);
  const page = await client.get<UsagePageWire>('/usage', {
    query: {
      start_time: edges[0]![0],
      end_time: edges[edges.length - 1]![1],
      bucket_width: range.bucketSec < 86_400 ? '1h' : '1d',
      limit: range.buckets,
      ...(apiKeyId ? { api_key_id: apiKeyId } : {}),
    },
  });
  const byStart = new Map(page.data.map((b) => [b.start_time, b.results[0]]));
  return edges.map(([since, until]) => toBucket(since, until, byStart.get(since)));
}

/** Sum of a series. */
export function totalOf(buckets: readonly UsageBucket[]): Omit<UsageBucket, 'start' | 'end'> {
  const sum = (f: (b: UsageBucket) => number) => buckets.reduce((s, b) => s + f(b), 0);
  const parley = buckets.some((b) => b.parleyUsd !== null) ? sum((b) => b.parleyUsd ?? 0) : null;
  return {
    requests: sum((b) => b.requests),
    audioInSec: sum((b) => b.audioInSec),
    audioOutSec: sum((b) => b.audioOutSec),
    promptTokens: sum((b) => b.promptTokens),
    completionTokens: sum((b) => b.completionTokens),
    openaiUsd: sum((b) => b.openaiUsd),
    parleyUsd: parley,
  };
}

/** One API key's totals from the admin endpoints. */
export interface KeyUsage {
  apiKeyId: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  inputAudioTokens: number;
  outputAudioTokens: number;
  /** Parley's own cost, from `/v1/organization/costs`; null when that endpoint did not answer. */
  costUsd: number | null;
  /** The same traffic at OpenAI's list price (the costs' `openai_list_amount`); null when not reported. */
  openaiUsd: number | null;
}

interface AdminPage<T> {
  data: Array<{ start_time: number; end_time: number; results: T[] }>;
  has_more?: boolean;
  next_page?: string | null;
}
interface CompletionsResult {
  api_key_id: string | null;
  num_model_requests?: number;
  input_tokens?: number;
  output_tokens?: number;
  input_audio_tokens?: number;
  output_audio_tokens?: number;
}
interface CostsResult {
  api_key_id: string | null;
  amount?: { value?: number };
  openai_list_amount?: { value?: number };
}

async function allPages<T>(client: OpenAI, path: string, query: Record<string, unknown>): Promise<T[]> {
  const out: T[] = [];
  let page: string | undefined;
  for (let i = 0; i < 20; i++) {
    const res = await client.get<AdminPage<T>>(path, { query: { ...query, ...(page ? { page } : {}) } });
    for (const bucket of res.data ?? []) out.push(...(bucket.results ?? []));
    if (!res.has_more || !res.next_page) break;
    page = res.next_page;
  }
  return out;
}

/**
 * Per-key usage over `range` from OpenAI's admin endpoints, or null when this server or this key
 * does not offer them.
 */
export async function loadPerKeyUsage(client: OpenAI, range: UsageRange, nowSec = Math.floor(Date.now() / 1000)): Promise<KeyUsage[] | null> {
  const edges = bucketEdges(range, nowSec);
  const query = { start_time: edges[0]![0], end_time: edges[edges.length - 1]![1], bucket_width: '1d', group_by: 'api_key_id', limit: 31 };
  let completions: CompletionsResult[];
  try {
    completions = await allPages<CompletionsResult>(client, '/organization/usage/completions', query);
  } catch {
    return null;
  }
  const costs = await allPages<CostsResult>(client, '/organization/costs', query).catch(() => null);
  // Requests of the other endpoints (speech, transcription, moderation) count too.
  const others = (
    await Promise.all(
      ['audio_speeches', 'audio_transcriptions', 'moderations'].map((kind) =>
        allPages<{ api_key_id: string | null; num_model_requests?: number }>(client, `/organization/usage/${kind}`, query).catch(() => []),
      ),
    )
  ).flat();
  const rows = new Map<string, KeyUsage>();
  const row = (id: string | null): KeyUsage => {
    const key = id ?? '(no key)';
    let r = rows.get(key);
    if (!r) {
      r = {
        apiKeyId: key,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        inputAudioTokens: 0,
        outputAudioTokens: 0,
        costUsd: costs ? 0 : null,
        openaiUsd: null,
      };
      rows.set(key, r);
    }
    return r;
  };
  for (const c of completions) {
    const r = row(c.api_key_id);
    r.requests += c.num_model_requests ?? 0;
    r.inputTokens += c.input_tokens ?? 0;
    r.outputTokens += c.output_tokens ?? 0;
    r.inputAudioTokens += c.input_audio_tokens ?? 0;
    r.outputAudioTokens += c.output_audio_tokens ?? 0;
  }
  for (const o of others) row(o.api_key_id).requests += o.num_model_requests ?? 0;
  for (const c of costs ?? []) {
    const r = row(c.api_key_id);
    r.costUsd = (r.costUsd ?? 0) + (c.amount?.value ?? 0);
    if (c.openai_list_amount?.value !== undefined) r.openaiUsd = (r.openaiUsd ?? 0) + c.openai_list_amount.value;
  }
  return [...rows.values()].sort((a, b) => b.requests - a.requests);
}
