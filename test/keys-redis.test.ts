import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { expectApiError } from './helpers/errors.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const ADMIN = 'sk-admin-redis-0123456789';

describe('keys on Redis (PARLEY_QUEUE): two servers with their own data folders share keys and limits', () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    redis = await startRedis();
    // A minute-long window: the requests below surely fall into one.
    const env = { PARLEY_ADMIN_KEY: ADMIN, PARLEY_QUEUE: redis.url, PARLEY_BATCH_WORKER: '0', PARLEY_RATE_WINDOW_SEC: '60' };
    [a, b] = await Promise.all([startTestServer(env), startTestServer(env)]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  const client = (server: TestServer, apiKey: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });

  async function createKey(server: TestServer, body: Record<string, unknown>): Promise<{ key: string; id: string }> {
    const res = await fetch(`${server.url}/v1/parley/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as { key: string; id: string };
  }

  test('a key made on one server works on the other, and the two share its rpm_limit', async () => {
    const { key } = await createKey(a, { rpm_limit: 3 });
    const onA = client(a, key);
    const onB = client(b, key);
    const r1 = await onA.models.list().withResponse();
    const r2 = await onB.models.list().withResponse();
    const r3 = await onA.models.list().withResponse();
    assert.deepEqual(
      [r1, r2, r3].map((r) => r.response.headers.get('x-ratelimit-remaining-requests')),
      ['2', '1', '0'],
    );
    const e = await expectApiError(onB.models.list(), 429, 'rate_limit_exceeded', null);
    assert.equal(e.headers!.get('x-ratelimit-remaining-requests'), '0');
    assert.ok(Number(e.headers!.get('retry-after-ms')) > 0);
  });

  test('a key revoked on one server gets 401 at once on the other', async () => {
    const { key, id } = await createKey(a, { alias: 'shared' });
    await client(b, key).models.list();
    const res = await fetch(`${a.url}/v1/parley/keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200);
    const e = await expectApiError(client(b, key).models.list(), 401, 'invalid_api_key', null);
    assert.match(e.message, /revoked/);
  });

  test('max_parallel_requests counts requests in progress on both servers', async () => {
    const { key } = await createKey(b, { max_parallel_requests: 1 });
    // Minutes of audio not read by the client: the response stays in progress until it is cancelled.
    const first = await client(a, key).audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'This is one of many sentences. '.repeat(120),
      response_format: 'wav',
    });
    await expectApiError(client(b, key).models.list(), 429, 'rate_limit_exceeded', null);
    await first.body!.cancel();
  });
});
