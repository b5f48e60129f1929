/** Batch input and progress arithmetic (no DOM: unit-tested in Node). */

export type Endpoint = '/v1/chat/completions' | '/v1/audio/transcriptions' | '/v1/audio/speech' | '/v1/audio/translations';

/** The endpoints a Parley batch can run. */
export const ENDPOINTS: readonly Endpoint[] = ['/v1/chat/completions', '/v1/audio/transcriptions', '/v1/audio/speech', '/v1/audio/translations'];

/** A JSONL file ready to become a batch. */
export interface Draft {
  name: string;
  text: string;
  lines: number;
  endpoint: Endpoint | null;
  problem: string | null;
}

/** Reads a JSONL file: counts its requests and finds the one endpoint they all use. */
export function inspectJsonl(name: string, text: string): Draft {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const urls = new Set<string>();
  for (const [i, line] of lines.entries()) {
    try {
      const url = (JSON.parse(line) as { url?: unknown }).url;
      if (typeof url === 'string') urls.add(url);
    } catch {
      // The server reports bad lines in the error file (with their line numbers); the batch still runs.
      if (i === 0 && lines.length === 1) return { name, text, lines: 0, endpoint: null, problem: 'The file is not JSONL: line 1 is not JSON.' };
    }
  }
  if (lines.length === 0) return { name, text, lines: 0, endpoint: null, problem: 'The file is empty.' };
  if (urls.size > 1)
    return { name, text, lines: lines.length, endpoint: null, problem: `The lines use several endpoints (${[...urls].join(', ')}); a batch has one.` };
  const url = [...urls][0];
  const endpoint = ENDPOINTS.find((e) => e === url) ?? null;
  return { name, text, lines: lines.length, endpoint, problem: endpoint ? null : `Unknown endpoint '${url ?? '(none)'}'.` };
}

/** Counts as the SDK's `Batch` has them. */
interface Progress {
  in_progress_at?: number | null;
  request_counts?: { completed: number; failed: number; total: number } | null;
}

/** Seconds left at the rate seen since the batch started, or null before there is a rate. */
export function etaSec(b: Progress, nowSec: number): number | null {
  const c = b.request_counts;
  const done = (c?.completed ?? 0) + (c?.failed ?? 0);
  const total = c?.total ?? 0;
  if (!b.in_progress_at || done === 0 || total === 0) return null;
  const rate = done / Math.max(1, nowSec - b.in_progress_at);
  return (total - done) / rate;
}
