/**
 * `parley keys create | list | show | revoke`: API keys from the command line, on this machine's
 * data folder (and mirrored into Redis with PARLEY_QUEUE=redis://…, as the server does). A running
 * server sees a new or revoked key at once: it reads the key's row on every request.
 */
import { Command } from 'commander';
import type { Config } from '../config/index.js';
import { readKeyCreateParams, wireKey } from '../http/keys-wire.js';
import type { KeyRegistry } from '../keys/registry.js';
import { openKeyLimits } from '../runtime/host.js';
import { openStore } from '../store/db.js';
import type { KeyRecord } from '../store/keys.js';
import { reportFailure } from './main.js';

/** Where the commands write; defaults to the process streams. */
export interface KeysCommandIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Runs `fn` with the registry of the configured data folder, closing everything after. */
async function withRegistry<T>(config: Config, fn: (keys: KeyRegistry) => Promise<T> | T): Promise<T> {
  const store = openStore({ dataDir: config.dataDir });
  try {
    const limits = await openKeyLimits(config, store);
    try {
      return await fn(limits.registry);
    } finally {
      limits.close();
    }
  } finally {
    store.close();
  }
}

/** A number flag as the wire has it: a number when it is one, else the text (so the error names it). */
function numberFlag(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

function limitsText(r: KeyRecord): string {
  const parts: string[] = [];
  if (r.rpmLimit !== null) parts.push(`rpm ${r.rpmLimit}`);
  if (r.tpmLimit !== null) parts.push(`tpm ${r.tpmLimit}`);
  if (r.maxParallelRequests !== null) parts.push(`parallel ${r.maxParallelRequests}`);
  if (r.maxBudgetUsd !== null) parts.push(`budget $${r.maxBudgetUsd}${r.budgetDurationSec !== null ? `/${wireKey(r, 'active').budget_duration}` : ''}`);
  return parts.length > 0 ? parts.join(', ') : 'unlimited';
}

function isoOrDash(sec: number | null): string {
  return sec === null ? '-' : new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The `keys` command with its subcommands. `getConfig` runs only when a subcommand does. */
export function keysCommand(getConfig: () => Config, io: KeysCommandIo = {}): Command {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const keys = new Command('keys')
    .summary('create, list, show and revoke API keys')
    .description(
      'API keys with limits (requests and tokens per minute, parallel requests, a budget, allowed models, an expiry). ' +
        'Only a hash of each key is stored: the key is printed once, by create. Works on the data folder (--data-dir); ' +
        'a running server sees changes at once.',
    )
    .configureOutput({ writeOut: (s) => void stdout.write(s), writeErr: (s) => void stderr.write(s) })
    .addHelpText(
      'after',
      '\nExamples:\n  parley keys create --alias team-a --rpm 60 --tpm 100000 --budget 5 --budget-duration 30d\n' +
        '  parley keys list\n  parley keys show team-a\n  parley keys revoke team-a\n\n' +
        'Over the HTTP API (admin key): POST/GET/DELETE /v1/parley/keys (see README.md).',
    );

  keys
    .command('create')
    .description('Create a key and print it (once: only its hash is kept)')
    .option('--alias <name>', 'a name for people, unique among live keys')
    .option('--models <list>', 'comma-separated model names the key may use (default: all)')
    .option('--rpm <n>', 'requests per minute (PARLEY_RATE_WINDOW_SEC sets the window)')
    .option('--tpm <n>', 'tokens per minute, audio as billed (10/s heard, 20/s spoken)')
    .option('--parallel <n>', 'requests in progress at once')
    .option('--budget <usd>', 'most the key may spend, USD at OpenAI list price')
    .option('--budget-duration <d>', 'budget period, e.g. 30d, 1h (default: the key’s life)')
    .option('--duration <d>', 'how long the key lives, e.g. 90d (default: until revoked)')
    .option('--metadata <k=v...>', 'string pairs kept with the key', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'print the key object as JSON')
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      try {
        const metadata = Array.isArray(o.metadata)
          ? Object.fromEntries(
              o.metadata.map((pair) => {
                const i = pair.indexOf('=');
                if (i <= 0) throw new Error(`--metadata expects key=value, got '${pair}'`);
                return [pair.slice(0, i), pair.slice(i + 1)];
              }),
            )
          : undefined;
        const params = readKeyCreateParams({
          alias: o.alias,
          models: typeof o.models === 'string' ? o.models.split(',').map((m) => m.trim()) : undefined,
          rpm_limit: numberFlag(o.rpm as string | undefined),
          tpm_limit: numberFlag(o.tpm as string | undefined),
          max_parallel_requests: numberFlag(o.parallel as string | undefined),
          max_budget_usd: numberFlag(o.budget as string | undefined),
          budget_duration: o.budgetDuration,
          duration: o.duration,
          metadata,
        });
        await withRegistry(getConfig(), async (registry) => {
          const { key, record } = await registry.create(params);
          if (o.json) stdout.write(`${JSON.stringify(wireKey(record, registry.status(record), { key }), null, 2)}\n`);
          else {
            stdout.write(`${key}\n`);
            stderr.write(`Created ${record.id}${record.alias ? ` (${record.alias})` : ''}: ${limitsText(record)}. The key is shown only now: store it.\n`);
          }
        });
      } catch (error) {
        reportFailure(error);
      }
    });

  keys
    .command('list')
    .alias('ls')
    .description('List the keys (never the keys themselves)')
    .option('--all', 'include revoked keys')
    .option('--json', 'print JSON')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      try {
        await withRegistry(getConfig(), (registry) => {
          const records = registry.list({ includeRevoked: o.all === true });
          if (o.json) {
            stdout.write(`${JSON.stringify({ object: 'list', data: records.map((r) => wireKey(r, registry.status(r))) }, null, 2)}\n`);
            return;
          }
          if (records.length === 0) {
            stderr.write('No keys. Create one with: parley keys create --alias NAME\n');
            return;
          }
          const rows = records.map((r) => [r.id, r.alias ?? '-', registry.status(r), limitsText(r), r.models?.join(',') ?? 'all', isoOrDash(r.expiresAt)]);
          const head = ['ID', 'ALIAS', 'STATUS', 'LIMITS', 'MODELS', 'EXPIRES'];
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
          for (const row of [head, ...rows])
            stdout.write(
              `${row
                .map((c, i) => c.padEnd(widths[i]!))
                .join('  ')
                .trimEnd()}\n`,
            );
        });
      } catch (error) {
        reportFailure(error);
      }
    });

  keys
    .command('show')
    .description('Show one key (by id or alias) with its spend in the current budget period')
    .argument('<key>', 'key id (key_…) or alias')
    .option('--json', 'print JSON')
    .action(async (idOrAlias: string, o: { json?: boolean }) => {
      try {
        await withRegistry(getConfig(), (registry) => {
          const record = registry.get(idOrAlias);
          const budget = registry.budget(record);
          const wire = wireKey(record, registry.status(record), { budget });
          if (o.json) {
            stdout.write(`${JSON.stringify(wire, null, 2)}\n`);
            return;
          }
          const lines: Array<[string, string]> = [
            ['id', wire.id],
            ['alias', wire.alias ?? '-'],
            ['status', wire.status],
            ['created', isoOrDash(wire.created_at)],
            ['expires', isoOrDash(wire.expires_at)],
            ['revoked', isoOrDash(wire.revoked_at)],
            ['models', wire.models?.join(', ') ?? 'all'],
            ['limits', limitsText(record)],
            ['spend', `$${budget.spendUsd.toFixed(6)} since ${isoOrDash(budget.periodStart)}${budget.resetAt ? ` (resets ${isoOrDash(budget.resetAt)})` : ''}`],
            ['metadata', wire.metadata ? JSON.stringify(wire.metadata) : '-'],
          ];
          for (const [k, v] of lines) stdout.write(`${k.padEnd(9)} ${v}\n`);
        });
      } catch (error) {
        reportFailure(error);
      }
    });

  keys
    .command('revoke')
    .description('Revoke a key (by id or alias) at once')
    .argument('<key>', 'key id (key_…) or alias')
    .action(async (idOrAlias: string) => {
      try {
        await withRegistry(getConfig(), async (registry) => {
          const record = await registry.revoke(idOrAlias);
          stdout.write(`revoked ${record.id}${record.alias ? ` (${record.alias})` : ''}\n`);
        });
      } catch (error) {
        reportFailure(error);
      }
    });
  return keys;
}
