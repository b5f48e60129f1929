import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ApiError } from '../../errors.js';
import { MANIFEST_FILE, ModelCache, type ModelManifest, mirrorUrl } from './cache.js';
import type { CatalogueEntry } from './catalogue.js';
import { isApiError, randomFile, refusedPort, startTestServer, type TestServer } from './test-server.js';

const weights = randomFile(2 * 1024 * 1024 + 7);
const config = randomFile(300);
const single = randomFile(1024 * 1024);
const unverified = randomFile(50_000);

function catalogueFor(base: string): CatalogueEntry[] {
  return [
    {
      name: 'tiny-tts',
      kind: 'tts',
      engine: 'test',
      description: 'a folder model of two files',
      licence: 'MIT',
      files: [
        { path: 'config.json', url: `${base}/org/tts/resolve/abc/config.json`, sha256: config.sha256, size: config.data.length },
        { path: 'onnx/model.onnx', url: `${base}/org/tts/resolve/abc/onnx/model.onnx`, sha256: weights.sha256, size: weights.data.length },
      ],
    },
    {
      name: 'tiny-asr',
      kind: 'asr',
      engine: 'test',
      description: 'a single-file model',
      licence: 'MIT',
      main: 'ggml-tiny.bin',
      files: [{ path: 'ggml-tiny.bin', url: `${base}/org/asr/resolve/abc/ggml-tiny.bin`, sha256: single.sha256, size: single.data.length }],
    },
    {
      name: 'tofu-llm',
      kind: 'llm',
      engine: 'test',
      description: 'no checksum known in advance',
      licence: 'Apache-2.0',
      main: 'model.gguf',
      files: [{ path: 'model.gguf', url: `${base}/org/llm/resolve/abc/model.gguf`, sha256: null, size: null }],
    },
  ];
}

describe('ModelCache', () => {
  let server: TestServer;
  let dir: string;
  let cache: ModelCache;
  const fast = { retryDelayMs: 5, connectTimeoutMs: 2000, stallTimeoutMs: 2000 };

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.files = new Map([
      ['/org/tts/resolve/abc/config.json', config.data],
      ['/org/tts/resolve/abc/onnx/model.onnx', weights.data],
      ['/org/asr/resolve/abc/ggml-tiny.bin', single.data],
      ['/org/llm/resolve/abc/model.gguf', unverified.data],
    ]);
    server.requests.length = 0;
    dir = await mkdtemp(path.join(tmpdir(), 'parley-cache-'));
    cache = new ModelCache(dir, { offline: false, catalogue: catalogueFor(server.url), download: fast });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pulls every file of a model and records them in its manifest', async () => {
    const result = await cache.pull('tiny-tts');
    assert.deepEqual(result.downloaded, ['config.json', 'onnx/model.onnx']);
    assert.equal(result.path, path.join(dir, 'tiny-tts'));
    assert.deepEqual(await readFile(path.join(dir, 'tiny-tts', 'onnx', 'model.onnx')), weights.data);
    const manifest = JSON.parse(await readFile(path.join(dir, 'tiny-tts', MANIFEST_FILE), 'utf8')) as ModelManifest;
    assert.equal(manifest.files['onnx/model.onnx']?.sha256, weights.sha256);
    assert.equal(manifest.files['onnx/model.onnx']?.size, weights.data.length);
    assert.equal(manifest.files['onnx/model.onnx']?.source, 'catalogue');
    assert.ok(!Number.isNaN(Date.parse(manifest.files['config.json']!.verifiedAt)));
    assert.equal(existsSync(path.join(dir, 'tiny-tts', 'onnx', 'model.onnx.part')), false);
  });

  it('reports pull progress up to the model total', async () => {
    const calls: Array<[number, number | null, string]> = [];
    await cache.pull('tiny-tts', { onProgress: (done, total, file) => calls.push([done, total, file]) });
    const total = config.data.length + weights.data.length;
    assert.deepEqual(calls.at(-1), [total, total, 'onnx/model.onnx']);
    assert.ok(calls.every(([done], i) => i === 0 || done >= calls[i - 1]![0]));
  });

  it('verifies and skips files already complete on a second pull', async () => {
    await cache.pull('tiny-tts');
    server.requests.length = 0;
    const again = await cache.pull('tiny-tts');
    assert.deepEqual(again.downloaded, []);
    assert.deepEqual(again.skipped, ['config.json', 'onnx/model.onnx']);
    assert.equal(server.requests.length, 0);
  });

  it('downloads again a file that was corrupted on disk', async () => {
    await cache.pull('tiny-asr');
    const file = path.join(dir, 'tiny-asr', 'ggml-tiny.bin');
    const bad = Buffer.from(single.data);
    bad[0] = bad[0]! ^ 1;
    await writeFile(file, bad);
    const again = await cache.pull('tiny-asr');
    assert.deepEqual(again.downloaded, ['ggml-tiny.bin']);
    assert.deepEqual(await readFile(file), single.data);
  });

  it('resumes a model whose pull was interrupted', async () => {
    server.cutAfter(500_000, 1, '/org/tts/resolve/abc/onnx/model.onnx');
    await assert.rejects(
      new ModelCache(dir, { offline: false, catalogue: catalogueFor(server.url), download: { ...fast, retries: 0 } }).pull('tiny-tts'),
      isApiError('model_download_failed'),
    );
    assert.equal((await cache.status('tiny-tts')).partial, true);
    server.requests.length = 0;
    const result = await cache.pull('tiny-tts');
    assert.deepEqual(result.skipped, ['config.json']);
    assert.match(server.requests[0]!.range ?? '', /^bytes=\d+-$/);
    assert.ok(result.transferred < weights.data.length);
    assert.equal((await cache.status('tiny-tts')).installed, true);
  });

  it('fails a checksum mismatch and keeps no file', async () => {
    server.files.set('/org/asr/resolve/abc/ggml-tiny.bin', Buffer.from(randomFile(single.data.length).data));
    await assert.rejects(cache.pull('tiny-asr'), isApiError('checksum_mismatch', new RegExp(`expected sha256 ${single.sha256}`)));
    assert.equal(existsSync(path.join(dir, 'tiny-asr', 'ggml-tiny.bin')), false);
    assert.equal(existsSync(path.join(dir, 'tiny-asr', 'ggml-tiny.bin.part')), false);
  });

  it('records the checksum of a file the catalogue has none for, and holds later downloads to it', async () => {
    const first = await cache.pull('tofu-llm');
    const record = first.manifest.files['model.gguf']!;
    assert.equal(record.sha256, unverified.sha256);
    assert.equal(record.source, 'trust-on-first-use');

    await rm(path.join(dir, 'tofu-llm', 'model.gguf'));
    server.files.set('/org/llm/resolve/abc/model.gguf', randomFile(unverified.data.length).data);
    await assert.rejects(cache.pull('tofu-llm'), isApiError('checksum_mismatch', /recorded in parley-manifest\.json on the first download/));
  });

  it('lists the catalogue with installed state, sizes and unknown items in the folder', async () => {
    await cache.pull('tiny-asr');
    await mkdir(path.join(dir, 'my-voice'), { recursive: true });
    await writeFile(path.join(dir, 'my-voice', 'model.onnx'), Buffer.alloc(1234));
    await writeFile(path.join(dir, 'extra.gguf'), Buffer.alloc(99));
    const rows = await cache.list();
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.deepEqual(
      rows.map((r) => r.name),
      ['tiny-tts', 'tiny-asr', 'tofu-llm', 'extra.gguf', 'my-voice'],
    );
    assert.equal(byName.get('tiny-asr')!.installed, true);
    assert.ok(byName.get('tiny-asr')!.sizeOnDisk >= single.data.length);
    assert.equal(byName.get('tiny-asr')!.size, single.data.length);
    assert.equal(byName.get('tiny-tts')!.installed, false);
    assert.equal(byName.get('tiny-tts')!.partial, false);
    assert.equal(byName.get('tiny-tts')!.size, config.data.length + weights.data.length);
    assert.equal(byName.get('tofu-llm')!.size, null);
    assert.deepEqual(
      { catalogued: byName.get('my-voice')!.catalogued, installed: byName.get('my-voice')!.installed, size: byName.get('my-voice')!.sizeOnDisk },
      { catalogued: false, installed: true, size: 1234 },
    );
    assert.equal(byName.get('extra.gguf')!.sizeOnDisk, 99);
  });

  it('resolves an installed name to its file or folder, and an existing path as is', async () => {
    await cache.pull('tiny-asr');
    await cache.pull('tiny-tts');
    assert.equal(await cache.resolve('tiny-asr', 'asr'), path.join(dir, 'tiny-asr', 'ggml-tiny.bin'));
    assert.equal(await cache.resolve('tiny-tts'), path.join(dir, 'tiny-tts'));
    const elsewhere = path.join(dir, 'tiny-asr', 'ggml-tiny.bin');
    assert.equal(await cache.resolve(elsewhere), elsewhere);
    await writeFile(path.join(dir, 'loose.gguf'), 'x');
    assert.equal(await cache.resolve('loose.gguf'), path.join(dir, 'loose.gguf'));
  });

  it('says which command to run when a model is not installed', async () => {
    await assert.rejects(cache.resolve('tiny-tts', 'tts'), isApiError('engine_unavailable', /parley models pull tiny-tts/));
    await assert.rejects(cache.resolve('/no/such/model.bin'), isApiError('engine_unavailable', /does not exist/));
    await assert.rejects(cache.resolve('nothing-like-it'), isApiError('engine_unavailable', /parley models list/));
  });

  it('rejects a model of the wrong kind', async () => {
    await assert.rejects(cache.resolve('tiny-asr', 'tts'), isApiError('invalid_value', /asr model, not tts.*'tiny-tts'/));
  });

  it('removes a model and its folder', async () => {
    await cache.pull('tiny-asr');
    const { freed } = await cache.remove('tiny-asr');
    assert.ok(freed >= single.data.length);
    assert.equal(existsSync(path.join(dir, 'tiny-asr')), false);
    assert.equal((await cache.status('tiny-asr')).installed, false);
    await assert.rejects(cache.remove('tiny-asr'), isApiError('model_not_found'));
    await assert.rejects(cache.remove('../escape'), isApiError('invalid_value'));
  });

  it('refuses to download when offline, before any request', async () => {
    const offline = new ModelCache(dir, { offline: true, catalogue: catalogueFor(server.url) });
    await assert.rejects(
      offline.pull('tiny-tts'),
      isApiError(
        'engine_unavailable',
        /PARLEY_OFFLINE=1: not downloading model 'tiny-tts' \(2 of 2 files missing\).*parley models pull tiny-tts.*config\.json ->/s,
      ),
    );
    assert.equal(server.requests.length, 0);
  });

  it('accepts an already installed model when offline, verifying it without the network', async () => {
    await cache.pull('tiny-asr');
    server.requests.length = 0;
    const offline = new ModelCache(dir, { offline: true, catalogue: catalogueFor(server.url) });
    const result = await offline.pull('tiny-asr');
    assert.deepEqual(result.skipped, ['ggml-tiny.bin']);
    assert.equal(server.requests.length, 0);
  });

  it('gives the offline message when the host refuses connections', async () => {
    const port = await refusedPort();
    const unreachable = new ModelCache(dir, { offline: false, catalogue: catalogueFor(`http://127.0.0.1:${port}`), download: fast });
    await assert.rejects(unreachable.pull('tiny-asr'), isApiError('engine_unavailable', /cannot reach 127\.0\.0\.1:\d+: are you offline\?/));
  });

  it('downloads from a mirror that replaces the catalogue host', async () => {
    const mirrored = new ModelCache(dir, {
      offline: false,
      catalogue: catalogueFor('https://models.invalid'),
      baseUrl: `${server.url}/`,
      download: fast,
    });
    const result = await mirrored.pull('tiny-asr');
    assert.deepEqual(result.downloaded, ['ggml-tiny.bin']);
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ['/org/asr/resolve/abc/ggml-tiny.bin'],
    );
    assert.equal(result.manifest.files['ggml-tiny.bin']?.url, `${server.url}/org/asr/resolve/abc/ggml-tiny.bin`);
  });

  it('maps URLs onto a mirror with a path prefix', () => {
    assert.equal(
      mirrorUrl('https://huggingface.co/org/repo/resolve/rev/f.bin?download=true', 'http://mirror.lan/hf/'),
      'http://mirror.lan/hf/org/repo/resolve/rev/f.bin?download=true',
    );
    assert.throws(() => new ModelCache(dir, { offline: false, baseUrl: 'ftp://nope' }), isApiError('invalid_value'));
  });

  it('lets a second pull of the same model join the first', async () => {
    const [a, b] = await Promise.all([cache.pull('tiny-tts'), cache.pull('tiny-tts')]);
    assert.equal(a, b);
    assert.equal(server.requests.length, 2);
  });

  it('refuses to pull or remove a model another live process is pulling', async () => {
    await mkdir(path.join(dir, '.locks'), { recursive: true });
    // The parent of this test process is alive for as long as the test runs.
    const lock = JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: new Date().toISOString() });
    await writeFile(path.join(dir, '.locks', 'tiny-asr.lock'), lock);
    await assert.rejects(cache.pull('tiny-asr'), isApiError('model_busy', new RegExp(`pid ${process.ppid}`)));
    await mkdir(path.join(dir, 'tiny-asr'));
    await assert.rejects(cache.remove('tiny-asr'), isApiError('model_busy'));
    assert.equal(server.requests.length, 0);
  });

  it('takes over the lock of a pull whose process is gone', async () => {
    await mkdir(path.join(dir, '.locks'), { recursive: true });
    const dead = JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: '2020-01-01T00:00:00Z' });
    await writeFile(path.join(dir, '.locks', 'tiny-asr.lock'), dead);
    const result = await cache.pull('tiny-asr');
    assert.deepEqual(result.downloaded, ['ggml-tiny.bin']);
    assert.equal(existsSync(path.join(dir, '.locks', 'tiny-asr.lock')), false);
  });

  it('rejects pulling a name the catalogue does not have', async () => {
    await assert.rejects(cache.pull('no-such-model'), isApiError('model_not_found', /tiny-tts, tiny-asr, tofu-llm/));
  });

  it('never writes outside the model folder, whatever the catalogue says', async () => {
    const evil = new ModelCache(dir, {
      offline: false,
      catalogue: [{ ...catalogueFor(server.url)[1]!, name: 'evil', files: [{ path: '../outside.bin', url: `${server.url}/x`, sha256: null, size: null }] }],
    });
    await assert.rejects(evil.pull('evil'), (err: unknown) => err instanceof ApiError && /outside its folder/.test(err.message));
    assert.equal(server.requests.length, 0);
  });
});
