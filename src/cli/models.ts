/**
 * `parley models list | pull NAME | rm NAME`: the model cache from the command line.
 * Status and progress go to stderr; results (the table, JSON, the installed path) to stdout, so
 * `MODEL=$(parley models pull whisper-base.en)` works.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { ApiError } from '../errors.js';
import { recommendedModels, thisMachine } from '../runtime/recommended.js';
import { ModelCache, type ModelCacheOptions, type ModelStatus } from '../store/model-cache/cache.js';
import { type CatalogueEntry, entrySize } from '../store/model-cache/catalogue.js';
import { pullOnServer } from './models-remote.js';

/** What the models commands need from the config. */
export interface ModelsCommandOptions {
  /** The model cache folder. */
  modelsDir: string;
  /** PARLEY_OFFLINE: never download. */
  offline: boolean;
  /** PARLEY_MODELS_MIRROR: base URL replacing the catalogue hosts. */
  mirror?: string;
  /** Catalogue to use instead of the built-in one. */
  catalogue?: readonly CatalogueEntry[];
  /** Download tuning (timeouts, retries). */
  download?: ModelCacheOptions['download'];
}

/** Where the commands write; defaults to the process streams. */
export interface ModelsCommandIo {
  /** Results. */
  stdout?: NodeJS.WritableStream;
  /** Messages and progress; a TTY gets a live progress bar, anything else a line per 10%. */
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The `models` command with its subcommands. `getOptions` runs only when a subcommand does. */
export function modelsCommand(getOptions: () => Promise<ModelsCommandOptions>, io: ModelsCommandIo = {}): Command {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const openCache = async (): Promise<ModelCache> => {
    const o = await getOptions();
    return new ModelCache(o.modelsDir, { offline: o.offline, baseUrl: o.mirror, catalogue: o.catalogue, download: o.download });
  };

  const models = new Command('models')
    .summary('list, download and remove models')
    .description(
      'Manage the model cache: the catalogue of default models (Kokoro TTS, whisper.cpp, Qwen GGUF), ' +
        'what is installed, downloads (resumable, checksum-verified) and removal.',
    )
    .configureOutput({ writeOut: (s) => void stdout.write(s), writeErr: (s) => void stderr.write(s) })
    .addHelpText(
      'after',
      '\nExamples:\n  parley models list\n  parley models pull whisper-base.en\n  parley models rm whisper-base.en\n\n' +
        'Environment: PARLEY_OFFLINE=1 refuses downloads; PARLEY_MODELS_MIRROR=URL downloads from a mirror.',
    );

  models
    .command('list')
    .alias('ls')
    .description('List the catalogue with what is installed, plus anything else found in the cache folder')
    .option('--json', 'print the list as JSON (one object per model, with its files)')
    .action(async (flags: { json?: boolean }) =>
      run(stderr, async () => {
        const cache = await openCache();
        const rows = await cache.list();
        if (flags.json) {
          stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        stdout.write(renderTable(rows));
        stdout.write(`\nModels folder: ${cache.dir}\n`);
      }),
    );

  models
    .command('pull')
    .argument('<name>', 'a model name from `parley models list`, or `recommended`: the set for this machine (by RAM and CPU)')
    .description('Download a model into the cache (resumes an interrupted download, verifies sha256)')
    .option('--url <url>', 'pull on a running server instead (its model admin endpoint), e.g. http://127.0.0.1:8000')
    .option('--key <key>', 'admin API key for --url (default: PARLEY_API_KEY)')
    .addHelpText(
      'after',
      '\nPrints the installed path on stdout (nothing with --url: the model is on the server). Ctrl-C stops; pulling again resumes where it stopped.\n' +
        '`parley models pull recommended` fetches what this machine should run (see `parley doctor`): SenseVoice + Kokoro + a Qwen2.5 GGUF with ≥ 2 GiB RAM.',
    )
    .action(async (name: string, flags: { url?: string; key?: string }) =>
      run(stderr, async () => {
        const names = name === 'recommended' ? await recommended() : [name];
        for (const one of names) {
          if (flags.url !== undefined) await pullRemote(one, flags.url, flags.key ?? process.env.PARLEY_API_KEY, stderr);
          else stdout.write(`${await pullLocal(await openCache(), one)}\n`);
        }
      }),
    );

  /** `pull recommended`: the set for this machine's RAM and CPU, said before it is fetched. */
  const recommended = async (): Promise<string[]> => {
    const set = recommendedModels(thisMachine(), await openCache());
    const total = set.reduce((sum, r) => sum + (r.diskBytes ?? 0), 0);
    stderr.write(`Recommended for this machine (${formatBytes(total)} to download):\n`);
    for (const r of set) stderr.write(`  ${r.model} (${r.capability}, ${r.diskBytes === null ? 'size unknown' : formatBytes(r.diskBytes)}): ${r.why}\n`);
    return set.map((r) => r.model);
  };

  /** Pulls `name` into the cache with a progress bar; resolves with its installed path. */
  const pullLocal = async (cache: ModelCache, name: string): Promise<string> => {
    const entry = cache.entries().find((e) => e.name === name);
    const size = entry ? entrySize(entry) : null;
    if (entry) {
      stderr.write(`Pulling ${name} (${size === null ? 'size unknown' : formatBytes(size)}, ${plural(entry.files.length, 'file')}) into ${cache.dir}\n`);
    }
    const reporter = stderr.isTTY ? ttyReporter(stderr) : lineReporter(stderr, name);
    const abort = new AbortController();
    const onSigint = (): void => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await cache.pull(name, { signal: abort.signal, onProgress: reporter.update });
      reporter.stop();
      const fetched =
        result.downloaded.length > 0 ? `downloaded ${plural(result.downloaded.length, 'file')} (${formatBytes(result.transferred)})` : 'nothing to download';
      const kept = result.skipped.length > 0 ? `, ${result.skipped.length} already present and verified` : '';
      stderr.write(`${name} is ready: ${fetched}${kept}.\n`);
      return result.path;
    } catch (err) {
      reporter.stop();
      if (err instanceof ApiError && err.code === 'request_cancelled') {
        throw new ApiError({
          status: 499,
          type: 'invalid_request_error',
          code: 'request_cancelled',
          message: `Interrupted. What was downloaded is kept: run \`parley models pull ${name}\` again to resume.`,
        });
      }
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
  };

  models
    .command('rm')
    .alias('remove')
    .argument('<name>', 'a model name from `parley models list`')
    .description('Delete a model from the cache')
    .action(async (name: string) =>
      run(stderr, async () => {
        const cache = await openCache();
        const { freed } = await cache.remove(name);
        stdout.write(freed > 0 ? `Removed ${name} (${formatBytes(freed)} freed).\n` : `${name} was not installed: removed its empty folder.\n`);
      }),
    );

  return models;
}

/** `models pull NAME --url`: the server downloads, this shows its progress (see models-remote.ts). */
async function pullRemote(name: string, url: string, key: string | undefined, stderr: NodeJS.WritableStream & { isTTY?: boolean }): Promise<void> {
  stderr.write(`Pulling ${name} on ${url}\n`);
  const reporter = stderr.isTTY ? ttyReporter(stderr) : lineReporter(stderr, name);
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const result = await pullOnServer({ url, key, name, signal: abort.signal, onProgress: reporter.update });
    reporter.stop();
    const fetched =
      result.downloaded.length > 0 ? `downloaded ${plural(result.downloaded.length, 'file')} (${formatBytes(result.transferred)})` : 'nothing to download';
    const kept = result.skipped.length > 0 ? `, ${result.skipped.length} already present and verified` : '';
    stderr.write(`${name} is ready on ${url}: ${fetched}${kept}.\n`);
  } finally {
    reporter.stop();
    process.off('SIGINT', onSigint);
  }
}

/** Run an action: a failure prints its message (never a stack) and sets exit code 1. */
async function run(stderr: NodeJS.WritableStream, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    stderr.write(`parley: ${message}\n`);
    process.exitCode = 1;
  }
}

function renderTable(rows: ModelStatus[]): string {
  const header = ['NAME', 'KIND', 'SIZE', 'INSTALLED'];
  const body = rows.map((r) => [r.name, r.kind ?? '-', formatBytes(r.installed || r.size === null ? r.sizeOnDisk : r.size), installedLabel(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`;
  return [header, ...body].map(line).join('');
}

function installedLabel(r: ModelStatus): string {
  if (!r.catalogued) return 'yes (not in catalogue)';
  if (r.installed) return 'yes';
  if (r.partial && r.size) return `partial (${Math.min(99, Math.floor((r.sizeOnDisk / r.size) * 100))}%)`;
  return r.partial ? 'partial' : 'no';
}

interface Reporter {
  update: (done: number, total: number | null, file: string) => void;
  stop: () => void;
}

/** Speed and ETA over the bytes seen by this reporter (resumed/verified bytes do not count). */
function meter(): (done: number, total: number | null) => { speed: string; eta: string } {
  const started = Date.now();
  let first: number | null = null;
  return (done, total) => {
    first ??= done;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0.25 ? (done - first) / seconds : 0;
    const left = total !== null && rate > 0 ? Math.max(0, (total - done) / rate) : null;
    return { speed: rate > 0 ? `${formatBytes(rate)}/s` : '-', eta: left === null ? '-' : formatDuration(left) };
  };
}

/** A line per 10% (or per file when the total is unknown): for logs and pipes. */
function lineReporter(stderr: NodeJS.WritableStream, name: string): Reporter {
  const measure = meter();
  let lastStep = 0; // no "0%" line: the first line says how far a resumed download already is
  let lastFile = '';
  return {
    update: (done, total, file) => {
      const { speed, eta } = measure(done, total);
      if (total !== null && total > 0) {
        const step = Math.floor((done / total) * 10);
        if (step === lastStep) return;
        lastStep = step;
        stderr.write(`${name}: ${step * 10}% (${formatBytes(done)} of ${formatBytes(total)}, ${speed}, ETA ${eta})\n`);
      } else if (file !== lastFile) {
        lastFile = file;
        stderr.write(`${name}: ${file} (${formatBytes(done)} so far, ${speed})\n`);
      }
    },
    stop: () => {},
  };
}

/** The subset of cli-progress used here (the package ships no types). */
interface SingleBar {
  start(total: number, value: number, payload?: Record<string, string>): void;
  update(value: number, payload?: Record<string, string>): void;
  setTotal(total: number): void;
  stop(): void;
}
interface CliProgress {
  SingleBar: new (options: Record<string, unknown>, preset?: unknown) => SingleBar;
  Presets: Record<string, unknown>;
}

/** A live bar: bytes/total, speed, ETA and the current file. */
function ttyReporter(stderr: NodeJS.WritableStream): Reporter {
  const cliProgress = createRequire(import.meta.url)('cli-progress') as CliProgress;
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format: '{bar} {percentage}% | {doneH} / {totalH} | {speed} | ETA {etaH} | {file}',
      hideCursor: true,
      barsize: 30,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  const measure = meter();
  let started = false;
  let stopped = false;
  return {
    update: (done, total, file) => {
      if (stopped) return;
      const { speed, eta } = measure(done, total);
      const payload = { doneH: formatBytes(done), totalH: total === null ? '?' : formatBytes(total), speed, etaH: eta, file };
      // An unknown total still gets a bar: it grows with the bytes seen.
      const shownTotal = total ?? Math.max(done, 1);
      if (!started) {
        bar.start(shownTotal, done, payload);
        started = true;
      } else {
        if (total === null) bar.setTotal(shownTotal);
        bar.update(done, payload);
      }
    },
    stop: () => {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

/** Decimal units, as download sizes are usually quoted: 92.4 MB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
