import assert from 'node:assert/strict';
import http from 'node:http';
import { assertMatchesSchema } from './openapi.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request with exactly these bytes and headers (no client library in between: `content-length`
 * is the body's unless given). Resolves with the response, whatever its status; rejects only if
 * the server does not answer within `timeoutMs` or the connection fails.
 */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Uint8Array | string; timeoutMs?: number },
): Promise<RawResponse> {
  const base = new URL(url);
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  const headers: Record<string, string> = { 'content-length': String(body.length), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path: options.path, method: options.method ?? 'POST', headers, timeout: options.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${options.path} within ${options.timeoutMs ?? 30_000} ms`)));
    // The socket timeout above only sees silence; a stream that trickles forever is caught here.
    const deadline = setTimeout(
      () => req.destroy(new Error(`the answer to ${options.path} did not end within ${options.timeoutMs ?? 30_000} ms`)),
      options.timeoutMs ?? 30_000,
    );
    req.on('close', () => clearTimeout(deadline));
    req.on('error', reject);
    req.end(body);
  });
}

/** Asserts an OpenAI-shaped error body (all four keys, the schema) with this status; returns its `error`. */
export function assertWireError(res: RawResponse, status: number, what = ''): { message: string; type: string; param: string | null; code: string | null } {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.body.slice(0, 300)}`);
  const json = JSON.parse(res.body) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type'], what);
  assertMatchesSchema('ErrorResponse', json);
  return json.error as { message: string; type: string; param: string | null; code: string | null };
}

/** Every endpoint that takes a multipart/form-data body (the malformed-body and fuzz tests run on each). */
export const MULTIPART_ENDPOINTS = [
  '/v1/audio/transcriptions',
  '/v1/audio/translations',
  '/v1/audio/analysis',
  '/v1/audio/verify',
  '/v1/files',
  '/openai/files?api-version=2025-01-01-preview',
];
