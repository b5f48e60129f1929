import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { installAuth } from '../auth.js';
import { installErrorHandling } from '../error-handler.js';
import { PAGE_PATHS, webRoutes } from './web.js';

describe('the playground served at /', () => {
  let dir: string;
  let app: FastifyInstance;
  const INDEX = '<!doctype html><title>Parley</title><script type="module" src="/assets/index-Ab12.js"></script>';
  const SCRIPT = 'console.log("hi")';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-web-root-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
    fs.writeFileSync(path.join(dir, 'assets', 'index-Ab12.js'), SCRIPT);
    fs.writeFileSync(path.join(dir, 'assets', 'index-Cd34.css'), 'body{}');
    fs.writeFileSync(path.join(dir, 'notes.md'), 'not part of the page');
    app = Fastify({ logger: false });
    installErrorHandling(app, 1024 * 1024);
    installAuth(app, { keys: ['sk-secret'], internalToken: 'test-internal-token' });
    app.get('/v1/models', async () => ({ object: 'list', data: [] }));
    webRoutes(app, { root: dir });
    await app.ready();
  });
  after(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers the page’s own paths with index.html, revalidated on every load, and needs no key', async () => {
    for (const url of PAGE_PATHS) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.body, INDEX);
    }
  });

  it('serves the hashed assets with their content types, cached for a year, and 304 for a known ETag', async () => {
    const js = await app.inject({ url: '/assets/index-Ab12.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.body, SCRIPT);
    const css = await app.inject({ url: '/assets/index-Cd34.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const again = await app.inject({ url: '/assets/index-Ab12.js', headers: { 'if-none-match': String(js.headers.etag) } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('never shadows the API: other paths keep their key check and their 404 in OpenAI’s shape', async () => {
    assert.equal((await app.inject({ url: '/v1/models' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/v1/models', headers: { authorization: 'Bearer sk-secret' } })).statusCode, 200);
    for (const url of ['/v1/nothing', '/openai/deployments', '/talk/deeper', '/notes.md', '/assets/missing.js', '/assets/..%2f..%2fpackage.json']) {
      const res = await app.inject({ url, headers: { authorization: 'Bearer sk-secret' } });
      assert.equal(res.statusCode, 404, url);
      assert.equal(JSON.parse(res.body).error.code, 'unknown_url', url);
    }
    // Without a key an unknown path is refused before it is looked up, as before.
    assert.equal((await app.inject({ url: '/v1/nothing' })).statusCode, 401);
  });

  it('says how to build the page when it was not built', async () => {
    const bare = Fastify({ logger: false });
    webRoutes(bare, { root: path.join(dir, 'missing') });
    const res = await bare.inject({ url: '/' });
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /npm run build:web/);
    await bare.close();
  });
});
