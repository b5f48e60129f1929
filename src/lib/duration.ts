/**
 * Durations as operators and OpenAI write them: `30s`, `5m`, `1h`, `30d` in (batch completion
 * windows, key budgets and expiries), and OpenAI's `x-ratelimit-reset-*` form out (`12ms`, `1.5s`,
 * `6m0s`).
 */

const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds of `<n>s|m|h|d` (n a whole number of up to 7 digits); undefined for anything else. */
export function parseDurationSec(value: string): number | undefined {
  const m = /^(\d{1,7})([smhd])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_SEC[m[2]!]!;
}

/**
 * A wait in OpenAI's reset-header form: under a second in whole ms (`640ms`), under a minute in
 * seconds with up to three decimals (`1.5s`), then minutes and seconds (`6m0s`), hours (`1h2m3s`).
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  if (total < 60_000) return `${Number((total / 1000).toFixed(3))}s`;
  const sec = Math.ceil(total / 1000);
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}

/** `30d`, `12h`, `5m` or `45s`: the largest unit that divides `sec` exactly (the inverse of `parseDurationSec`). */
export function formatDurationSec(sec: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (sec >= size && sec % size === 0) return `${sec / size}${unit}`;
  }
  return `${sec}s`;
}
