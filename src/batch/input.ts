import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { errorLine, type NewLine } from './batch-store.js';
import { type BatchEndpoint, type BatchError, MAX_BATCH_LINES } from './types.js';

/**
 * Reads a batch input file (JSONL) line by line. Each non-blank line must be
 * `{"custom_id": "…", "method": "POST", "url": <the batch's endpoint>, "body": {…}}`. A bad line
 * does not sink the batch: it becomes a failed line (in the error file, with its line number in
 * the message) and an entry of the batch's `errors`. Streaming bodies are refused per line, since
 * a batch answer is one JSON body.
 */

/** At most this many problems are listed in the batch object's `errors` (all are in the error file). */
export const MAX_LISTED_ERRORS = 1000;

/** Lines are handed over in groups of about this many (one transaction each). */
const GROUP_LINES = 256;
/** …or of about this many bytes of request text. */
const GROUP_BYTES = 16 * 1024 * 1024;

/** What reading the whole file found. */
export interface InputSummary {
  /** Requests (non-blank lines). */
  total: number;
  /** Lines refused at validation (already failed). */
  invalid: number;
  /** Problems for the batch object (capped at `MAX_LISTED_ERRORS`). */
  errors: BatchError[];
  /** Set when the file as a whole cannot be run (no request at all, too many). */
  fatal?: BatchError;
}

/** The URL as Parley runs it: `/chat/completions` (Azure's batch lines) is `/v1/chat/completions`. */
export function normalizeUrl(url: string): string {
  const path = url.split('?')[0]!;
  return path.startsWith('/v1/') ? path : path.startsWith('/') ? `/v1${path}` : path;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Checks one line; returns the line to store and, when it is invalid, the problem. */
export function validateLine(text: string, lineNo: number, endpoint: BatchEndpoint, seen: Set<string>): { line: NewLine; error?: BatchError } {
  const fail = (code: string, message: string, param: string | null, customId: string | null = null) => {
    const error: BatchError = { code, message: `Line ${lineNo}: ${message}`, param, line: lineNo };
    return { line: { lineNo, customId, state: 'failed' as const, request: null, result: errorLine(customId, code, error.message) }, error };
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('invalid_json_line', 'This line is not valid JSON.', null);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return fail('invalid_request', `Expected a JSON object, but got ${describe(parsed)}.`, null);
  const o = parsed as Record<string, unknown>;
  const customId = typeof o.custom_id === 'string' ? o.custom_id : null;
  if (o.custom_id === undefined || o.custom_id === null) return fail('missing_required_parameter', "Missing required parameter: 'custom_id'.", 'custom_id');
  if (customId === null || customId.length === 0 || customId.length > 512)
    return fail('invalid_value', "'custom_id' must be a string of 1 to 512 characters.", 'custom_id');
  if (seen.has(customId))
    return fail('duplicate_custom_id', `The custom_id '${customId}' is used by an earlier line; each request needs its own.`, 'custom_id', customId);
  seen.add(customId);
  if (o.method !== 'POST')
    return fail('invalid_value', `Invalid value for 'method': ${JSON.stringify(o.method ?? null)}. Only 'POST' is supported.`, 'method', customId);
  if (typeof o.url !== 'string') return fail('missing_required_parameter', "Missing required parameter: 'url'.", 'url', customId);
  if (normalizeUrl(o.url) !== endpoint) return fail('mismatched_url', `The url '${o.url}' does not match the batch's endpoint '${endpoint}'.`, 'url', customId);
  if (o.body === null || typeof o.body !== 'object' || Array.isArray(o.body))
    return fail('invalid_value', `'body' must be a JSON object, but got ${describe(o.body)}.`, 'body', customId);
  const body = o.body as Record<string, unknown>;
  if (body.stream === true)
    return fail('unsupported_value', "Streaming ('stream': true) is not supported in a batch: each answer is one JSON body.", 'body.stream', customId);
  if (endpoint === '/v1/audio/speech' && body.stream_format === 'sse')
    return fail(
      'unsupported_value',
      "'stream_format': 'sse' is not supported in a batch: the audio is returned base64 in the body.",
      'body.stream_format',
      customId,
    );
  return { line: { lineNo, customId, state: 'pending', request: JSON.stringify({ url: endpoint, body }), result: null } };
}

/**
 * Reads the whole file and hands the lines over in groups (`store` is awaited, so a slow
 * consumer slows the reading). Blank lines are skipped but keep their number.
 */
export async function readInputFile(input: Readable, endpoint: BatchEndpoint, store: (lines: NewLine[]) => Promise<void> | void): Promise<InputSummary> {
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  const seen = new Set<string>();
  const summary: InputSummary = { total: 0, invalid: 0, errors: [] };
  let group: NewLine[] = [];
  let groupBytes = 0;
  let lineNo = 0;
  try {
    for await (const raw of rl) {
      lineNo++;
      const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim().length === 0) continue;
      summary.total++;
      if (summary.total > MAX_BATCH_LINES) {
        summary.fatal = {
          code: 'too_many_requests',
          message: `The input file has more than ${MAX_BATCH_LINES} requests, the most a batch can hold. Split it into several batches.`,
          param: null,
          line: lineNo,
        };
        return summary;
      }
      const { line, error } = validateLine(text, lineNo, endpoint, seen);
      if (error) {
        summary.invalid++;
        if (summary.errors.length < MAX_LISTED_ERRORS) summary.errors.push(error);
      }
      group.push(line);
      groupBytes += text.length;
      if (group.length >= GROUP_LINES || groupBytes >= GROUP_BYTES) {
        await store(group);
        group = [];
        groupBytes = 0;
      }
    }
  } finally {
    rl.close();
    input.destroy();
  }
  if (group.length > 0) await store(group);
  if (summary.total === 0) summary.fatal = { code: 'empty_file', message: 'The input file has no requests.', param: null, line: null };
  else if (summary.invalid === summary.total)
    summary.fatal = { code: 'no_valid_requests', message: 'No line of the input file is a valid request; see the other errors.', param: null, line: null };
  return summary;
}
