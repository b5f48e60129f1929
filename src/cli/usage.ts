import { Command } from 'commander';
import type { Config } from '../config/index.js';
import { openStore } from '../store/db.js';
import { apiKeyIdOf, USAGE_KINDS, type UsageGroup, type UsageKind } from '../store/usage.js';
import { configFromProgram, reportFailure } from './main.js';

const BUCKETS = { '1m': 60, '1h': 3600, '1d': 86400 } as const;
const GROUPS = ['key', 'model', 'kind', 'batch'] as const;
type Group = (typeof GROUPS)[number];

/**
 * A time: unix seconds, an ISO date (`2026-12-01`, `2026-12-01T10:00Z`), `now`, or an age before
 * `now` (`30m`, `24h`, `7d`).
 */
export function parseTime(raw: string, now: number, flag: string): number {
  if (raw === 'now') return now;
  if (/^\d+$/.test(raw)) return Number(raw);
  const age = /^(\d+(?:\.\d+)?)([smhd])$/.exec(raw);
  if (age) return Math.floor(now - Number(age[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[age[2] as 's' | 'm' | 'h' | 'd']);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new Error(`${flag}: expected unix seconds, an ISO date (2026-12-01) or an age (24h, 7d), got '${raw}'`);
  return Math.floor(ms / 1000);
}

/** Options of `parley usage`, parsed. */
export interface UsageTableOptions {
  since: number;
  until: number;
  groupBy: Group[];
  /** Bucket width in seconds; undefined = the whole period in one row per group. */
  bucketSec?: number;
}

function money(x: number): string {
  return x === 0 ? '0' : x < 0.01 ? x.toExponential(2) : x.toFixed(4);
}

/** The rows of the table, as printed: a header and one row per bucket and group. */
export function usageTable(config: Config, o: UsageTableOptions): string[][] {
  const store = openStore({ dataDir: config.dataDir });
  let groups: UsageGroup[];
  try {
    groups = store.usage.buckets({
      start: o.since,
      end: o.until,
      widthSec: o.bucketSec ?? Math.max(1, o.until - o.since),
      kinds: Object.keys(USAGE_KINDS) as UsageKind[],
      groupBy: { owner: o.groupBy.includes('key'), model: o.groupBy.includes('model'), kind: o.groupBy.includes('kind'), batch: o.groupBy.includes('batch') },
      coreHourUsd: config.usage.coreHourUsd,
    });
  } finally {
    store.close();
  }
  const header = [
    ...(o.bucketSec ? ['from (UTC)'] : []),
    ...o.groupBy,
    'requests',
    'tokens in',
    'tokens out',
    'audio in (min)',
    'audio out (min)',
    'characters',
    'engine (core-s)',
    'OpenAI list $',
    'Parley $',
  ];
  const rows = groups.map((g) => [
    ...(o.bucketSec ? [new Date(g.start * 1000).toISOString().slice(0, 16).replace('T', ' ')] : []),
    ...o.groupBy.map((f) =>
      f === 'key' ? (apiKeyIdOf(g.owner ?? null) ?? '(no key)') : f === 'model' ? (g.model ?? '') : f === 'kind' ? (g.kind ?? '') : String(g.batch),
    ),
    String(g.totals.requests),
    String(g.totals.promptTextTokens + g.totals.promptAudioTokens),
    String(g.totals.completionTextTokens + g.totals.completionAudioTokens),
    (g.totals.audioInSec / 60).toFixed(2),
    (g.totals.audioOutSec / 60).toFixed(2),
    String(g.totals.characters),
    g.totals.engineSec.toFixed(1),
    money(g.totals.openaiCostUsd),
    money(g.totals.parleyCostUsd),
  ]);
  return [header, ...rows];
}

/** Pads columns: text left, numbers right. */
export function formatTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const numeric = /^[-\d.e+]+$/;
  return `${rows
    .map((r, n) =>
      r
        .map((cell, i) => (n > 0 && numeric.test(cell) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/**
 * `parley usage`: the usage ledger of this machine's data folder as a table — requests, tokens,
 * audio minutes, characters, engine core-seconds, and the cost at OpenAI's list price against
 * Parley's own (core-seconds × `usage.coreHourUsd`) — for a period, grouped as asked.
 */
export function usageCommand(program: Command): Command {
  return new Command('usage')
    .description("usage and costs for a period from this machine's ledger (OpenAI's list price vs Parley's own cost)")
    .option('--since <time>', 'start: unix seconds, ISO date, or an age such as 24h, 7d', '30d')
    .option('--until <time>', 'end (exclusive): same forms', 'now')
    .option('--group-by <fields>', `comma-separated: ${GROUPS.join(', ')}`, 'kind')
    .option('--bucket <width>', `one row per ${Object.keys(BUCKETS).join(' | ')} (default: the whole period)`)
    .option('--json', 'print the rows as JSON')
    .addHelpText(
      'after',
      '\nReads the ledger in the data folder (--data-dir). Batch lines run on remote workers are in their own ledgers.\nExample: parley usage --since 7d --group-by key,model --bucket 1d',
    )
    .action((opts: { since: string; until: string; groupBy: string; bucket?: string; json?: boolean }) => {
      try {
        const config = configFromProgram(program);
        const now = Math.floor(Date.now() / 1000);
        const since = parseTime(opts.since, now, '--since');
        const until = parseTime(opts.until, now, '--until') + (opts.until === 'now' ? 1 : 0);
        if (until <= since) throw new Error('--until must be after --since');
        const groupBy = opts.groupBy
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean);
        for (const g of groupBy) if (!GROUPS.includes(g as Group)) throw new Error(`--group-by: unknown field '${g}' (use ${GROUPS.join(', ')})`);
        if (opts.bucket !== undefined && !(opts.bucket in BUCKETS))
          throw new Error(`--bucket: expected ${Object.keys(BUCKETS).join(', ')}, got '${opts.bucket}'`);
        const rows = usageTable(config, {
          since,
          until,
          groupBy: groupBy as Group[],
          bucketSec: opts.bucket ? BUCKETS[opts.bucket as keyof typeof BUCKETS] : undefined,
        });
        if (opts.json) {
          const [header, ...body] = rows;
          process.stdout.write(
            `${JSON.stringify(
              body.map((r) => Object.fromEntries(r.map((c, i) => [header![i]!, c]))),
              null,
              1,
            )}\n`,
          );
        } else if (rows.length === 1) {
          process.stdout.write(`No usage between ${new Date(since * 1000).toISOString()} and ${new Date(until * 1000).toISOString()}.\n`);
        } else {
          process.stdout.write(formatTable(rows));
        }
      } catch (error) {
        reportFailure(error);
      }
    });
}
