import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { MAX_FILE_BYTES } from '../src/store/files.js';
import { expectApiError } from './helpers/errors.js';
import { assertMatchesSchema } from './helpers/openapi.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const KEY_A = 'sk-files-a';
const KEY_B = 'sk-files-b';
const JSONL = Buffer.from('{"custom_id":"1","method":"POST","url":"/v1/chat/completions","body":{}}\n');

/** Sends a raw multipart body (parts in the given order) and returns status and JSON. */
async function postForm(server: TestServer, parts: Array<{ name: string; value: string } | { name: string; filename: string; data: Buffer }>, key = KEY_A) {
  const form = new FormData();
  for (const p of parts) {
    if ('data' in p) form.append(p.name, new Blob([new Uint8Array(p.data)]), p.filename);
    else form.append(p.name, p.value);
  }
  const res = await fetch(`${server.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
  return { status: res.status, json: (await res.json()) as any };
}

/** Names of what is stored under <dataDir>/files. */
function storedNames(server: TestServer): string[] {
  return fs.readdirSync(path.join(server.config.dataDir, 'files'));
}

describe('the /v1/files endpoints through the official SDK', () => {
  let server: TestServer;
  let a: OpenAI;
  let b: OpenAI;
  before(async () => {
    server = await startTestServer({ PARLEY_API_KEYS: `${KEY_A},${KEY_B}` });
    a = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
    b = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
  });
  after(async () => {
    await server.close();
  });

  test('uploads, retrieves, downloads byte for byte, lists and deletes a batch file', async () => {
    const created = await a.files.create({ file: await toFile(JSONL, 'requests.jsonl'), purpose: 'batch' });
    assertMatchesSchema('OpenAIFile', created);
    assert.match(created.id, /^file-[0-9A-Za-z]{24}$/);
    assert.equal(created.object, 'file');
    assert.equal(created.bytes, JSONL.length);
    assert.equal(created.filename, 'requests.jsonl');
    assert.equal(created.purpose, 'batch');
    assert.ok(Math.abs(created.created_at - Date.now() / 1000) < 60);

    assert.deepEqual(await a.files.retrieve(created.id), created);
    const content = await a.files.content(created.id);
    assert.deepEqual(Buffer.from(await content.arrayBuffer()), JSONL);

    const list = await a.files.list();
    const raw = (await (await fetch(`${server.url}/v1/files`, { headers: { authorization: `Bearer ${KEY_A}` } })).json()) as Record<string, unknown>;
    assertMatchesSchema('ListFilesResponse', raw);
    assert.ok(list.data.some((f) => f.id === created.id));

    const deleted = await a.files.delete(created.id);
    assertMatchesSchema('DeleteFileResponse', deleted);
    assert.deepEqual(deleted, { id: created.id, object: 'file', deleted: true });
    await expectApiError(a.files.retrieve(created.id), 404, null, 'id');
    await expectApiError(a.files.content(created.id), 404, null, 'id');
    await expectApiError(a.files.delete(created.id), 404, null, 'id');
    assert.ok(!storedNames(server).includes(created.id));
  });

  test("keeps each key's files to itself: another key gets 404 and does not see them listed", async () => {
    const mine = await a.files.create({ file: await toFile(JSONL, 'mine.jsonl'), purpose: 'user_data' });
    await expectApiError(b.files.retrieve(mine.id), 404, null, 'id');
    await expectApiError(b.files.content(mine.id), 404, null, 'id');
    await expectApiError(b.files.delete(mine.id), 404, null, 'id');
    assert.ok(!(await b.files.list()).data.some((f) => f.id === mine.id));
    assert.equal((await a.files.retrieve(mine.id)).id, mine.id);
  });

  test('pages the list with limit, after and order, and filters by purpose', async () => {
    const fresh = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await fresh.files.create({ file: await toFile(Buffer.from(`{"n":${i}}\n`), `f${i}.jsonl`), purpose: i % 2 === 0 ? 'batch' : 'user_data' })).id);
    const first = await fresh.files.list({ limit: 2, order: 'asc' });
    assert.deepEqual(
      first.data.map((f) => f.id),
      ids.slice(0, 2),
    );
    assert.equal(first.has_more, true);
    const second = await fresh.files.list({ limit: 2, order: 'asc', after: ids[1] });
    assert.deepEqual(
      second.data.map((f) => f.id),
      ids.slice(2, 4),
    );
    const newest = await fresh.files.list({ limit: 1 });
    assert.deepEqual(
      newest.data.map((f) => f.id),
      [ids[4]],
    );
    const batchOnly = await fresh.files.list({ purpose: 'batch', order: 'asc' });
    assert.deepEqual(
      batchOnly.data.map((f) => f.id),
      [ids[0], ids[2], ids[4]],
    );
    // The SDK's auto-pagination walks every page.
    const all: string[] = [];
    for await (const f of fresh.files.list({ limit: 2, order: 'asc' })) all.push(f.id);
    assert.deepEqual(all, ids);
    await expectApiError(fresh.files.list({ limit: 0 }), 400, 'invalid_value', 'limit');
    await expectApiError(fresh.files.list({ after: 'file-doesnotexist00000000000' }), 400, 'invalid_value', 'after');
  });

  test('cleans hostile file names and stores the bytes under the generated id only', async () => {
    const created = await a.files.create({ file: await toFile(JSONL, '../../etc/\u202epasswd\u0007.jsonl'), purpose: 'batch' });
    assert.equal(created.filename, 'passwd.jsonl');
    assert.ok(storedNames(server).includes(created.id));
    assert.ok(storedNames(server).every((n) => /^file-[0-9A-Za-z]{24}(\.part)?$/.test(n)));
    const res = await fetch(`${server.url}/v1/files/${created.id}/content`, { headers: { authorization: `Bearer ${KEY_A}` } });
    assert.match(res.headers.get('content-disposition') ?? '', /filename="passwd\.jsonl"/);
  });

  test('accepts the purpose before or after the file, and refuses a missing or unknown one', async () => {
    const purposeFirst = await postForm(server, [
      { name: 'purpose', value: 'batch' },
      { name: 'file', filename: 'x.jsonl', data: JSONL },
    ]);
    assert.equal(purposeFirst.status, 200, JSON.stringify(purposeFirst.json));
    assert.equal(purposeFirst.json.purpose, 'batch');
    const fileFirst = await postForm(server, [
      { name: 'file', filename: 'y.jsonl', data: JSONL },
      { name: 'purpose', value: 'user_data' },
    ]);
    assert.equal(fileFirst.status, 200, JSON.stringify(fileFirst.json));
    assert.equal(fileFirst.json.purpose, 'user_data');
    const before = storedNames(server).length;
    const missing = await postForm(server, [{ name: 'file', filename: 'z.jsonl', data: JSONL }]);
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.code, 'missing_required_parameter');
    assert.equal(missing.json.error.param, 'purpose');
    const unknown = await postForm(server, [
      { name: 'file', filename: 'z.jsonl', data: JSONL },
      { name: 'purpose', value: 'batch_output' },
    ]);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.code, 'invalid_value');
    assert.equal(unknown.json.error.param, 'purpose');
    assert.equal(storedNames(server).length, before, 'a refused upload leaves nothing behind');
    const noFile = await postForm(server, [{ name: 'purpose', value: 'batch' }]);
    assert.equal(noFile.status, 400);
    assert.equal(noFile.json.error.param, 'file');
    await expectApiError(a.files.create({ file: await toFile(JSONL, 'a.jsonl'), purpose: 'nonsense' as 'batch' }), 400, 'invalid_value', 'purpose');
  });

  test('refuses a file over 200 MB with a 413 naming the file, whether announced or streamed, keeping nothing', async () => {
    const before = storedNames(server).length;
    // Announced by Content-Length: refused before reading.
    const big = await postForm(server, [
      { name: 'purpose', value: 'batch' },
      { name: 'file', filename: 'big.jsonl', data: Buffer.alloc(MAX_FILE_BYTES + 1024 * 1024, 0x61) },
    ]).catch((e: unknown) => ({ status: -1, json: { e } }));
    assert.equal(big.status, 413, JSON.stringify(big.json).slice(0, 200));
    assert.equal((big.json as any).error.param, 'file');
    // Streamed with chunked encoding (no length): refused once the limit is crossed.
    const boundary = 'parleytestboundary';
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${server.url}/v1/files`,
        { method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': `multipart/form-data; boundary=${boundary}` } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(
        `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n\r\n`,
      );
      const chunk = Buffer.alloc(1024 * 1024, 0x62);
      let sent = 0;
      const pump = () => {
        while (sent < MAX_FILE_BYTES + 2 * chunk.length) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end(`\r\n--${boundary}--\r\n`);
      };
      req.on('response', () => (sent = Number.MAX_SAFE_INTEGER));
      pump();
    });
    assert.equal(status.status, 413, status.body.slice(0, 200));
    assert.equal(JSON.parse(status.body).error.param, 'file');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(storedNames(server).length, before);
  });

  test('serves the same files under Azure /openai/files with an api-version', async () => {
    const azure = new AzureOpenAI({ endpoint: server.url, apiKey: KEY_A, apiVersion: '2025-01-01-preview', maxRetries: 0 });
    const created = await azure.files.create({ file: await toFile(JSONL, 'azure.jsonl'), purpose: 'batch' });
    assert.equal((await a.files.retrieve(created.id)).filename, 'azure.jsonl');
    assert.deepEqual(Buffer.from(await (await azure.files.content(created.id)).arrayBuffer()), JSONL);
    const res = await fetch(`${server.url}/openai/files`, { headers: { 'api-key': KEY_A } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error.param, 'api-version');
  });
});

describe("each key's file storage quota (PARLEY_FILES_QUOTA_BYTES), through the official SDK", () => {
  const QUOTA = 4096;
  let server: TestServer;
  let a: OpenAI;
  let b: OpenAI;
  before(async () => {
    server = await startTestServer({ PARLEY_API_KEYS: `${KEY_A},${KEY_B}`, PARLEY_FILES_QUOTA_BYTES: String(QUOTA) });
    a = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
    b = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
  });
  after(async () => {
    await server.close();
  });

  test('refuses an upload past the quota with a 400 naming file (OpenAI answers its storage limit with a 400), keeps nothing, and frees room on delete', async () => {
    const three = Buffer.alloc(3000, 'a');
    const kept = await a.files.create({ file: await toFile(three, 'batch-input.jsonl'), purpose: 'batch' });
    const before = storedNames(server).length;
    const err = await expectApiError(
      a.files.create({ file: await toFile(Buffer.alloc(2000, 'b'), 'more.jsonl'), purpose: 'batch' }),
      400,
      'storage_quota_exceeded',
      'file',
    );
    assert.match(err.message, /quota/);
    assert.equal(storedNames(server).length, before);
    assert.deepEqual(
      (await a.files.list()).data.map((f) => f.id),
      [kept.id],
    );
    // Another key is not affected by this one's files.
    await b.files.create({ file: await toFile(three, 'b.jsonl'), purpose: 'user_data' });
    // The same through Azure's route.
    const azure = new AzureOpenAI({ endpoint: server.url, apiKey: KEY_A, apiVersion: '2025-01-01-preview', maxRetries: 0 });
    await expectApiError(
      azure.files.create({ file: await toFile(Buffer.alloc(2000, 'c'), 'azure.jsonl'), purpose: 'batch' }),
      400,
      'storage_quota_exceeded',
      'file',
    );
    // What fits still fits; deleting makes room.
    await a.files.create({ file: await toFile(Buffer.alloc(1000, 'd'), 'fits.jsonl'), purpose: 'batch' });
    await a.files.delete(kept.id);
    await a.files.create({ file: await toFile(Buffer.alloc(3000, 'e'), 'again.jsonl'), purpose: 'batch' });
  });

  test('refuses an upload whose length exceeds the room left before reading it, and a chunked one as its bytes pass the quota', async () => {
    const big = Buffer.alloc(200_000, 'x');
    await expectApiError(b.files.create({ file: await toFile(big, 'big.jsonl'), purpose: 'batch' }), 400, 'storage_quota_exceeded', 'file');
    // No Content-Length: the bytes themselves pass the quota.
    const boundary = 'quota-boundary';
    const head = Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="x.jsonl"\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY_B}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(head);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(1000, 'y'));
      req.end(tail);
    });
    assert.equal(status.code, 400);
    assert.equal(JSON.parse(status.body).error.code, 'storage_quota_exceeded');
    assert.equal(JSON.parse(status.body).error.param, 'file');
    assert.ok(!storedNames(server).some((n) => n.endsWith('.part')));
  });
});

describe('uploads on a full disk, through the official SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ PARLEY_API_KEYS: KEY_A });
  });
  after(async () => {
    mock.restoreAll();
    await server.close();
  });

  test('answer 507 insufficient_storage (not a 400 or 500), keep nothing, and work again once there is room', async () => {
    const a = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
    const open = fsp.open.bind(fsp);
    // Every upload's bytes go to a `.part` file first: its writes fail as on a full disk.
    const opened = mock.method(fsp, 'open', async (file: string, ...rest: unknown[]) => {
      const fh = await (open as (...a: unknown[]) => Promise<fsp.FileHandle>)(file, ...rest);
      if (String(file).endsWith('.part')) {
        fh.write = (async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        }) as unknown as fsp.FileHandle['write'];
      }
      return fh;
    });
    const err = await expectApiError(
      a.files.create({ file: await toFile(Buffer.alloc(100_000, 'z'), 'full.jsonl'), purpose: 'batch' }),
      507,
      'insufficient_storage',
    );
    assert.equal(err.headers?.get('retry-after') !== null, true);
    assert.deepEqual(storedNames(server), []);
    opened.mock.restore();
    const ok = await a.files.create({ file: await toFile(JSONL, 'room.jsonl'), purpose: 'batch' });
    assert.equal(ok.bytes, JSONL.length);
  });
});
