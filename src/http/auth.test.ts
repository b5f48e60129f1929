import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { hashApiKey } from '../store/context.js';
import { INTERNAL_OWNER_HEADER, INTERNAL_TOKEN_HEADER, installAuth } from './auth.js';
import { installErrorHandling } from './error-handler.js';

async function app(keys: string[]): Promise<FastifyInstance> {
  const a = Fastify();
  installErrorHandling(a, 1_000_000);
  installAuth(a, { keys, internalToken: 'secret' });
  a.get('/v1/who', async (request) => ({ owner: request.owner }));
  a.get('/health', async () => ({ ok: true }));
  return a;
}

describe('API keys and the request owner', () => {
  test('accepts Bearer and Azure api-key headers and sets the owner to the key hash', async () => {
    const a = await app(['sk-one']);
    for (const headers of [{ authorization: 'Bearer sk-one' }, { 'api-key': 'sk-one' }, { authorization: 'bearer   sk-one ' }]) {
      const res = await a.inject({ url: '/v1/who', headers });
      assert.equal(res.statusCode, 200, JSON.stringify(headers));
      assert.equal(res.json().owner, hashApiKey('sk-one'));
    }
  });

  test('refuses a missing or wrong key with 401 invalid_api_key, masking the key', async () => {
    const a = await app(['sk-one']);
    const missing = await a.inject({ url: '/v1/who' });
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.json().error.code, 'invalid_api_key');
    const wrong = await a.inject({ url: '/v1/who', headers: { authorization: 'Bearer sk-wrong-key-1234' } });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.json().error.message, /sk-\*\*\*1234/);
    assert.ok(!wrong.body.includes('sk-wrong-key-1234'));
  });

  test('lets the health probe through without a key', async () => {
    assert.equal((await (await app(['sk-one'])).inject({ url: '/health' })).statusCode, 200);
  });

  test('owns everything by nobody when the server has no keys', async () => {
    const res = await (await app([])).inject({ url: '/v1/who', headers: { authorization: 'Bearer anything' } });
    assert.deepEqual(res.json(), { owner: null });
  });

  test('lets an in-process request with the process secret act for an accepted owner only', async () => {
    const a = await app(['sk-one']);
    const as = (token: string, owner: string) => a.inject({ url: '/v1/who', headers: { [INTERNAL_TOKEN_HEADER]: token, [INTERNAL_OWNER_HEADER]: owner } });
    assert.equal((await as('secret', hashApiKey('sk-one'))).json().owner, hashApiKey('sk-one'));
    assert.equal((await as('secret', hashApiKey('sk-revoked'))).statusCode, 401);
    assert.equal((await as('not-the-secret', hashApiKey('sk-one'))).statusCode, 401);
  });
});
