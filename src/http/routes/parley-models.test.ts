import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pullOnServer, RemotePullError } from '../../cli/models-remote.js';
import { loadConfig } from '../../config/index.js';
import { ModelCache } from '../../store/model-cache/cache.js';
import type { CatalogueEntry } from '../../store/model-cache/catalogue.js';
import { randomFile, startTestServer, type TestServer } from '../../store/model-cache/test-server.js';
import { installAuth } from '../auth.js';
import { installErrorHandling } from '../error-handler.js';
import { parleyModelRoutes } from './parley-models.js';

const big = randomFile(3 * 1024 * 1024 + 5);
const small = randomFile(40_000);

function catalogue(base: string): CatalogueEntry[] {
  const entry = (name: string, file: { data: Buffer; sha256: string }): CatalogueEntry => ({
    name,
    kind: 'asr',
    engine: 'test',
    description: `test model ${name}`,
    licence: 'MIT',
    main: 'model.bin',
    files: [{ path: 'model.bin', url: `${base}/org/${name}/resolve/abc/model.bin`, sha256: file.sha256, size: file.data.length }],
  });
  return [entry('big-model', big), entry('small-model', small), entry('slow-model', big)];
}

/** Server-sent events of a finished response, parsed. */
function events(body: string): any[] {
  return body
    .split('\n\n')
    .map((block) => block.replace(/^data: /, '').trim())
    .filter((d) => d.length > 0)
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}

describe('the model admin endpoints (/v1/parley/models)', () => {
  let files: TestServer;
  let app: FastifyInstance;
  let url: string;
  let dir: string;
  const KEY = 'sk-admin-test';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'parley-admin-models-'));
    files = await startTestServer({
      '/org/big-model/resolve/abc/model.bin': big.data,
      '/org/small-model/resolve/abc/model.bin': small.data,
      '/org/slow-model/resolve/abc/model.bin': big.data,
    });
    const config = loadConfig({ env: { PARLEY_DATA_DIR: dir, PARLEY_API_KEYS: KEY, PARLEY_LOG_LEVEL: 'silent' } });
    const cache = new ModelCache(path.join(dir, 'models'), {
      offline: false,
      catalogue: catalogue(files.url),
      download: { connectTimeoutMs: 2000, stallTimeoutMs: 60_000, retries: 0, retryDelayMs: 10 },
    });
    app = Fastify({ logger: false });
    installErrorHandling(app, config.bodyLimitBytes);
    installAuth(app, { keys: config.apiKeys, internalToken: 'test-internal-token' });
    parleyModelRoutes(app, { config }, { cache });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    await files.close();
    await rm(dir, { recursive: true, force: true });
  });

  const auth = { authorization: `Bearer ${KEY}` };

  it('needs a key when keys are configured', async () => {
    const res = await fetch(`${url}/v1/parley/models`);
    assert.equal(res.status, 401);
  });

  it('lists every capability with its engine and state, and the catalogue with what is installed', async () => {
    const res = await fetch(`${url}/v1/parley/models`, { headers: auth });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.object, 'parley.models');
    assert.deepEqual(
      body.capabilities.map((c: any) => c.capability),
      ['chat', 'transcription', 'speech', 'vad', 'voice_analysis'],
    );
    for (const c of body.capabilities) {
      assert.ok(['ready', 'missing', 'upstream'].includes(c.state), JSON.stringify(c));
      assert.equal(typeof c.engine, 'string');
      assert.ok(Array.isArray(c.pull) && Array.isArray(c.upgrades));
      // Clients never see local paths.
      assert.doesNotMatch(JSON.stringify(c), new RegExp(dir.replaceAll('/', '\\/')));
    }
    const chat = body.capabilities.find((c: any) => c.capability === 'chat');
    assert.deepEqual([chat.state, chat.pull], ['missing', ['qwen2.5-0.5b-instruct']]);
    assert.deepEqual(
      body.data.map((m: any) => [m.name, m.installed, m.size_bytes]),
      [
        ['big-model', false, big.data.length],
        ['small-model', false, small.data.length],
        ['slow-model', false, big.data.length],
      ],
    );
  });

  it('streams a pull as server-sent events, bytes done out of the total, and the model is then installed', async () => {
    const res = await fetch(`${url}/v1/parley/models/big-model/pull`, { method: 'POST', headers: auth });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const list = events(await res.text());
    assert.equal(list.at(-1), '[DONE]');
    const done = list.at(-2);
    assert.equal(done.status, 'completed');
    assert.deepEqual([done.bytes_done, done.bytes_total, done.downloaded], [big.data.length, big.data.length, ['model.bin']]);
    const progress = list.filter((e) => e.status === 'downloading');
    assert.ok(progress.length >= 1);
    for (const [i, e] of progress.entries()) {
      assert.equal(e.bytes_total, big.data.length);
      if (i > 0) assert.ok(e.bytes_done >= progress[i - 1].bytes_done);
    }
    const listed = (await (await fetch(`${url}/v1/parley/models`, { headers: auth })).json()) as any;
    assert.equal(listed.data.find((m: any) => m.name === 'big-model').installed, true);
  });

  it('is what `parley models pull --url` follows: progress, then the result', async () => {
    const seen: number[] = [];
    const result = await pullOnServer({ url, key: KEY, name: 'small-model', onProgress: (done) => seen.push(done) });
    assert.deepEqual(result, { downloaded: ['model.bin'], skipped: [], transferred: small.data.length });
    assert.equal(seen.at(-1), small.data.length);
    // Pulled again: verified, nothing downloaded.
    const again = await pullOnServer({ url, key: KEY, name: 'small-model' });
    assert.deepEqual(again, { downloaded: [], skipped: ['model.bin'], transferred: 0 });
  });

  it('answers once with {"stream": false}', async () => {
    const res = await fetch(`${url}/v1/parley/models/small-model/pull`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ stream: false }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      object: 'parley.model.pull',
      model: 'small-model',
      status: 'completed',
      downloaded: [],
      skipped: ['model.bin'],
      transferred_bytes: 0,
    });
  });

  it('says which models exist when asked for an unknown one', async () => {
    const res = await fetch(`${url}/v1/parley/models/nope/pull`, { method: 'POST', headers: auth });
    assert.equal(res.status, 404);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'model_not_found');
    assert.match(body.error.message, /big-model, small-model, slow-model/);
    await assert.rejects(pullOnServer({ url, key: KEY, name: 'nope' }), (e: unknown) => e instanceof RemotePullError && e.code === 'model_not_found');
  });

  it('goes on when the client leaves, and stops on DELETE (the CLI sends it on Ctrl-C)', async () => {
    files.stallAfter(64 * 1024);
    const leaving = new AbortController();
    const first = await fetch(`${url}/v1/parley/models/slow-model/pull`, { method: 'POST', headers: auth, signal: leaving.signal });
    const reader = first.body!.getReader();
    await reader.read(); // the first progress event
    leaving.abort();
    // Still running on the server: listed with its progress.
    const listed = (await (await fetch(`${url}/v1/parley/models`, { headers: auth })).json()) as any;
    assert.ok(listed.data.find((m: any) => m.name === 'slow-model').pulling, 'the pull goes on');

    const interrupt = new AbortController();
    const followed = pullOnServer({ url, key: KEY, name: 'slow-model', signal: interrupt.signal });
    setTimeout(() => interrupt.abort(), 200);
    await assert.rejects(followed, (e: unknown) => e instanceof RemotePullError && e.code === 'request_cancelled');
    for (let i = 0; i < 50; i++) {
      const now = (await (await fetch(`${url}/v1/parley/models`, { headers: auth })).json()) as any;
      if (!now.data.find((m: any) => m.name === 'slow-model').pulling) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail('the pull was not stopped');
  });

  it('says so when no pull of that model is running', async () => {
    const res = await fetch(`${url}/v1/parley/models/big-model/pull`, { method: 'DELETE', headers: auth });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as any).error.code, 'pull_not_found');
  });
});
