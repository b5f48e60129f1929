import type { UsageGroup } from '../store/usage.js';
import { ApiError } from './errors.js';
import { unixParam } from './params.js';

/*
 * The paging of OpenAI's usage API (`/v1/organization/usage/*`, `/v1/organization/costs`), shared
 * with a key's own `/v1/usage` buckets: a window of buckets from `start_time`, `limit` buckets a
 * page, `next_page` until the window's end.
 */

/** OpenAI's bucket widths with their default and largest number of buckets per page. */
export const BUCKET_WIDTHS = {
  '1m': { sec: 60, limit: 60, max: 1440 },
  '1h': { sec: 3600, limit: 24, max: 168 },
  '1d': { sec: 86400, limit: 7, max: 31 },
} as const;

type BucketWidth = keyof typeof BUCKET_WIDTHS;

/** A list query parameter: `x=a`, `x=a,b`, repeated, or the SDK's `x[]=a&x[]=b`. */
export function listParam(query: Record<string, unknown>, name: string): string[] | undefined {
  const raw = [query[name], query[`${name}[]`]].flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
  if (raw.length === 0) return undefined;
  return raw.flatMap((v) => String(v).split(',')).filter((v) => v.length > 0);
}

/** The time window, bucket width and page of one usage/costs request. */
export interface UsageWindow {
  width: BucketWidth;
  widthSec: number;
  /** First bucket of this page. */
  pageStart: number;
  /** Exclusive end of the whole window. */
  end: number;
  /** Buckets on this page. */
  limit: number;
}

/** Reads `start_time`, `end_time`, `bucket_width`, `limit` and `page` as OpenAI's usage API does. */
export function readWindow(query: Record<string, unknown>, now: number): UsageWindow {
  const start = unixParam(query, 'start_time');
  if (start === undefined) throw ApiError.missingParameter('start_time');
  // Exclusive; by default the current second is in.
  const end = unixParam(query, 'end_time') ?? now + 1;
  if (end <= start) throw ApiError.invalidRequest('end_time', "Invalid 'end_time': it must be after 'start_time'.", 'invalid_value');
  const rawWidth = query.bucket_width ?? '1d';
  if (typeof rawWidth !== 'string' || !(rawWidth in BUCKET_WIDTHS)) throw ApiError.invalidValue('bucket_width', String(rawWidth), Object.keys(BUCKET_WIDTHS));
  const width = rawWidth as BucketWidth;
  const spec = BUCKET_WIDTHS[width];
  let limit: number = spec.limit;
  if (query.limit !== undefined) {
    const n = Number(query.limit);
    if (!Number.isInteger(n) || n < 1 || n > spec.max) {
      throw ApiError.invalidRequest(
        'limit',
        `Invalid 'limit': with bucket_width=${width} expected an integer from 1 to ${spec.max}, got '${String(query.limit)}'.`,
        'invalid_value',
      );
    }
    limit = n;
  }
  let pageStart = start;
  if (query.page !== undefined) {
    const m = /^page_(\d+)$/.exec(String(query.page));
    const at = m ? Number(m[1]) : Number.NaN;
    if (!m || at < start || at >= end || (at - start) % spec.sec !== 0)
      throw ApiError.invalidRequest('page', "Invalid 'page': use the 'next_page' of a previous answer.", 'invalid_value');
    pageStart = at;
  }
  return { width, widthSec: spec.sec, pageStart, end, limit };
}

/** The page envelope: one bucket per width in the page (empty ones too), `next_page` while more remain. */
export function usagePage(w: UsageWindow, groups: readonly UsageGroup[], result: (g: UsageGroup) => object) {
  const data: { object: 'bucket'; start_time: number; end_time: number; results: object[] }[] = [];
  let t = w.pageStart;
  for (; t < w.end && data.length < w.limit; t += w.widthSec) {
    const end = Math.min(t + w.widthSec, w.end);
    data.push({ object: 'bucket', start_time: t, end_time: end, results: groups.filter((g) => g.start === t).map(result) });
  }
  const hasMore = t < w.end;
  return { object: 'page' as const, data, has_more: hasMore, next_page: hasMore ? `page_${t}` : null };
}
