/**
 * The load suite's tools: a Parley server in a child process (`node --import tsx src/cli/main.ts
 * serve`, loopback only, its own temp data folder, the built-in small engines: flite, pocketsphinx,
 * a tiny random GGUF), a small keep-alive HTTP client (node:http, no dependency), latency
 * statistics, RSS and child-process sampling from /proc, and the server's JSON log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyGguf } from '../../test/fixtures/models/make-tiny-gguf.js';
import { freePort } from '../../test/helpers/redis.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SPEECH_FIXTURE = path.join(ROOT, 'test', 'fixtures', 'speech');

/** One sentence, the same for every speech figure (about 5 s of audio). */
export const SPEECH_TEXT = 'Parley turns text into speech on your own machine, with the voices you already know.';

/** A fresh temp folder. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The tiny random-weight GGUF (made once per run, in `dir`). */
export function tinyModel(dir: string): string {
  const file = path.join(dir, 'tiny.gguf');
  if (!fs.existsSync(file)) writeTinyGguf(file, { asciiOnly: true });
  return file;
}

/** One parsed line of the server's pino log. */
export interface LogLine {
  level: number;
  msg?: string;
  res?: { statusCode?: number };
  [k: string]: unknown;
}

export interface ServerProcess {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  pid: number;
  /** Every JSON line the server has logged so far. */
  log: LogLine[];
  /** stderr text (crash traces). */
  stderr(): string;
  /** Resolves with the exit code/signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  /** PARLEY_* settings on top of the suite's defaults. */
  env?: Record<string, string>;
  port?: number;
}

/** Starts `parley serve` in a child process and waits until /health answers 200. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PARLEY_DATA_DIR: options.dataDir,
    PARLEY_HOST: '127.0.0.1',
    PARLEY_PORT: String(port),
    PARLEY_LOG_LEVEL: 'info',
    PARLEY_OFFLINE: '1',
    PARLEY_ASR_ENGINE: 'pocketsphinx',
    ...options.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: LogLine[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        log.push(JSON.parse(line) as LogLine);
      } catch {
        log.push({ level: 30, msg: line });
      }
      nl = pending.indexOf('\n');
    }
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    err += c;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  let dead = false;
  void exited.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`the server exited while starting:\n${err.slice(-4000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become ready in 120 s:\n${err.slice(-4000)}`);
    }
    const status = await fetch(`${url}/health`)
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) break;
    await sleep(200);
  }
  return {
    url,
    port,
    dataDir: options.dataDir,
    child,
    pid: child.pid!,
    log,
    stderr: () => err,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resident set size of a process in MB (VmRSS), or NaN when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Live child processes of `pid`: `[pid, command name]`. */
export function childProcesses(pid: number): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (m && Number(m[3]) === pid && m[2] !== 'Z') out.push([Number(entry), m[1]!]);
    } catch {
      // ended while we looked
    }
  }
  return out;
}

/** Open file descriptors of a process. */
export function openFds(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** What the open fds of a process point at, grouped (`socket`, `anon_inode:[eventfd]`, a path), with counts. */
export function fdKinds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const k = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/:\[\d+\]$/, '');
        out[k] = (out[k] ?? 0) + 1;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // process gone
  }
  return out;
}

/** What one request needs. */
export interface RequestSpec {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Abort the request this many ms after sending it (a client that leaves). */
  abortAfterMs?: number;
  /** Keep the answer's body (as text) in the outcome. */
  keepBody?: boolean;
}

/** What came back. */
export interface Outcome {
  status: number;
  /** ms from send to the end of the body (or to the failure). */
  ms: number;
  bytes: number;
  retryAfter?: string;
  /** Error code of the body for non-2xx JSON answers. */
  code?: string;
  /** Transport failure (reset, refused) or 'aborted' when we left on purpose. */
  error?: string;
  /** The body, when the request asked to keep it. */
  text?: string;
}

/** A keep-alive agent for `sockets` connections at once. */
export function agent(sockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** Sends one request and reads the whole answer. */
export function send(base: string, spec: RequestSpec, via?: http.Agent): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const url = new URL(spec.path, base);
    const body = typeof spec.body === 'string' ? Buffer.from(spec.body) : spec.body;
    const headers: Record<string, string | number> = { ...spec.headers };
    if (body) headers['content-length'] = body.length;
    let done = false;
    const finish = (o: Omit<Outcome, 'ms'>) => {
      if (done) return;
      done = true;
      resolve({ ...o, ms: performance.now() - t0 });
    };
    const req = http.request(url, { method: spec.method ?? (body ? 'POST' : 'GET'), headers, agent: via });
    let timer: NodeJS.Timeout | undefined;
    if (spec.abortAfterMs !== undefined) {
      timer = setTimeout(() => {
        req.destroy();
        finish({ status: 0, bytes: 0, error: 'aborted' });
      }, spec.abortAfterMs);
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const isJson = String(res.headers['content-type'] ?? '').includes('json');
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (spec.keepBody || (isJson && (res.statusCode ?? 0) >= 300 && bytes < 65_536)) chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        let code: string | undefined;
        const text = spec.keepBody ? Buffer.concat(chunks).toString('utf8') : undefined;
        if (chunks.length > 0 && (res.statusCode ?? 0) >= 300) {
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code ?? undefined;
          } catch {
            code = 'unparsable';
          }
        }
        finish({ status: res.statusCode ?? 0, bytes, retryAfter: res.headers['retry-after'] as string | undefined, code, text });
      });
      res.on('error', (e) => finish({ status: res.statusCode ?? 0, bytes, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      finish({ status: 0, bytes: 0, error: (e as NodeJS.ErrnoException).code ?? e.message });
    });
    req.end(body);
  });
}

/** `concurrency` clients in a closed loop until `total` requests (or `maxMs`) are done. */
export async function closedLoop(
  base: string,
  make: (i: number) => RequestSpec,
  options: { concurrency: number; total: number; maxMs?: number; onOutcome?: (o: Outcome, i: number) => void },
): Promise<{ outcomes: Outcome[]; elapsedMs: number }> {
  const via = agent(options.concurrency);
  const outcomes: Outcome[] = [];
  let next = 0;
  const t0 = performance.now();
  const stopAt = options.maxMs === undefined ? Number.POSITIVE_INFINITY : t0 + options.maxMs;
  const worker = async () => {
    while (next < options.total && performance.now() < stopAt) {
      const i = next++;
      const o = await send(base, make(i), via);
      outcomes.push(o);
      options.onOutcome?.(o, i);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  via.destroy();
  return { outcomes, elapsedMs };
}

/**
 * Open loop: requests arrive at `ratePerSec` (evenly spaced) for `durationMs` whatever the server
 * does, up to `maxOpen` outstanding (a safety bound for this machine).
 */
export async function openLoop(
  base: string,
  make: (i: number) => RequestSpec,
  options: { ratePerSec: number; durationMs: number; maxOpen?: number },
): Promise<{ outcomes: Outcome[]; elapsedMs: number; skipped: number }> {
  const maxOpen = options.maxOpen ?? 256;
  const via = agent(maxOpen);
  const outcomes: Outcome[] = [];
  const running = new Set<Promise<void>>();
  const t0 = performance.now();
  const interval = 1000 / options.ratePerSec;
  let i = 0;
  let skipped = 0;
  while (performance.now() - t0 < options.durationMs) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (running.size >= maxOpen) skipped++;
    else {
      const p: Promise<void> = send(base, make(i), via).then((o) => {
        outcomes.push(o);
        running.delete(p);
      });
      running.add(p);
    }
    i++;
  }
  await Promise.all(running);
  const elapsedMs = performance.now() - t0;
  via.destroy();
  return { outcomes, elapsedMs, skipped };
}

/** The q-quantile (0–1) of `xs`, nearest rank. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Counts of outcomes by status (0 = transport failure). */
export function byStatus(outcomes: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.status === 0 ? `net:${o.error}` : String(o.status);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Log lines of requests answered with a 5xx, and lines at level error (50) or above. */
export function serverFaults(log: LogLine[]): { fiveXx: LogLine[]; errors: LogLine[] } {
  return {
    fiveXx: log.filter((l) => (l.res?.statusCode ?? 0) >= 500),
    errors: log.filter((l) => l.level >= 50),
  };
}

/** GET /health as JSON. */
export async function health(base: string): Promise<Record<string, any>> {
  return (await (await fetch(`${base}/health`)).json()) as Record<string, any>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** POST /v1/audio/speech. */
export function speechRequest(format: string, text = SPEECH_TEXT, extra: Record<string, unknown> = {}): RequestSpec {
  return {
    path: '/v1/audio/speech',
    headers: JSON_HEADERS,
    body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: text, response_format: format, ...extra }),
  };
}

/** POST /v1/chat/completions, text in and out, a bounded reply. */
export function chatRequest(text = 'Say hello.', extra: Record<string, unknown> = {}): RequestSpec {
  return {
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      model: 'gpt-4o-mini-audio-preview',
      messages: [{ role: 'user', content: text }],
      max_tokens: 16,
      temperature: 0,
      seed: 1,
      ...extra,
    }),
  };
}

/** A multipart body with the given fields and one file. */
export function multipart(fields: Record<string, string>, file: { name: string; filename: string; data: Buffer }): { body: Buffer; contentType: string } {
  const boundary = `parley-load-${Math.random().toString(36).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
    ),
    file.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** POST /v1/audio/transcriptions of one fixture recording (pocketsphinx). */
export function transcriptionRequest(file = 'allison-agent-pass.wav', fields: Record<string, string> = {}): RequestSpec {
  const { body, contentType } = multipart(
    { model: 'whisper-1', ...fields },
    { name: 'file', filename: file, data: fs.readFileSync(path.join(SPEECH_FIXTURE, file)) },
  );
  return { path: '/v1/audio/transcriptions', headers: { 'content-type': contentType }, body };
}

/** Prints one line `label: value` aligned, and returns the value for the summary object. */
export function line(label: string, value: unknown): void {
  console.log(`  ${label.padEnd(34)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

/** Machine conditions at the time of a measurement. */
export function conditions(): string {
  const [l1, l5] = os.loadavg();
  return `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), load average ${l1!.toFixed(1)}/${l5!.toFixed(1)} at start, node ${process.version}`;
}

/** Summary of accepted (2xx) latencies and the rest. */
export function summarize(outcomes: Outcome[], elapsedMs: number) {
  const ok = outcomes.filter((o) => o.status >= 200 && o.status < 300);
  const ms = ok.map((o) => o.ms);
  return {
    requests: outcomes.length,
    ok: ok.length,
    okPerSec: Math.round((ok.length / (elapsedMs / 1000)) * 100) / 100,
    p50: Math.round(quantile(ms, 0.5)),
    p99: Math.round(quantile(ms, 0.99)),
    byStatus: byStatus(outcomes),
  };
}
