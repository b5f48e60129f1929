/**
 * Download one URL to one file, safely: bytes go to `<dest>.part`, an interrupted download resumes
 * with an HTTP Range request, the SHA-256 is computed while streaming and checked before an fsync
 * and an atomic rename put the file in place. A reader of `dest` sees either nothing or the whole,
 * verified file.
 *
 * Range semantics: RFC 9110 §14 — 206 with Content-Range continues the part; 200 means the server
 * ignored the Range header (start over); 416 means the part already covers the whole file (verify
 * it) or is longer than it (start over).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError } from '../../errors.js';

/** Called as bytes arrive: `done` counts bytes of the file on disk so far (resumed bytes included). */
export type ProgressCallback = (done: number, total: number | null) => void;

/** Parameters of {@link downloadFile}. */
export interface DownloadOptions {
  /** What to fetch (http: or https:); redirects are followed. */
  url: string;
  /** Where the verified file ends up. Bytes are written to `<dest>.part` until then. */
  dest: string;
  /** Expected SHA-256 (hex). Null or absent: not checked, only computed and returned (trust on first use). */
  sha256?: string | null;
  /** Where the expected checksum came from, for the mismatch message (e.g. "recorded on first download"). */
  sha256Source?: string;
  /** Expected size in bytes. Null or absent: the server's Content-Length/Content-Range is used. */
  size?: number | null;
  /** PARLEY_OFFLINE=1: refuse before any network access. */
  offline?: boolean;
  /** Model the file belongs to, named in messages. */
  model?: string;
  /** Progress as bytes arrive. */
  onProgress?: ProgressCallback;
  /** Cancels the download; the `.part` is kept for a later resume. */
  signal?: AbortSignal;
  /** Give up on a connection (DNS + TCP) after this long. Default 15 s. */
  connectTimeoutMs?: number;
  /** Give up on a connection that sends nothing for this long. Default 30 s. */
  stallTimeoutMs?: number;
  /** Retries after a network error or a 5xx/429, each resuming where the last stopped. Default 4. */
  retries?: number;
  /** First retry delay; doubles each time (with jitter) up to 8 s. Default 500 ms. */
  retryDelayMs?: number;
}

/** What {@link downloadFile} did. */
export interface DownloadResult {
  /** The final path (absolute). */
  path: string;
  /** SHA-256 of the file (hex), verified when one was expected. */
  sha256: string;
  /** Whether `sha256` was checked against an expected value (false: trust on first use). */
  verified: boolean;
  /** Size in bytes. */
  size: number;
  /** Body bytes received over the network by this call, across attempts. */
  transferred: number;
  /** Bytes of a `.part` left by an earlier run that were kept (0: started from scratch). */
  resumedFrom: number;
  /** HTTP requests sent, redirects included. */
  requests: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_STALL_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 4;
const DEFAULT_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 8_000;
const MAX_REDIRECTS = 10;
/** Restarts from zero (server ignored/botched a Range, stale part) before giving up. */
const MAX_RESTARTS = 3;

/** The host could not be reached at all: no DNS, refused, no route, no connection in time. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'CONNECT_TIMEOUT']);

/** Failures worth another attempt. */
const TRANSIENT = new Set([
  ...UNREACHABLE,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'STALLED',
  'TRUNCATED',
  'HTTP_RETRY',
]);

/** A network-level failure, tagged with the host it happened on. */
class NetFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly host: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'NetFailure';
  }
}

/** Writing the part failed (disk full, permissions): not a network problem, not worth a retry. */
class DiskError extends Error {
  constructor(cause: unknown) {
    super(messageOf(cause), { cause });
    this.name = 'DiskError';
  }
}

/**
 * Download `url` to `dest`, resuming a `<dest>.part` left by an earlier attempt.
 * Throws ApiError: `engine_unavailable` when offline or PARLEY_OFFLINE, `checksum_mismatch`,
 * `size_mismatch`, `model_download_failed`, or `request_cancelled` when `signal` fires.
 */
export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const dest = path.resolve(options.dest);
  if (options.offline) throw offlineRefusal(options.url, dest, options.model);
  options.signal?.throwIfAborted();
  await mkdir(path.dirname(dest), { recursive: true });
  return new Transfer(options, dest).run();
}

/** SHA-256 and size of a file on disk. */
export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const size = await hashInto(file, hash);
  return { sha256: hash.digest('hex'), size };
}

/** One download, across its attempts. */
class Transfer {
  private readonly part: string;
  private readonly expectedSha: string | null;
  private readonly expectedSize: number | null;
  private transferred = 0;
  private requests = 0;
  private resumedFrom = -1;
  private reachedServer = false;
  private freshRetryUsed = false;

  constructor(
    private readonly o: DownloadOptions,
    private readonly dest: string,
  ) {
    this.part = `${dest}.part`;
    this.expectedSha = o.sha256 ? o.sha256.toLowerCase() : null;
    this.expectedSize = o.size ?? null;
  }

  async run(): Promise<DownloadResult> {
    const retries = this.o.retries ?? DEFAULT_RETRIES;
    let failures = 0;
    let restarts = 0;
    for (;;) {
      try {
        const outcome = await this.attempt();
        if (outcome !== 'restart') return outcome;
        if (++restarts > MAX_RESTARTS) {
          throw downloadFailed(`${this.o.url} could not be downloaded consistently (the server keeps answering ranges wrongly).`);
        }
      } catch (err) {
        if (this.o.signal?.aborted) throw ApiError.cancelled();
        if (err instanceof ApiError) throw err;
        if (!(err instanceof NetFailure)) {
          // Local trouble (disk full, permissions): retrying will not help.
          const cause = err instanceof DiskError ? err.cause : err;
          throw downloadFailed(`cannot write ${this.part}: ${messageOf(cause)}`, cause);
        }
        // Never reached the host: that is being offline (or a wrong mirror), not a flaky transfer.
        if (UNREACHABLE.has(err.code) && !this.reachedServer) throw this.offline(err);
        if (!TRANSIENT.has(err.code)) throw downloadFailed(`downloading ${this.o.url} failed: ${err.message}`, err);
        if (failures >= retries) {
          if (UNREACHABLE.has(err.code)) throw this.offline(err);
          const kept = await fileSize(this.part);
          throw downloadFailed(
            `downloading ${this.o.url} failed after ${failures + 1} attempts (${err.message}). ` +
              `The ${kept} bytes received are kept in ${this.part}: run the same command again to resume.`,
            err,
          );
        }
        failures++;
        const base = Math.min(MAX_RETRY_DELAY_MS, (this.o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) * 2 ** (failures - 1));
        try {
          await delay(base * (0.75 + Math.random() * 0.5), undefined, { signal: this.o.signal });
        } catch {
          throw ApiError.cancelled();
        }
      }
    }
  }

  /** One request (plus redirects): continue the part, then verify and finish. */
  private async attempt(): Promise<DownloadResult | 'restart'> {
    let offset = await fileSize(this.part);
    if (this.expectedSize !== null && offset > this.expectedSize) {
      await rm(this.part, { force: true });
      offset = 0;
    }
    if (this.resumedFrom < 0) this.resumedFrom = offset;
    let hash = createHash('sha256');
    // Resuming: the checksum must cover the bytes already on disk too.
    if (offset > 0) await hashInto(this.part, hash);
    const startedFrom = offset;
    this.progress(offset, this.expectedSize);

    // A whole part left by an earlier run (killed before the rename): verify it, no request needed.
    if (offset > 0 && offset === this.expectedSize) return this.finish(hash, offset, true);

    const { res, host, failure, dispose } = await this.get(offset);
    try {
      const status = res.statusCode ?? 0;
      let total: number | null;
      if (status === 200) {
        if (offset > 0) {
          // The server ignored Range and sends the whole file: start the part over.
          offset = 0;
          hash = createHash('sha256');
        }
        total = contentLength(res);
      } else if (status === 206) {
        const range = parseContentRange(res.headers['content-range']);
        if (!range || range.start !== offset) {
          res.destroy();
          await rm(this.part, { force: true });
          return 'restart';
        }
        total = range.total ?? this.expectedSize;
      } else if (status === 416) {
        res.resume();
        // Range not satisfiable: the part is at least as long as the file. Exactly as long is a
        // finished download whose rename never happened; anything else is bad.
        const whole = parseUnsatisfiedRange(res.headers['content-range']);
        if (offset > 0 && whole === offset) return this.finish(hash, offset, true);
        await rm(this.part, { force: true });
        return 'restart';
      } else if (status === 429 || status >= 500) {
        res.resume();
        throw new NetFailure('HTTP_RETRY', `HTTP ${status} from ${host}`, host);
      } else {
        res.resume();
        throw httpError(status, res.statusMessage, this.o.url);
      }

      if (total !== null && this.expectedSize !== null && total !== this.expectedSize) {
        res.destroy();
        await rm(this.part, { force: true });
        throw sizeMismatch(this.o.url, this.expectedSize, `the server says ${total}`);
      }
      const end = total ?? this.expectedSize;

      let done = offset;
      const fh = await open(this.part, offset > 0 ? 'a' : 'w');
      try {
        try {
          for await (const chunk of res as AsyncIterable<Buffer>) {
            if (end !== null && done + chunk.length > end) {
              res.destroy();
              await fh.close().catch(() => {});
              await rm(this.part, { force: true });
              throw sizeMismatch(this.o.url, end, 'the server sent more');
            }
            hash.update(chunk);
            await fh.write(chunk).catch((e: unknown) => {
              throw new DiskError(e);
            });
            done += chunk.length;
            this.transferred += chunk.length;
            this.progress(done, end);
          }
        } catch (err) {
          if (err instanceof ApiError || err instanceof DiskError) throw err;
          throw failure() ?? asNetFailure(err, host);
        }
        await fh.sync();
      } finally {
        await fh.close().catch(() => {});
      }
      if (!res.complete || (end !== null && done < end)) {
        throw failure() ?? new NetFailure('TRUNCATED', `${host} closed the connection after ${done} bytes`, host);
      }
      return await this.finish(hash, done, startedFrom > 0 && offset > 0);
    } finally {
      dispose();
    }
  }

  /** Verify the complete part, then fsync and rename it into place. */
  private async finish(hash: Hash, size: number, usedOldBytes: boolean): Promise<DownloadResult | 'restart'> {
    const actual = hash.digest('hex');
    if (this.expectedSize !== null && size !== this.expectedSize) {
      await rm(this.part, { force: true });
      throw sizeMismatch(this.o.url, this.expectedSize, `got ${size}`);
    }
    if (this.expectedSha !== null && actual !== this.expectedSha) {
      await rm(this.part, { force: true });
      // Bytes from an earlier run may predate a change upstream: one clean retry before failing.
      if (usedOldBytes && !this.freshRetryUsed) {
        this.freshRetryUsed = true;
        return 'restart';
      }
      const source = this.o.sha256Source ? ` (${this.o.sha256Source})` : '';
      throw new ApiError({
        status: 503,
        type: 'server_error',
        code: 'checksum_mismatch',
        message:
          `checksum mismatch for ${this.o.url}: expected sha256 ${this.expectedSha}${source}, got ${actual} (${size} bytes). ` +
          `The download was deleted; the file served is not the expected one (wrong mirror, or changed upstream).`,
      });
    }
    // The bytes reached the disk (fsync) before the rename makes them visible under the real name.
    await syncFile(this.part);
    await rename(this.part, this.dest);
    await syncFile(path.dirname(this.dest));
    return {
      path: this.dest,
      sha256: actual,
      verified: this.expectedSha !== null,
      size,
      transferred: this.transferred,
      resumedFrom: Math.max(0, this.resumedFrom),
      requests: this.requests,
    };
  }

  /** GET with redirects followed; the Range header goes to every hop. */
  private async get(offset: number): Promise<Pending> {
    let url: URL;
    try {
      url = new URL(this.o.url);
    } catch {
      throw downloadFailed(`not a URL: ${this.o.url}`);
    }
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw downloadFailed(`unsupported URL scheme: ${url.href}`);
      const pending = await this.request(url, offset);
      const status = pending.res.statusCode ?? 0;
      const location = pending.res.headers.location;
      if (status >= 300 && status < 400 && status !== 304 && location) {
        pending.res.resume();
        pending.dispose();
        url = new URL(location, url);
        continue;
      }
      return pending;
    }
    throw downloadFailed(`too many redirects fetching ${this.o.url}`);
  }

  private request(url: URL, offset: number): Promise<Pending> {
    const host = url.host;
    const connectTimeoutMs = this.o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const stallTimeoutMs = this.o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const headers: OutgoingHttpHeaders = { 'user-agent': 'parley-model-cache', 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    this.requests++;
    return new Promise<Pending>((resolve, reject) => {
      let failure: NetFailure | null = null;
      // agent: false — one connection per request, nothing pooled that could outlive the download.
      const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', headers, agent: false });
      const connectTimer = setTimeout(() => {
        failure = new NetFailure('CONNECT_TIMEOUT', `no connection to ${host} within ${connectTimeoutMs} ms`, host);
        req.destroy(failure);
      }, connectTimeoutMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.setTimeout(stallTimeoutMs, () => {
        failure = new NetFailure('STALLED', `${host} sent nothing for ${stallTimeoutMs} ms`, host);
        req.destroy(failure);
      });
      const onAbort = (): void => {
        req.destroy(new Error('aborted'));
      };
      this.o.signal?.addEventListener('abort', onAbort, { once: true });
      const dispose = (): void => {
        clearTimeout(connectTimer);
        this.o.signal?.removeEventListener('abort', onAbort);
      };
      req.on('response', (res) => {
        this.reachedServer = true;
        resolve({ res, host, failure: () => failure, dispose });
      });
      req.on('error', (err) => {
        dispose();
        reject(failure ?? asNetFailure(err, host));
      });
      req.end();
    });
  }

  private progress(done: number, total: number | null): void {
    this.o.onProgress?.(done, total ?? this.expectedSize);
  }

  private offline(err: NetFailure): ApiError {
    return ApiError.engineUnavailable(
      `cannot reach ${err.host}: are you offline? Copy the file to ${this.dest} ` +
        `(it is ${this.o.url}) or set PARLEY_MODELS_MIRROR to a mirror you can reach. (${err.message})`,
      err,
    );
  }
}

interface Pending {
  res: IncomingMessage;
  host: string;
  /** The timeout that killed the connection, if one did. */
  failure: () => NetFailure | null;
  dispose: () => void;
}

function asNetFailure(err: unknown, host: string): NetFailure {
  if (err instanceof NetFailure) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'ECONNRESET';
  return new NetFailure(code, messageOf(err), host, err);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function downloadFailed(message: string, cause?: unknown): ApiError {
  return new ApiError({ status: 503, type: 'server_error', code: 'model_download_failed', message, cause });
}

function sizeMismatch(url: string, expected: number, actual: string): ApiError {
  return new ApiError({
    status: 503,
    type: 'server_error',
    code: 'size_mismatch',
    message: `size mismatch for ${url}: expected ${expected} bytes, ${actual}. Nothing was kept (wrong mirror, or changed upstream).`,
  });
}

function httpError(status: number, statusMessage: string | undefined, url: string): ApiError {
  const why =
    status === 404
      ? ' The file is not at that address (wrong mirror, or the revision was removed).'
      : status === 401 || status === 403
        ? ' The server refuses it (a gated file, or a mirror that needs credentials).'
        : '';
  return downloadFailed(`HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''} for ${url}.${why}`);
}

function offlineRefusal(url: string, dest: string, model: string | undefined): ApiError {
  const what = model ? `model '${model}'` : url;
  const how = model ? `run \`parley models pull ${model}\` on a machine with internet access, or fetch ${url},` : `fetch ${url} elsewhere`;
  return ApiError.engineUnavailable(`PARLEY_OFFLINE=1: not downloading ${what}. To install it, ${how} and copy the file to ${dest}.`);
}

function contentLength(res: IncomingMessage): number | null {
  const raw = res.headers['content-length'];
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** `bytes 100-199/200` → {start: 100, total: 200}; total null for `/*`. */
function parseContentRange(raw: string | undefined): { start: number; total: number | null } | null {
  const m = raw ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(raw.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** `bytes *\/200` (sent with 416) → 200. */
function parseUnsatisfiedRange(raw: string | undefined): number | null {
  const m = raw ? /^bytes \*\/(\d+)$/.exec(raw.trim()) : null;
  return m ? Number(m[1]) : null;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function hashInto(file: string, hash: Hash): Promise<number> {
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return size;
}

/** fsync a file or a directory (the latter makes a rename durable; not supported everywhere). */
async function syncFile(target: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(target, 'r');
    await fh.sync();
  } catch {
    // Directories cannot be opened for fsync on some platforms (Windows); the rename still happened.
  } finally {
    await fh?.close().catch(() => {});
  }
}
