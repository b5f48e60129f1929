import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import type { NewLine } from './batch-store.js';
import { normalizeUrl, readInputFile, validateLine } from './input.js';
import { MAX_BATCH_LINES } from './types.js';

const good = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] }, ...extra });

async function read(text: string | string[], endpoint: '/v1/chat/completions' | '/v1/audio/speech' = '/v1/chat/completions') {
  const stored: NewLine[] = [];
  const summary = await readInputFile(Readable.from(Array.isArray(text) ? text : [text]), endpoint, (lines) => {
    stored.push(...lines);
  });
  return { summary, stored };
}

describe('batch input validation, line by line', () => {
  test('accepts a well-formed line and keeps its request for the worker', () => {
    const { line, error } = validateLine(good('a'), 1, '/v1/chat/completions', new Set());
    assert.equal(error, undefined);
    assert.equal(line.state, 'pending');
    assert.deepEqual(JSON.parse(line.request!), { url: '/v1/chat/completions', body: { model: 'm', messages: [] } });
  });

  test('reports each kind of bad line with its code, param and line number', () => {
    const seen = new Set(['dup']);
    const cases: Array<[string, string, string | null]> = [
      ['{"custom_id": ', 'invalid_json_line', null],
      ['[1, 2]', 'invalid_request', null],
      [JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: {} }), 'missing_required_parameter', 'custom_id'],
      [JSON.stringify({ custom_id: 7, method: 'POST', url: '/v1/chat/completions', body: {} }), 'invalid_value', 'custom_id'],
      [good('dup'), 'duplicate_custom_id', 'custom_id'],
      [good('m', { method: 'GET' }), 'invalid_value', 'method'],
      [good('u', { url: '/v1/embeddings' }), 'mismatched_url', 'url'],
      [good('b', { body: 'text' }), 'invalid_value', 'body'],
      [good('s', { body: { stream: true } }), 'unsupported_value', 'body.stream'],
    ];
    for (const [text, code, param] of cases) {
      const { line, error } = validateLine(text, 42, '/v1/chat/completions', seen);
      assert.equal(error?.code, code, text);
      assert.equal(error?.param, param, text);
      assert.equal(error?.line, 42);
      assert.match(error!.message, /^Line 42: /);
      assert.equal(line.state, 'failed');
      const out = JSON.parse(line.result!);
      assert.equal(out.response, null);
      assert.equal(out.error.code, code);
    }
  });

  test("takes Azure's line urls (/chat/completions) as the /v1 endpoint", () => {
    assert.equal(normalizeUrl('/chat/completions'), '/v1/chat/completions');
    assert.equal(normalizeUrl('/v1/audio/speech?x=1'), '/v1/audio/speech');
    assert.equal(validateLine(good('a', { url: '/chat/completions' }), 1, '/v1/chat/completions', new Set()).error, undefined);
  });

  test('refuses speech streamed as SSE in a batch', () => {
    const text = JSON.stringify({ custom_id: 'x', method: 'POST', url: '/v1/audio/speech', body: { stream_format: 'sse' } });
    assert.equal(validateLine(text, 1, '/v1/audio/speech', new Set()).error?.param, 'body.stream_format');
  });

  test('numbers lines as in the file: blank lines are skipped but counted, CRLF and a BOM are fine', async () => {
    const { summary, stored } = await read(`\uFEFF${good('a')}\r\n\r\n${good('b')}\r\nnot json\n\n`);
    assert.equal(summary.total, 3);
    assert.equal(summary.invalid, 1);
    assert.deepEqual(
      stored.map((l) => [l.lineNo, l.customId, l.state]),
      [
        [1, 'a', 'pending'],
        [3, 'b', 'pending'],
        [4, null, 'failed'],
      ],
    );
    assert.deepEqual(
      summary.errors.map((e) => e.line),
      [4],
    );
    assert.equal(summary.fatal, undefined);
  });

  test('reads lines split across chunks', async () => {
    const text = `${good('a')}\n${good('b')}\n`;
    const { stored } = await read([text.slice(0, 10), text.slice(10, 50), text.slice(50)]);
    assert.deepEqual(
      stored.map((l) => l.customId),
      ['a', 'b'],
    );
  });

  test('fails the whole file when it has no request, no valid request, or too many', async () => {
    assert.equal((await read('\n\n')).summary.fatal?.code, 'empty_file');
    assert.equal((await read('x\ny\n')).summary.fatal?.code, 'no_valid_requests');
    const many = Array.from({ length: MAX_BATCH_LINES + 1 }, (_, i) => `${good(`c${i}`)}\n`).join('');
    assert.equal((await read(many)).summary.fatal?.code, 'too_many_requests');
  });
});
