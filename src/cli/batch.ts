import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { Command } from 'commander';
import type { Config } from '../config/index.js';
import { configFromProgram, reportFailure } from './main.js';

/**
 * `parley batch submit|status|list|cancel|results`: a client of a running Parley's /v1/files and
 * /v1/batches (any OpenAI-compatible server works). `submit --wait` shows a progress bar
 * (lines done / total, ETA) and exits 0 only when the batch completed.
 */

interface Connection {
  url: string;
  key?: string;
  /** The flags to repeat in a hint (`--url …` when the user gave one), so a suggested command works as printed. */
  flags: string;
}

interface WireBatch {
  id: string;
  status: string;
  endpoint: string;
  request_counts?: { total: number; completed: number; failed: number };
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { data: Array<{ code: string; message: string; line: number | null }> } | null;
  created_at: number;
  expires_at: number;
  metadata: Record<string, string> | null;
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** The server to talk to: --url, else this machine's configured host and port. */
function connection(config: Config, opts: { url?: string; key?: string }): Connection {
  const host =
    config.host === '0.0.0.0' || config.host === '::'
      ? '127.0.0.1'
      : config.host.includes(':') && !config.host.startsWith('[')
        ? `[${config.host}]`
        : config.host;
  // PARLEY_API_KEY is what `parley chat --url` reads too; else the server's own first key.
  const key = opts.key ?? process.env.PARLEY_API_KEY ?? config.apiKeys[0] ?? config.adminKey;
  const url = (opts.url ?? `http://${host}:${config.port}`).replace(/\/+$/, '');
  return { url, key, flags: opts.url ? ` --url ${url}` : '' };
}

async function call<T>(conn: Connection, method: string, route: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = conn.key ? { authorization: `Bearer ${conn.key}` } : {};
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(`${conn.url}${route}`, { method, headers, body: payload });
  } catch (e) {
    throw new Error(
      `cannot reach ${conn.url}: ${(e as Error).cause ? String((e as Error).cause) : (e as Error).message} (is \`parley serve\` running? pass --url)`,
    );
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      // not JSON: show the text
    }
    throw new Error(`${method} ${route} → ${res.status}: ${message}`);
  }
  return (route.endsWith('/content') ? res : await res.json()) as T;
}

/** The url of the first request in the file (the batch's endpoint unless --endpoint says otherwise). */
async function firstUrl(file: string): Promise<string | undefined> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const line of rl) {
      if (line.trim() === '') continue;
      try {
        const url = (JSON.parse(line) as { url?: unknown }).url;
        return typeof url === 'string' ? url : undefined;
      } catch {
        return undefined;
      }
    }
  } finally {
    rl.close();
  }
  return undefined;
}

function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function summary(b: WireBatch): string {
  const c = b.request_counts ?? { total: 0, completed: 0, failed: 0 };
  const lines = [
    `${b.id}  ${b.status}  ${b.endpoint}`,
    `  requests: ${c.completed + c.failed}/${c.total} done (${c.completed} completed, ${c.failed} failed)`,
    `  created ${new Date(b.created_at * 1000).toISOString()}, expires ${new Date(b.expires_at * 1000).toISOString()}`,
  ];
  if (b.output_file_id) lines.push(`  output file: ${b.output_file_id}`);
  if (b.error_file_id) lines.push(`  error file:  ${b.error_file_id}`);
  for (const e of b.errors?.data.slice(0, 10) ?? []) lines.push(`  error: ${e.message} (${e.code})`);
  if ((b.errors?.data.length ?? 0) > 10) lines.push(`  … ${b.errors!.data.length - 10} more errors`);
  if (b.metadata && Object.keys(b.metadata).length > 0) lines.push(`  metadata: ${JSON.stringify(b.metadata)}`);
  return lines.join('\n');
}

/** The subset of cli-progress used here (the package ships no types). */
interface SingleBar {
  start(total: number, value: number, payload?: Record<string, string>): void;
  update(value: number, payload?: Record<string, string>): void;
  setTotal(total: number): void;
  stop(): void;
}

/** Progress: a bar on a terminal, a line every few seconds otherwise. */
function progress(stderr: NodeJS.WriteStream) {
  const started = Date.now();
  let firstDone: { at: number; done: number } | undefined;
  let bar: SingleBar | undefined;
  let lastLine = 0;
  const eta = (done: number, total: number): string => {
    if (total === 0) return '?';
    if (done >= total) return '0s';
    if (!firstDone) return '?';
    const rate = (done - firstDone.done) / ((Date.now() - firstDone.at) / 1000);
    return rate > 0 ? formatDuration((total - done) / rate) : '?';
  };
  return {
    update(b: WireBatch) {
      const c = b.request_counts ?? { total: 0, completed: 0, failed: 0 };
      const done = c.completed + c.failed;
      if (!firstDone && b.status === 'in_progress') firstDone = { at: Date.now(), done };
      const payload = { status: b.status, etaH: eta(done, c.total), elapsed: formatDuration((Date.now() - started) / 1000) };
      if (stderr.isTTY) {
        if (!bar) {
          const cliProgress = createRequire(import.meta.url)('cli-progress') as {
            SingleBar: new (o: Record<string, unknown>, p?: unknown) => SingleBar;
            Presets: Record<string, unknown>;
          };
          bar = new cliProgress.SingleBar(
            { stream: stderr, format: '{bar} {value}/{total} lines | {status} | ETA {etaH} | {elapsed}', hideCursor: true, barsize: 30, fps: 4 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(Math.max(c.total, 1), done, payload);
        } else {
          bar.setTotal(Math.max(c.total, 1));
          bar.update(done, payload);
        }
      } else if (Date.now() - lastLine >= 2000 || TERMINAL.has(b.status)) {
        lastLine = Date.now();
        stderr.write(`${done}/${c.total} lines | ${b.status} | ETA ${payload.etaH} | ${payload.elapsed}\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

async function waitFor(conn: Connection, id: string, intervalMs: number): Promise<WireBatch> {
  const bar = progress(process.stderr);
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      const b = await call<WireBatch>(conn, 'GET', `/v1/batches/${id}`);
      bar.update(b);
      if (TERMINAL.has(b.status)) return b;
      if (interrupted) {
        process.stderr.write(`\nstopped waiting; the batch goes on. Check it with: parley batch status ${id}${conn.flags}\n`);
        return b;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

/** `parley batch …` */
export function batchCommand(program: Command): Command {
  const cmd = new Command('batch').description('submit and follow batches on a running server (/v1/files + /v1/batches)');
  const common = (c: Command) =>
    c
      .option('--url <url>', 'the server (default: http://<host>:<port> from the config)')
      .option('--key <key>', 'API key (default: PARLEY_API_KEY, else the first of PARLEY_API_KEYS, else PARLEY_ADMIN_KEY)');
  const conn = (opts: { url?: string; key?: string }) => connection(configFromProgram(program), opts);

  cmd.addCommand(
    common(new Command('submit'))
      .description('upload a JSONL file of requests and start a batch')
      .argument('<file>', 'JSONL: one {"custom_id","method":"POST","url","body"} per line')
      .option('--endpoint <url>', 'endpoint of every line (default: the url of the first line)')
      .option('--window <window>', 'completion window, e.g. 24h (Parley also takes 30m, 2h, 3d…)', '24h')
      .option('--metadata <key=value...>', 'metadata pairs')
      .option('--wait', 'follow it with a progress bar until it ends')
      .option('--interval <ms>', 'poll period with --wait', '1000')
      .action(
        async (
          file: string,
          opts: { url?: string; key?: string; endpoint?: string; window: string; metadata?: string[]; wait?: boolean; interval: string },
        ) => {
          try {
            const c = conn(opts);
            if (!fs.existsSync(file)) throw new Error(`no such file: ${file}`);
            const endpoint = opts.endpoint ?? (await firstUrl(file));
            if (!endpoint)
              throw new Error(
                `cannot tell the endpoint from the first line of ${file}: pass --endpoint /v1/chat/completions (or /v1/audio/speech, /v1/audio/transcriptions)`,
              );
            const metadata = opts.metadata ? Object.fromEntries(opts.metadata.map((kv) => [kv.split('=')[0]!, kv.split('=').slice(1).join('=')])) : undefined;
            const form = new FormData();
            form.append('purpose', 'batch');
            form.append('file', await fs.openAsBlob(file), path.basename(file));
            const uploaded = await call<{ id: string; bytes: number }>(c, 'POST', '/v1/files', form);
            process.stderr.write(`uploaded ${file} as ${uploaded.id} (${uploaded.bytes} bytes)\n`);
            const batch = await call<WireBatch>(c, 'POST', '/v1/batches', { input_file_id: uploaded.id, endpoint, completion_window: opts.window, metadata });
            process.stdout.write(`${batch.id}\n`);
            if (!opts.wait) return;
            const final = await waitFor(c, batch.id, Math.max(100, Number(opts.interval) || 1000));
            process.stderr.write(`${summary(final)}\n`);
            if (final.status === 'completed') process.stderr.write(`results: parley batch results ${final.id}${c.flags} > results.jsonl\n`);
            else process.exitCode = 1;
          } catch (e) {
            reportFailure(e);
          }
        },
      ),
  );
  cmd.addCommand(
    common(new Command('status'))
      .description("show a batch's status and counts")
      .argument('<id>', 'batch id')
      .option('--wait', 'follow it with a progress bar until it ends')
      .option('--json', 'print the batch object as JSON')
      .action(async (id: string, opts: { url?: string; key?: string; wait?: boolean; json?: boolean }) => {
        try {
          const c = conn(opts);
          const b = opts.wait ? await waitFor(c, id, 1000) : await call<WireBatch>(c, 'GET', `/v1/batches/${id}`);
          process.stdout.write(opts.json ? `${JSON.stringify(b, null, 2)}\n` : `${summary(b)}\n`);
        } catch (e) {
          reportFailure(e);
        }
      }),
  );
  cmd.addCommand(
    common(new Command('list'))
      .description('list batches, newest first')
      .option('--limit <n>', 'how many', '20')
      .action(async (opts: { url?: string; key?: string; limit: string }) => {
        try {
          const page = await call<{ data: WireBatch[] }>(conn(opts), 'GET', `/v1/batches?limit=${encodeURIComponent(opts.limit)}`);
          for (const b of page.data) {
            const c = b.request_counts ?? { total: 0, completed: 0, failed: 0 };
            process.stdout.write(
              `${b.id}  ${b.status.padEnd(11)} ${String(c.completed + c.failed).padStart(6)}/${c.total}  ${new Date(b.created_at * 1000).toISOString()}  ${b.endpoint}\n`,
            );
          }
          if (page.data.length === 0) process.stderr.write('no batches\n');
        } catch (e) {
          reportFailure(e);
        }
      }),
  );
  cmd.addCommand(
    common(new Command('cancel'))
      .description('cancel a batch: no new line starts; finished lines are kept')
      .argument('<id>', 'batch id')
      .action(async (id: string, opts: { url?: string; key?: string }) => {
        try {
          const b = await call<WireBatch>(conn(opts), 'POST', `/v1/batches/${id}/cancel`);
          process.stdout.write(`${summary(b)}\n`);
        } catch (e) {
          reportFailure(e);
        }
      }),
  );
  cmd.addCommand(
    common(new Command('results'))
      .description("print a finished batch's output file (JSONL), or its error file with --errors")
      .argument('<id>', 'batch id')
      .option('--errors', 'the error file instead')
      .option('-o, --output <file>', 'write to a file instead of stdout')
      .action(async (id: string, opts: { url?: string; key?: string; errors?: boolean; output?: string }) => {
        try {
          const c = conn(opts);
          const b = await call<WireBatch>(c, 'GET', `/v1/batches/${id}`);
          const fileId = opts.errors ? b.error_file_id : b.output_file_id;
          if (!fileId) {
            throw new Error(
              TERMINAL.has(b.status)
                ? `batch ${id} (${b.status}) has no ${opts.errors ? 'error' : 'output'} file`
                : `batch ${id} is ${b.status}: its files are written when it ends (parley batch status ${id}${c.flags} --wait)`,
            );
          }
          const res = await call<Response>(c, 'GET', `/v1/files/${fileId}/content`);
          const out = opts.output ? fs.createWriteStream(opts.output) : process.stdout;
          const reader = res.body!.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
          }
          if (opts.output) await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())));
        } catch (e) {
          reportFailure(e);
        }
      }),
  );
  return cmd;
}
