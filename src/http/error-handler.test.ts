import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { installErrorHandling } from './error-handler.js';
import { ApiError, isDiskFull } from './errors.js';

/** A real SQLITE_FULL: a database capped at its current page count, then asked to grow. */
function sqliteFull(): unknown {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-full-'));
  const db = new Database(path.join(dir, 'x.db'));
  try {
    db.exec('CREATE TABLE t (x BLOB)');
    const pages = (db.pragma('page_count', { simple: true }) as number) + 1;
    db.pragma(`max_page_count = ${pages}`);
    try {
      db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(1 << 20));
    } catch (e) {
      return e;
    }
    assert.fail('expected SQLITE_FULL');
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('a full disk is a 507 insufficient_storage, not a 500', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

  it('recognises ENOSPC, EDQUOT and SQLITE_FULL, also as a cause', () => {
    const full = sqliteFull();
    assert.equal((full as { code?: string }).code, 'SQLITE_FULL');
    assert.ok(isDiskFull(full));
    assert.ok(isDiskFull(enospc));
    assert.ok(isDiskFull(new Error('wrapped', { cause: Object.assign(new Error('q'), { code: 'EDQUOT' }) })));
    assert.ok(!isDiskFull(Object.assign(new Error('gone'), { code: 'ENOENT' })));
    assert.ok(!isDiskFull(undefined));
  });

  it('answers 507 with the OpenAI error shape and retry-after, thrown bare or wrapped in a 500', async () => {
    const app = Fastify({ logger: false });
    installErrorHandling(app, 1024);
    app.get('/fs', async () => {
      throw enospc;
    });
    app.get('/sqlite', async () => {
      throw sqliteFull();
    });
    app.get('/wrapped', async () => {
      throw ApiError.internal(enospc);
    });
    app.get('/other', async () => {
      throw new Error('boom');
    });
    await app.ready();
    for (const url of ['/fs', '/sqlite', '/wrapped']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 507, url);
      assert.deepEqual(Object.keys(res.json().error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(res.json().error.code, 'insufficient_storage');
      assert.equal(res.json().error.type, 'server_error');
      assert.ok(Number(res.headers['retry-after']) > 0);
    }
    assert.equal((await app.inject({ method: 'GET', url: '/other' })).statusCode, 500);
    await app.close();
  });

  it('closes the connection after an error answered before the request body was read to its end', async () => {
    const app = Fastify({ logger: false });
    installErrorHandling(app, 1 << 20);
    app.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null));
    app.post('/upload', async () => {
      throw enospc;
    });
    app.post('/json', async () => {
      throw ApiError.invalidRequest('x', 'bad');
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const post = (path: string, body: Buffer, type: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(`${address}${path}`, { method: 'POST', headers: { 'content-type': type, 'content-length': body.length } });
        req.on('response', (res) => {
          res.resume();
          resolve(res);
        });
        req.on('error', reject);
        req.end(body);
      });
    const cut = await post('/upload', Buffer.alloc(4 << 20), 'application/octet-stream');
    assert.equal(cut.statusCode, 507);
    assert.equal(cut.headers.connection, 'close');
    const whole = await post('/json', Buffer.from('{}'), 'application/json');
    assert.equal(whole.statusCode, 400);
    assert.notEqual(whole.headers.connection, 'close');
    await app.close();
  });
});

describe('a client that leaves mid-answer', () => {
  it('is logged at info as a 499, not as an error, when its work fails with a premature close', async () => {
    const lines: Array<{ level: number; msg?: string; status?: number }> = [];
    const app = Fastify({ logger: { level: 'info', stream: { write: (l: string) => void lines.push(JSON.parse(l)) } } });
    installErrorHandling(app, 1024);
    app.get('/work', async (request) => {
      // The work reads a stream tied to the client; it closes under the work when the client leaves.
      await new Promise<void>((resolve) => request.raw.socket.once('close', () => resolve()));
      throw Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const req = http.get(`${address}/work`);
    req.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    for (let i = 0; i < 100 && !lines.some((l) => l.status === 499); i++) await new Promise((r) => setTimeout(r, 10));
    await app.close();
    assert.deepEqual(
      lines.filter((l) => l.level >= 50).map((l) => l.msg),
      [],
    );
    assert.ok(lines.some((l) => l.level === 30 && l.status === 499 && /disconnected/.test(l.msg ?? '')));
  });
});
