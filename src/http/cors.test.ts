import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { ConfigError, loadConfig } from '../config/load.js';
import { installAuth } from './auth.js';
import { installCors } from './cors.js';
import { installErrorHandling } from './error-handler.js';

async function app(origins: string[], keys: string[] = ['sk-k']) {
  const a = Fastify({ logger: false });
  installErrorHandling(a, 1024);
  await installCors(a, origins);
  installAuth(a, { keys, internalToken: 'test-internal-token' });
  a.post('/v1/chat/completions', async (_req, reply) => reply.header('x-request-id', 'req_1').send({ ok: true }));
  await a.ready();
  return a;
}

const preflight = (origin: string) => ({
  method: 'OPTIONS' as const,
  url: '/v1/chat/completions',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-stainless-os' },
});

describe('CORS for pages on other origins', () => {
  it('is off by default: no other origin is allowed to read a response', async () => {
    const a = await app([]);
    const res = await a.inject({ method: 'POST', url: '/v1/chat/completions', headers: { origin: 'https://elsewhere.example', authorization: 'Bearer sk-k' } });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.notEqual((await a.inject(preflight('https://elsewhere.example'))).statusCode, 204);
    await a.close();
  });

  it('answers the preflight of an allowed origin without a key, and lets it read answers, errors and x-request-id', async () => {
    const a = await app(['https://app.example']);
    const pre = await a.inject(preflight('https://app.example'));
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    assert.match(String(pre.headers['access-control-allow-headers']), /authorization/);

    const ok = await a.inject({ method: 'POST', url: '/v1/chat/completions', headers: { origin: 'https://app.example', authorization: 'Bearer sk-k' } });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
    assert.match(String(ok.headers['access-control-expose-headers']), /x-request-id/);
    const refused = await a.inject({ method: 'POST', url: '/v1/chat/completions', headers: { origin: 'https://app.example' } });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['access-control-allow-origin'], 'https://app.example');

    const other = await a.inject({ method: 'POST', url: '/v1/chat/completions', headers: { origin: 'https://evil.example', authorization: 'Bearer sk-k' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    await a.close();
  });

  it('allows every origin with *', async () => {
    const a = await app(['*']);
    assert.equal((await a.inject(preflight('https://any.example'))).headers['access-control-allow-origin'], '*');
    await a.close();
  });

  it('is configured by PARLEY_CORS_ORIGINS (or cors.origins), and a malformed origin stops the start', () => {
    const config = loadConfig({ env: { PARLEY_DATA_DIR: '/tmp/x', PARLEY_CORS_ORIGINS: 'https://a.example, http://localhost:5173' } });
    assert.deepEqual(config.cors.origins, ['https://a.example', 'http://localhost:5173']);
    assert.deepEqual(loadConfig({ env: { PARLEY_DATA_DIR: '/tmp/x' } }).cors.origins, []);
    assert.throws(
      () => loadConfig({ env: { PARLEY_DATA_DIR: '/tmp/x', PARLEY_CORS_ORIGINS: 'https://a.example/path' } }),
      (e: unknown) => e instanceof ConfigError && /cors\.origins\.0/.test(e.message),
    );
  });
});
