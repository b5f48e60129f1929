/**
 * Archives in the model cache: `.tar.bz2` files (made here with the system's `tar` and `bzip2`)
 * are verified, unpacked into the model folder and not kept; a hostile archive writes nothing
 * outside the folder it is known to contain.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../errors.js';
import { MANIFEST_FILE, ModelCache, type ModelManifest } from './cache.js';
import type { CatalogueEntry } from './catalogue.js';
import { ArchiveError, extractTarBz2 } from './extract.js';
import { startTestServer, type TestServer } from './test-server.js';

let work: string;
let good: Buffer;

/** `tar -cjf` of `members` run in `cwd`. */
function tarBz2(cwd: string, out: string, members: string[], extra: string[] = []): Buffer {
  execFileSync('tar', ['-cjf', out, ...extra, ...members], { cwd });
  return readFileSync(out);
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'parley-extract-'));
  const src = path.join(work, 'src');
  await mkdir(path.join(src, 'espeak-ng-data', 'voices'), { recursive: true });
  await writeFile(path.join(src, 'espeak-ng-data', 'phontab'), 'phoneme table');
  await writeFile(path.join(src, 'espeak-ng-data', 'voices', 'en'), 'name english');
  await writeFile(path.join(src, 'README'), 'outside the top folder');
  good = tarBz2(src, path.join(work, 'good.tar.bz2'), ['espeak-ng-data', 'README']);
  // A member reaching out of the folder, and a link pointing out of it.
  await writeFile(path.join(work, 'escape-me.txt'), 'escaped');
  await symlink('/etc/passwd', path.join(src, 'espeak-ng-data', 'passwd-link'));
  tarBz2(src, path.join(work, 'hostile.tar.bz2'), ['espeak-ng-data', '../escape-me.txt', `${src}/README`], ['-P']);
  await rm(path.join(work, 'escape-me.txt'));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('extractTarBz2', () => {
  it('unpacks the expected top folder and nothing else', async () => {
    const dest = await mkdtemp(path.join(work, 'dest-'));
    const files = await extractTarBz2(path.join(work, 'good.tar.bz2'), dest, 'espeak-ng-data');
    // Under root 'espeak-ng-data': its entries land in the folder itself.
    assert.equal(files, 2);
    assert.equal(await readFile(path.join(dest, 'phontab'), 'utf8'), 'phoneme table');
    assert.equal(await readFile(path.join(dest, 'voices', 'en'), 'utf8'), 'name english');
    assert.deepEqual(readdirSync(dest).sort(), ['phontab', 'voices'], 'no README, no staging folder left');
  });

  it('unpacks everything under the archive root when no root folder is named', async () => {
    const dest = await mkdtemp(path.join(work, 'dest-'));
    assert.equal(await extractTarBz2(path.join(work, 'good.tar.bz2'), dest, ''), 3);
    assert.deepEqual(readdirSync(dest).sort(), ['README', 'espeak-ng-data']);
  });

  it('writes nothing outside the folder for absolute, .. and link members', async () => {
    const dest = await mkdtemp(path.join(work, 'dest-'));
    // The archive really holds the escaping member (GNU tar keeps it with -P).
    assert.match(execFileSync('tar', ['-tjPf', path.join(work, 'hostile.tar.bz2')]).toString(), /^\.\.\/escape-me\.txt$/m);
    await extractTarBz2(path.join(work, 'hostile.tar.bz2'), dest, '').catch(() => {});
    assert.equal(existsSync(path.join(work, 'escape-me.txt')), false, 'no member escaped upwards');
    assert.equal(existsSync(path.join(dest, 'espeak-ng-data', 'phontab')), true, 'the plain files are');
    assert.equal(existsSync(path.join(dest, 'espeak-ng-data', 'passwd-link')), false, 'links are not extracted');
    assert.equal(existsSync(path.join(dest, 'README')), false, 'absolute members are not extracted');
  });

  it('fails on an archive without the expected folder, leaving nothing behind', async () => {
    const dest = await mkdtemp(path.join(work, 'dest-'));
    await assert.rejects(extractTarBz2(path.join(work, 'good.tar.bz2'), dest, 'dict'), ArchiveError);
    assert.deepEqual(readdirSync(dest), []);
  });

  it('fails on bytes that are not bzip2', async () => {
    const dest = await mkdtemp(path.join(work, 'dest-'));
    const junk = path.join(work, 'junk.tar.bz2');
    await writeFile(junk, 'not bzip2 at all');
    await assert.rejects(extractTarBz2(junk, dest, 'espeak-ng-data'));
    assert.deepEqual(readdirSync(dest), []);
  });
});

describe('a catalogue model with an archive', () => {
  let server: TestServer;
  let entries: CatalogueEntry[];
  before(async () => {
    server = await startTestServer({ '/org/kokoro/resolve/abc/model.onnx': Buffer.from('onnx bytes'), '/releases/espeak-ng-data.tar.bz2': good });
    entries = [
      {
        name: 'tiny-kokoro',
        kind: 'tts',
        engine: 'kokoro',
        description: 'a model and espeak-ng data from an archive',
        licence: 'Apache-2.0',
        files: [
          { path: 'model.onnx', url: `${server.url}/org/kokoro/resolve/abc/model.onnx`, sha256: sha256(Buffer.from('onnx bytes')), size: 10 },
          {
            path: 'espeak-ng-data.tar.bz2',
            url: `${server.url}/releases/espeak-ng-data.tar.bz2`,
            sha256: sha256(good),
            size: good.length,
            extract: { format: 'tar.bz2', root: '', contains: ['espeak-ng-data/phontab'] },
          },
        ],
      },
    ];
  });
  after(() => server.close());

  it('downloads, verifies and unpacks the archive, keeps no archive, and counts the model installed', async () => {
    const dir = await mkdtemp(path.join(work, 'cache-'));
    const cache = new ModelCache(dir, { offline: false, catalogue: entries });
    const result = await cache.pull('tiny-kokoro');
    assert.deepEqual(result.downloaded, ['model.onnx', 'espeak-ng-data.tar.bz2']);
    const folder = path.join(dir, 'tiny-kokoro');
    assert.equal(await readFile(path.join(folder, 'espeak-ng-data', 'phontab'), 'utf8'), 'phoneme table');
    assert.equal(existsSync(path.join(folder, 'espeak-ng-data.tar.bz2')), false);
    const manifest = JSON.parse(await readFile(path.join(folder, MANIFEST_FILE), 'utf8')) as ModelManifest;
    assert.equal(manifest.files['espeak-ng-data.tar.bz2']?.sha256, sha256(good));
    assert.equal(manifest.files['espeak-ng-data.tar.bz2']?.extracted, true);
    assert.equal((await cache.status('tiny-kokoro')).installed, true);
    assert.equal(await cache.resolve('tiny-kokoro'), folder);

    const requests = server.requests.length;
    const again = await cache.pull('tiny-kokoro');
    assert.deepEqual(again.skipped, ['model.onnx', 'espeak-ng-data.tar.bz2']);
    assert.equal(server.requests.length, requests, 'nothing fetched the second time');
    // Offline, an unpacked model is still complete.
    const offline = new ModelCache(dir, { offline: true, catalogue: entries });
    assert.deepEqual((await offline.pull('tiny-kokoro')).skipped, ['model.onnx', 'espeak-ng-data.tar.bz2']);
  });

  it('fetches and unpacks again when the unpacked folder was deleted', async () => {
    const dir = await mkdtemp(path.join(work, 'cache-'));
    const cache = new ModelCache(dir, { offline: false, catalogue: entries });
    await cache.pull('tiny-kokoro');
    await rm(path.join(dir, 'tiny-kokoro', 'espeak-ng-data'), { recursive: true });
    assert.equal((await cache.status('tiny-kokoro')).installed, false);
    const result = await cache.pull('tiny-kokoro');
    assert.deepEqual(result.downloaded, ['espeak-ng-data.tar.bz2']);
    assert.ok(existsSync(path.join(dir, 'tiny-kokoro', 'espeak-ng-data', 'voices', 'en')));
  });

  it('refuses an archive whose checksum does not match, unpacking nothing', async () => {
    const dir = await mkdtemp(path.join(work, 'cache-'));
    const wrong = entries.map((e) => ({ ...e, files: e.files.map((f) => (f.extract ? { ...f, sha256: '0'.repeat(64) } : f)) }));
    const cache = new ModelCache(dir, { offline: false, catalogue: wrong, download: { retries: 0 } });
    await assert.rejects(cache.pull('tiny-kokoro'), (e: unknown) => e instanceof ApiError);
    assert.equal(existsSync(path.join(dir, 'tiny-kokoro', 'espeak-ng-data')), false);
  });
});
