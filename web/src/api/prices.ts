/**
 * OpenAI's list prices for gpt-4o-mini-audio-preview, USD per 1M tokens, to price one chat turn
 * from the `usage` it returns. The same table as the server's (src/store/usage.ts
 * `OPENAI_PRICES_USD_PER_1M`); test/web-units.test.ts fails when the two differ.
 */
export const OPENAI_PRICES_USD_PER_1M = {
  textIn: 0.15,
  cachedTextIn: 0.075,
  textOut: 0.6,
  audioIn: 10.0,
  audioOut: 20.0,
} as const;

/** The parts of a chat completion's `usage` that are priced. */
export interface ChatUsageWire {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { audio_tokens?: number; cached_tokens?: number; text_tokens?: number } | null;
  completion_tokens_details?: { audio_tokens?: number; text_tokens?: number } | null;
}

/** What one request cost at OpenAI's list price, USD. */
export function openaiCostOfUsage(usage: ChatUsageWire): number {
  const promptAudio = usage.prompt_tokens_details?.audio_tokens ?? 0;
  const promptText = usage.prompt_tokens_details?.text_tokens ?? usage.prompt_tokens - promptAudio;
  const cached = Math.min(usage.prompt_tokens_details?.cached_tokens ?? 0, promptText);
  const completionAudio = usage.completion_tokens_details?.audio_tokens ?? 0;
  const completionText = usage.completion_tokens_details?.text_tokens ?? usage.completion_tokens - completionAudio;
  const p = OPENAI_PRICES_USD_PER_1M;
  return (
    ((promptText - cached) * p.textIn + cached * p.cachedTextIn + completionText * p.textOut + promptAudio * p.audioIn + completionAudio * p.audioOut) /
    1_000_000
  );
}

/**
 * Parley's own cost of a request when the server reports one (issue 12 adds it: engine time ×
 * a $/core-hour); null until then. The one place that knows where it is on the wire.
 */
export function parleyCostOf(wire: unknown): number | null {
  if (!wire || typeof wire !== 'object') return null;
  const w = wire as Record<string, unknown>;
  for (const key of ['parley_cost_usd', 'cost_usd']) {
    const v = w[key];
    if (typeof v === 'number') return v;
    if (v && typeof v === 'object' && typeof (v as { total?: unknown }).total === 'number') return (v as { total: number }).total;
  }
  return null;
}

/** $1.23, $0.45, $0.0012: cents for sums, two significant digits for the tiny amounts one turn costs. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 0.1) return `$${usd.toFixed(2)}`;
  const digits = Math.min(10, 1 - Math.floor(Math.log10(usd)));
  return `$${usd.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '')}`;
}
