/**
 * Malformed multipart bodies, sent as raw bytes to the real server, on every multipart endpoint:
 * each is a 400 with OpenAI's error shape, never a 500.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertWireError, MULTIPART_ENDPOINTS, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const ENDPOINTS = MULTIPART_ENDPOINTS;
const B = 'parley-test-boundary';
const FORM = `multipart/form-data; boundary=${B}`;

/** A well-formed body: model, purpose and a small file (the fields each endpoint wants). */
function goodBody(): string {
  const field = (name: string, value: string) => `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const file = `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n{"custom_id":"x"}\n\r\n`;
  return `${field('model', 'whisper-1')}${field('purpose', 'batch')}${file}--${B}--\r\n`;
}

const MALFORMED: { name: string; contentType: string; body: () => string }[] = [
  { name: 'a body cut off inside the file part', contentType: FORM, body: () => goodBody().slice(0, goodBody().indexOf('custom_id') + 4) },
  { name: 'a body cut off before the closing boundary', contentType: FORM, body: () => goodBody().slice(0, -(B.length + 8)) },
  // Cut right after the file part's headers: the parser reports it on the file stream only.
  { name: 'a body cut off where the file data starts', contentType: FORM, body: () => goodBody().slice(0, goodBody().indexOf('{"custom_id"') + 1) },
  { name: 'a body with no boundary line at all', contentType: FORM, body: () => 'just some text, not a form' },
  { name: 'a content type without a boundary parameter', contentType: 'multipart/form-data', body: goodBody },
  { name: 'an empty boundary parameter', contentType: 'multipart/form-data; boundary=', body: goodBody },
  { name: 'a boundary other than the one used', contentType: 'multipart/form-data; boundary=other', body: goodBody },
  { name: 'a part with a malformed header', contentType: FORM, body: () => `--${B}\r\nNot-A-Header\r\n\r\nvalue\r\n--${B}--\r\n` },
  {
    name: 'a part header that never ends',
    contentType: FORM,
    body: () => `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\nContent-Type: x`,
  },
  { name: 'an empty body', contentType: FORM, body: () => '' },
  { name: 'binary garbage', contentType: FORM, body: () => Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) & 0xff)).toString('latin1') },
  { name: 'a text/plain body', contentType: 'text/plain', body: () => 'hello' },
];

describe('malformed multipart bodies are 400s on every multipart endpoint', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  for (const path of ENDPOINTS) {
    test(`${path.split('?')[0]}: every malformed body is a 400 invalid_request_error`, async () => {
      for (const c of MALFORMED) {
        const res = await rawRequest(server.url, { path, headers: { 'content-type': c.contentType }, body: Buffer.from(c.body(), 'latin1') });
        const error = assertWireError(res, 400, `${path} with ${c.name}`);
        assert.equal(error.type, 'invalid_request_error', c.name);
        assert.doesNotMatch(error.message, /busboy|dicer|Unexpected end|terminated early/i, 'parser internals stay in the log');
      }
    });
  }

  test('keeps no file from a rejected upload', async () => {
    // The store removes what it wrote just after the answer: wait for that (bounded).
    const dir = path.join(server.config.dataDir, 'files');
    for (let i = 0; i < 100 && fs.readdirSync(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing stored, not even a .part');
  });

  test('names what is wrong when the body is cut off or the boundary is missing', async () => {
    const cut = await rawRequest(server.url, { path: '/v1/files', headers: { 'content-type': FORM }, body: MALFORMED[0]!.body() });
    assert.equal(assertWireError(cut, 400).code, 'invalid_multipart');
    const noBoundary = await rawRequest(server.url, { path: '/v1/audio/transcriptions', headers: { 'content-type': 'multipart/form-data' }, body: goodBody() });
    const error = assertWireError(noBoundary, 400);
    assert.equal(error.code, 'invalid_multipart');
    assert.match(error.message, /boundary/);
  });

  test('still accepts a well-formed upload, and the server stays healthy', async () => {
    const res = await rawRequest(server.url, { path: '/v1/files', headers: { 'content-type': FORM }, body: goodBody() });
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as { purpose: string }).purpose, 'batch');
    const health = await rawRequest(server.url, { method: 'GET', path: '/health' });
    assert.equal(health.status, 200);
  });
});
