/**
 * Test helper (not a test): a local HTTP file server on 127.0.0.1 with Range support and switches
 * to misbehave — cut the connection, stall, answer 5xx, ignore Range — and a log of what it served.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../../errors.js';

/** One request as the server saw it. */
export interface ServedRequest {
  /** Request path. */
  path: string;
  /** The Range header, if any. */
  range: string | null;
  /** Status answered. */
  status: number;
  /** Body bytes written. */
  bytesSent: number;
}

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Files served, by path (`/repo/model.bin`). */
  files: Map<string, Buffer>;
  /** Every request, in order (filled once the response is done). */
  requests: ServedRequest[];
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange: boolean;
  /** The next `times` file responses (for `onlyPath`, when given) send `bytes` body bytes, then drop the connection. */
  cutAfter(bytes: number, times?: number, onlyPath?: string): void;
  /** The next `times` file responses send `bytes` body bytes, then go silent. */
  stallAfter(bytes: number, times?: number): void;
  /** The next `times` requests are answered with `status`. */
  failNext(status: number, times?: number): void;
  /** Stop, dropping open connections. */
  close(): Promise<void>;
}

/** Random bytes and their SHA-256. */
export function randomFile(size: number): { data: Buffer; sha256: string } {
  const data = randomBytes(size);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Start a server on 127.0.0.1 on a free port. `/redirect/PATH` answers 302 to `/PATH`. */
export async function startTestServer(files: Record<string, Buffer> = {}): Promise<TestServer> {
  let cut: { bytes: number; times: number; onlyPath?: string } | null = null;
  let stall: { bytes: number; times: number } | null = null;
  let fail: { status: number; times: number } | null = null;
  const requests: ServedRequest[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const range = typeof req.headers.range === 'string' ? req.headers.range : null;
    const log = (status: number, bytesSent: number): void => {
      requests.push({ path: url.pathname, range, status, bytesSent });
    };

    if (fail && fail.times > 0) {
      fail.times--;
      res.writeHead(fail.status, { 'content-type': 'text/plain' }).end('failing on purpose');
      log(fail.status, 0);
      return;
    }
    if (url.pathname.startsWith('/redirect/')) {
      res.writeHead(302, { location: url.pathname.slice('/redirect'.length) }).end();
      log(302, 0);
      return;
    }
    const data = api.files.get(url.pathname);
    if (!data) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file');
      log(404, 0);
      return;
    }

    let status = 200;
    let body = data;
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    const m = range && !api.ignoreRange ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
        log(416, 0);
        return;
      }
      status = 206;
      body = data.subarray(start, end + 1);
      headers['content-range'] = `bytes ${start}-${end}/${data.length}`;
    }
    headers['content-length'] = body.length;
    res.writeHead(status, headers);

    if (cut && cut.times > 0 && (cut.onlyPath === undefined || cut.onlyPath === url.pathname)) {
      cut.times--;
      const sent = body.subarray(0, Math.min(cut.bytes, body.length));
      res.write(sent, () => {
        res.socket?.destroy();
        log(status, sent.length);
      });
      return;
    }
    if (stall && stall.times > 0) {
      stall.times--;
      const sent = body.subarray(0, Math.min(stall.bytes, body.length));
      res.write(sent);
      res.on('close', () => log(status, sent.length));
      return; // and never end
    }
    res.end(body, () => log(status, body.length));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const api: TestServer = {
    url: `http://127.0.0.1:${port}`,
    files: new Map(Object.entries(files)),
    requests,
    ignoreRange: false,
    cutAfter: (bytes, times = 1, onlyPath) => {
      cut = { bytes, times, onlyPath };
    },
    stallAfter: (bytes, times = 1) => {
      stall = { bytes, times };
    },
    failNext: (status, times = 1) => {
      fail = { status, times };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}

/** A port on 127.0.0.1 with nothing listening (connection refused). */
export async function refusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An `assert.rejects` predicate: the error is an ApiError with this code (and a message matching `includes`). */
export function isApiError(code: string, includes?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (includes) assert.match(err.message, includes);
    return true;
  };
}
