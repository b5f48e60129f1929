import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { AzureOpenAI } from 'openai';
import { expectApiError } from './helpers/errors.js';
import { type LogLine, startTestServer, type TestServer, tempDir } from './helpers/server.js';

const ADMIN = 'sk-admin-0123456789abcdef';
const STATIC = 'sk-static-unlimited';
/** The rate window of these tests, seconds (PARLEY_RATE_WINDOW_SEC): short, so a window passes within a test. */
const WINDOW_SEC = 2;
const RATE_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];

/** One HTTP exchange the SDK made, seen through its `fetch` option. */
interface Call {
  status: number;
  headers: Headers;
  sentAt: number;
  answeredAt: number;
}

/** An official SDK client whose every HTTP call is recorded. */
function recordingClient(server: TestServer, apiKey: string, maxRetries: number): { client: OpenAI; calls: Call[] } {
  const calls: Call[] = [];
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey,
    maxRetries,
    fetch: async (url, init) => {
      const sentAt = performance.now();
      const res = await fetch(url, init);
      calls.push({ status: res.status, headers: res.headers, sentAt, answeredAt: performance.now() });
      return res;
    },
  });
  return { client, calls };
}

/** Waits until a fresh rate window has just begun, so a few quick requests fall into one window. */
async function startOfWindow(): Promise<void> {
  const ms = WINDOW_SEC * 1000;
  await new Promise((r) => setTimeout(r, ms - (Date.now() % ms) + 20));
}

describe('API keys with limits, through the official SDK', () => {
  let server: TestServer;
  const log: LogLine[] = [];

  /** Calls the admin API with the admin key (or `key`). */
  async function admin(method: string, path: string, body?: unknown, key = ADMIN): Promise<{ status: number; json: any }> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  async function createKey(body: Record<string, unknown>): Promise<{ key: string; id: string }> {
    const { status, json } = await admin('POST', '/v1/parley/keys', body);
    assert.equal(status, 200, JSON.stringify(json));
    return { key: json.key, id: json.id };
  }

  /** Requests the server received for a path (from its log), to count what a client really sent. */
  function received(path: string): number {
    return log.filter((l) => l.msg === 'incoming request' && (l.req as { url?: string } | undefined)?.url === path).length;
  }

  before(async () => {
    server = await startTestServer({ PARLEY_ADMIN_KEY: ADMIN, PARLEY_API_KEYS: STATIC, PARLEY_RATE_WINDOW_SEC: String(WINDOW_SEC) }, { log });
  });
  after(async () => {
    await server.close();
  });

  test('the admin API makes a key shown once, lists and shows it without the key, and refuses other keys', async () => {
    const created = await admin('POST', '/v1/parley/keys', {
      alias: 'team-a',
      rpm_limit: 60,
      tpm_limit: 1000,
      max_budget_usd: 5,
      budget_duration: '30d',
      metadata: { team: 'a' },
    });
    assert.equal(created.status, 200);
    assert.match(created.json.key, /^sk-parley-/);
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(created.json.key).digest('hex');
    assert.equal(created.json.id, `key_${hash.slice(0, 16)}`);
    assert.equal(created.json.budget_duration, '30d');
    assert.equal(created.json.status, 'active');

    const listed = await admin('GET', '/v1/parley/keys');
    const entry = listed.json.data.find((k: { id: string }) => k.id === created.json.id);
    assert.equal(entry.alias, 'team-a');
    assert.equal(entry.key, undefined);
    assert.ok(!JSON.stringify(listed.json).includes(created.json.key));

    const shown = await admin('GET', '/v1/parley/keys/team-a');
    assert.equal(shown.json.id, created.json.id);
    assert.equal(shown.json.spend_usd, 0);
    assert.equal(shown.json.metadata.team, 'a');

    // Neither an unlimited PARLEY_API_KEYS key nor a handed-out key administers once an admin key is set.
    assert.equal((await admin('GET', '/v1/parley/keys', undefined, STATIC)).status, 403);
    assert.equal((await admin('GET', '/v1/parley/keys', undefined, created.json.key)).status, 403);
    assert.equal((await admin('POST', '/v1/parley/keys', { rpm_limit: -1 })).json.error.param, 'rpm_limit');
    assert.equal((await admin('POST', '/v1/parley/keys', { alias: 'team-a' })).json.error.code, 'alias_taken');
    assert.equal((await admin('GET', '/v1/parley/keys/key_0000000000000000')).status, 404);
  });

  test('a key with rpm_limit 3 gets its 4th request in the window as 429 with the headers; the SDK waits retry-after-ms and then succeeds', async () => {
    const { key } = await createKey({ rpm_limit: 3 });
    const { client, calls } = recordingClient(server, key, 0);
    await startOfWindow();
    for (let i = 0; i < 3; i++) await client.models.list();
    assert.deepEqual(
      calls.map((c) => c.headers.get('x-ratelimit-remaining-requests')),
      ['2', '1', '0'],
    );
    assert.equal(calls[0]!.headers.get('x-ratelimit-limit-requests'), '3');
    assert.match(calls[0]!.headers.get('x-ratelimit-reset-requests')!, /^(\d+ms|\d+(\.\d+)?s)$/);
    assert.equal(calls[0]!.headers.get('x-ratelimit-limit-tokens'), null, 'no token headers for a key without a token limit');

    const e = await expectApiError(client.models.list(), 429, 'rate_limit_exceeded', null);
    assert.ok(e instanceof OpenAI.RateLimitError);
    assert.equal(e.type, 'requests');
    assert.match(e.message, /requests per 2 s \(RPM\): Limit 3, Used 3, Requested 1/);
    const retryMs = Number(e.headers!.get('retry-after-ms'));
    assert.ok(retryMs > 0 && retryMs <= WINDOW_SEC * 1000, String(retryMs));
    assert.equal(e.headers!.get('retry-after'), String(Math.ceil(retryMs / 1000)));
    assert.equal(e.headers!.get('x-ratelimit-remaining-requests'), '0');

    // The SDK's own retry: one 429, a wait of retry-after-ms, then success in the next window.
    const retrying = recordingClient(server, key, 1);
    const list = await retrying.client.models.list();
    assert.ok(list.data.length > 0);
    assert.deepEqual(
      retrying.calls.map((c) => c.status),
      [429, 200],
    );
    const [first, second] = retrying.calls as [Call, Call];
    const asked = Number(first.headers.get('retry-after-ms'));
    assert.ok(second.sentAt - first.answeredAt >= asked - 2, `retried after ${second.sentAt - first.answeredAt} ms, asked ${asked} ms`);
    assert.equal(second.headers.get('x-ratelimit-remaining-requests'), '2');
  });

  test('tpm_limit counts tokens and answers 429 of type tokens', async () => {
    const { key } = await createKey({ tpm_limit: 50 });
    const { client, calls } = recordingClient(server, key, 0);
    await startOfWindow();
    const input = 'The weather today is calm and the sea is quiet. '.repeat(2).trim(); // 95 characters: 24 tokens
    await client.moderations.create({ model: 'omni-moderation-latest', input });
    assert.equal(calls[0]!.headers.get('x-ratelimit-limit-tokens'), '50');
    assert.equal(calls[0]!.headers.get('x-ratelimit-remaining-tokens'), '26');
    await client.moderations.create({ model: 'omni-moderation-latest', input });
    const e = await expectApiError(client.moderations.create({ model: 'omni-moderation-latest', input }), 429, 'rate_limit_exceeded', null);
    assert.equal(e.type, 'tokens');
    assert.match(e.message, /tokens per 2 s \(TPM\): Limit 50, Used 48, Requested 24/);
    assert.ok(Number(e.headers!.get('retry-after-ms')) > 0);
  });

  test('audio is estimated from its length before the request (10 tokens a second) and settled on what was billed after', async () => {
    // An hour-long window; the two requests are repeated in the rare case they straddle two.
    const WINDOW_MS = 3600_000;
    const slow = await startTestServer({ PARLEY_ADMIN_KEY: ADMIN, PARLEY_RATE_WINDOW_SEC: String(WINDOW_MS / 1000), PARLEY_ASR_ENGINE: 'pocketsphinx' });
    try {
      const wav = fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'speech', 'allison-agent-pass.wav'));
      for (let attempt = 0; ; attempt++) {
        const made = await fetch(`${slow.url}/v1/parley/keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tpm_limit: 1000 }),
        });
        const { key } = (await made.json()) as { key: string };
        const { client, calls } = recordingClient(slow, key, 0);
        const window = Math.floor(Date.now() / WINDOW_MS);
        const spoken = (await client.moderations.create({
          input: [{ type: 'input_audio', input_audio: { data: wav.toString('base64'), format: 'wav' } }] as never,
        })) as unknown as { results: Array<{ transcript: string }> };
        await client.moderations.create({ input: 'abcdefgh' });
        if (Math.floor(Date.now() / WINDOW_MS) !== window && attempt === 0) continue;
        // 3.285 s of 8 kHz WAV: 33 tokens estimated from its header.
        assert.equal(calls[0]!.headers.get('x-ratelimit-remaining-tokens'), String(1000 - 33));
        // Billed: the transcript, as text (4 characters a token); the next request sees that, not the estimate.
        const billed = Math.ceil(spoken.results[0]!.transcript.length / 4);
        assert.notEqual(billed, 33);
        assert.equal(calls[1]!.headers.get('x-ratelimit-remaining-tokens'), String(1000 - billed - 2));
        break;
      }
    } finally {
      await slow.close();
    }
  });

  test('an exhausted budget answers 429 insufficient_quota with x-should-retry: false, and the SDK does not retry', async () => {
    // One short speech costs its text and audio tokens at OpenAI's list prices (moderations are free):
    // far more than this budget.
    const { key, id } = await createKey({ max_budget_usd: 0.000001, budget_duration: '1d' });
    const speech = { model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'The sea is quiet today.', response_format: 'wav' } as const;
    const { client } = recordingClient(server, key, 0);
    await (await client.audio.speech.create(speech)).arrayBuffer();
    const before = received('/v1/audio/speech');
    const retrying = recordingClient(server, key, 2);
    const e = await expectApiError(retrying.client.audio.speech.create(speech), 429, 'insufficient_quota', null);
    assert.equal(e.type, 'insufficient_quota');
    assert.equal(e.headers!.get('x-should-retry'), 'false');
    assert.equal(retrying.calls.length, 1, 'the SDK must not retry an exhausted budget');
    assert.equal(received('/v1/audio/speech') - before, 1, 'the server saw exactly one request');
    // The spend shown is the ledger's cost of the key's one speech.
    const shown = await admin('GET', `/v1/parley/keys/${id}`);
    // (read by the admin: the key itself is refused everything now, /v1/usage included)
    const own = (await admin('GET', `/v1/usage?api_key_id=${id}`)).json as { requests: number; openai_cost_usd: { total: number } };
    assert.equal(own.requests, 1);
    assert.ok(own.openai_cost_usd.total > 0.000001);
    assert.equal(shown.json.spend_usd, own.openai_cost_usd.total);
  });

  test('a revoked key gets 401 at once, and an expired key too', async () => {
    const { key, id } = await createKey({ alias: 'short-lived' });
    const { client } = recordingClient(server, key, 0);
    await client.models.list();
    const revoked = await admin('DELETE', `/v1/parley/keys/${id}`);
    assert.deepEqual(revoked.json, { object: 'parley.api_key.deleted', id, deleted: true });
    const e = await expectApiError(client.models.list(), 401, 'invalid_api_key', null);
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.match(e.message, /revoked/);
    const listed = await admin('GET', '/v1/parley/keys?include_revoked=true');
    assert.equal(listed.json.data.find((k: { id: string }) => k.id === id).status, 'revoked');

    const expiring = await createKey({ duration: '1s' });
    const c2 = recordingClient(server, expiring.key, 0).client;
    await new Promise((r) => setTimeout(r, 2100));
    const e2 = await expectApiError(c2.models.list(), 401, 'invalid_api_key', null);
    assert.match(e2.message, /expired/);
  });

  test('a key limited to some models gets 403 model_not_found for others and sees only its models', async () => {
    const { key } = await createKey({ models: ['tts-1'] });
    const { client } = recordingClient(server, key, 0);
    const e = await expectApiError(client.moderations.create({ model: 'omni-moderation-latest', input: 'hi' }), 403, 'model_not_found', 'model');
    assert.ok(e instanceof OpenAI.PermissionDeniedError);
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['tts-1'],
    );
    await expectApiError(client.models.retrieve('whisper-1'), 404, 'model_not_found');
    const speech = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', response_format: 'wav' });
    assert.ok((await speech.arrayBuffer()).byteLength > 44);
  });

  test('max_parallel_requests: a second request while one is in progress gets 429; after it ends the next is taken', async () => {
    const { key } = await createKey({ max_parallel_requests: 1 });
    const { client } = recordingClient(server, key, 0);
    // A speech response in progress: its headers are in, and minutes of audio are not read by the client.
    const first = await client.audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'This is one of many sentences. '.repeat(120),
      response_format: 'wav',
    });
    const e = await expectApiError(client.models.list(), 429, 'rate_limit_exceeded', null);
    assert.match(e.message, /in progress/);
    await first.body!.cancel();
    // The place is given back when the response closes.
    for (let i = 0; i < 50; i++) {
      try {
        await client.models.list();
        return;
      } catch (error) {
        if (!(error instanceof OpenAI.RateLimitError)) throw error;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.fail('the parallel place was not given back');
  });

  test("Azure routes answer a key's 429 in Azure's form", async () => {
    const { key } = await createKey({ rpm_limit: 1 });
    const azure = new AzureOpenAI({ endpoint: server.url, apiKey: key, apiVersion: '2025-01-01-preview', deployment: 'tts-1', maxRetries: 0 });
    await startOfWindow();
    await azure.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', response_format: 'wav' });
    try {
      await azure.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', response_format: 'wav' });
      assert.fail('expected a 429');
    } catch (error) {
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      const body = error.error as { code: string; message: string };
      assert.equal(body.code, '429');
      assert.match(
        body.message,
        /^Requests to the Speech_Create Operation under Azure OpenAI API version 2025-01-01-preview .* Please retry after \d+ seconds?\./,
      );
      assert.ok(Number(error.headers!.get('retry-after-ms')) > 0);
    }
  });

  test('PARLEY_API_KEYS keys and the admin key stay unlimited: no rate headers', async () => {
    const { client, calls } = recordingClient(server, STATIC, 0);
    for (let i = 0; i < 5; i++) await client.models.list();
    for (const h of RATE_HEADERS) assert.equal(calls[0]!.headers.get(h), null, h);
    await recordingClient(server, ADMIN, 0).client.models.list();
    await expectApiError(recordingClient(server, 'sk-nobody', 0).client.models.list(), 401, 'invalid_api_key');
  });
});

describe('parley keys create | list | show | revoke', () => {
  const ROOT = path.resolve(import.meta.dirname, '..');
  let dataDir: string;
  let server: TestServer;

  /** Runs the CLI on the shared data folder; resolves with its exit code and output. */
  function parley(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args, '--data-dir', dataDir],
        { cwd: ROOT, env: { ...process.env, PARLEY_LOG_LEVEL: 'silent' } },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  before(async () => {
    dataDir = tempDir('parley-keys-cli-');
    server = await startTestServer({ PARLEY_DATA_DIR: dataDir, PARLEY_API_KEYS: STATIC });
  });
  after(async () => {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('a key made by the CLI works on a running server at once, and revoking it there refuses it at once', async () => {
    const made = await parley('keys', 'create', '--alias', 'cli-team', '--rpm', '5', '--models', 'tts-1,whisper-1', '--metadata', 'team=cli', '--json');
    assert.equal(made.code, 0, made.stderr);
    const wire = JSON.parse(made.stdout) as { id: string; key: string; rpm_limit: number; models: string[]; metadata: Record<string, string> };
    assert.match(wire.key, /^sk-parley-/);
    assert.equal(wire.rpm_limit, 5);
    assert.deepEqual(wire.models, ['tts-1', 'whisper-1']);

    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: wire.key, maxRetries: 0 });
    const { response } = await client.models.list().withResponse();
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '5');

    const plain = await parley('keys', 'create', '--alias', 'second');
    assert.equal(plain.code, 0);
    assert.match(plain.stdout.trim(), /^sk-parley-[A-Za-z0-9_-]{32}$/);
    assert.match(plain.stderr, /shown only now/);

    const listed = await parley('keys', 'list');
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(`${wire.id}\\s+cli-team\\s+active\\s+rpm 5`));
    assert.ok(!listed.stdout.includes(wire.key), 'the list never shows a key');

    const shown = await parley('keys', 'show', 'cli-team', '--json');
    assert.equal(JSON.parse(shown.stdout).metadata.team, 'cli');

    const revoked = await parley('keys', 'revoke', 'cli-team');
    assert.equal(revoked.code, 0);
    assert.equal(revoked.stdout.trim(), `revoked ${wire.id} (cli-team)`);
    await expectApiError(client.models.list(), 401, 'invalid_api_key', null);

    assert.ok(!(await parley('keys', 'list')).stdout.includes(wire.id));
    assert.match((await parley('keys', 'list', '--all')).stdout, new RegExp(`${wire.id}\\s+cli-team\\s+revoked`));
    const missing = await parley('keys', 'show', 'cli-team');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^parley: No API key with id or alias 'cli-team'/);
    const bad = await parley('keys', 'create', '--rpm', 'many');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /rpm_limit/);
  });

  test('every keys command has --help', async () => {
    for (const sub of [[], ['create'], ['list'], ['show'], ['revoke']]) {
      const r = await parley('keys', ...sub, '--help');
      assert.equal(r.code, 0, sub.join(' '));
      assert.match(r.stdout, /Usage: parley keys/);
    }
  });
});
