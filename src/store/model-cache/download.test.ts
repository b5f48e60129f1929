import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { downloadFile, sha256File } from './download.js';
import { isApiError, randomFile, refusedPort, startTestServer, type TestServer } from './test-server.js';

const SIZE = 3 * 1024 * 1024 + 123;
const file = randomFile(SIZE);
/** Fast retries so failure paths take milliseconds. */
const fast = { retryDelayMs: 5, connectTimeoutMs: 2000, stallTimeoutMs: 2000 };

describe('downloadFile', () => {
  let server: TestServer;
  let dir: string;
  let dest: string;
  let url: string;

  before(async () => {
    server = await startTestServer({ '/repo/model.bin': file.data });
    url = `${server.url}/repo/model.bin`;
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'parley-download-'));
    dest = path.join(dir, 'sub', 'model.bin');
    server.requests.length = 0;
    server.ignoreRange = false;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads a whole file, verifies its sha256 and leaves no .part behind', async () => {
    const progress: Array<[number, number | null]> = [];
    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, onProgress: (d, t) => progress.push([d, t]) });
    assert.equal(result.sha256, file.sha256);
    assert.equal(result.verified, true);
    assert.equal(result.size, SIZE);
    assert.equal(result.transferred, SIZE);
    assert.equal(result.resumedFrom, 0);
    assert.deepEqual(await readFile(dest), file.data);
    assert.equal(existsSync(`${dest}.part`), false);
    assert.deepEqual(progress.at(-1), [SIZE, SIZE]);
  });

  it('reports progress that grows to the total', async () => {
    const seen: number[] = [];
    await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, onProgress: (done) => seen.push(done) });
    assert.ok(seen.length > 1);
    assert.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]!));
    assert.equal(seen.at(-1), SIZE);
  });

  it('takes the size from the server when none is expected, and computes the checksum (trust on first use)', async () => {
    let lastTotal: number | null = null;
    const result = await downloadFile({ url, dest, onProgress: (_d, t) => (lastTotal = t) });
    assert.equal(result.sha256, file.sha256);
    assert.equal(result.verified, false);
    assert.equal(lastTotal, SIZE);
  });

  it('resumes an interrupted download with a Range request and transfers only the rest', async () => {
    server.cutAfter(1_000_000);
    await assert.rejects(
      downloadFile({ url, dest, sha256: file.sha256, size: SIZE, retries: 0, ...fast }),
      isApiError('model_download_failed', /run the same command again to resume/),
    );
    assert.equal(existsSync(dest), false);
    const kept = (await stat(`${dest}.part`)).size;
    assert.ok(kept > 0 && kept < SIZE, `part has ${kept} bytes`);

    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, ...fast });
    assert.equal(server.requests.length, 2);
    const [first, second] = server.requests;
    assert.equal(first!.range, null);
    assert.equal(second!.range, `bytes=${kept}-`);
    assert.equal(second!.status, 206);
    assert.equal(second!.bytesSent, SIZE - kept);
    assert.equal(result.resumedFrom, kept);
    assert.equal(result.transferred, SIZE - kept);
    assert.deepEqual(await readFile(dest), file.data);
    assert.equal(existsSync(`${dest}.part`), false);
  });

  it('retries by itself after a dropped connection, resuming where it stopped', async () => {
    server.cutAfter(700_000);
    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, ...fast });
    assert.equal(server.requests.length, 2);
    assert.match(server.requests[1]!.range ?? '', /^bytes=\d+-$/);
    assert.equal(result.transferred, SIZE);
    assert.deepEqual(await readFile(dest), file.data);
  });

  it('gives up on a stalled connection and resumes on a new one', async () => {
    server.stallAfter(500_000);
    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, ...fast, stallTimeoutMs: 200 });
    assert.equal(server.requests.length, 2);
    assert.match(server.requests[1]!.range ?? '', /^bytes=\d+-$/);
    assert.equal(result.sha256, file.sha256);
  });

  it('retries 5xx answers with backoff', async () => {
    server.failNext(503, 2);
    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, ...fast });
    assert.deepEqual(
      server.requests.map((r) => r.status),
      [503, 503, 200],
    );
    assert.equal(result.size, SIZE);
  });

  it('fails at once on a 404, naming the URL', async () => {
    await assert.rejects(downloadFile({ url: `${server.url}/repo/missing.bin`, dest, ...fast }), isApiError('model_download_failed', /HTTP 404.*missing\.bin/));
    assert.equal(server.requests.length, 1);
  });

  it('still ends correct when the server ignores Range and answers 200', async () => {
    await writePart(dest, file.data.subarray(0, 1_000_000));
    server.ignoreRange = true;
    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, ...fast });
    assert.equal(server.requests[0]!.range, 'bytes=1000000-');
    assert.equal(server.requests[0]!.status, 200);
    assert.equal(result.transferred, SIZE);
    assert.deepEqual(await readFile(dest), file.data);
  });

  it('verifies a complete .part without a request when the size is known', async () => {
    await writePart(dest, file.data);
    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE });
    assert.equal(server.requests.length, 0);
    assert.equal(result.transferred, 0);
    assert.deepEqual(await readFile(dest), file.data);
  });

  it('treats 416 on a complete .part as done once the checksum matches', async () => {
    await writePart(dest, file.data);
    const result = await downloadFile({ url, dest, sha256: file.sha256 });
    assert.deepEqual(
      server.requests.map((r) => [r.range, r.status]),
      [[`bytes=${SIZE}-`, 416]],
    );
    assert.equal(result.transferred, 0);
    assert.equal(result.sha256, file.sha256);
  });

  it('discards a .part longer than the file and starts over', async () => {
    await writePart(dest, Buffer.concat([file.data, Buffer.from('extra')]));
    const result = await downloadFile({ url, dest, sha256: file.sha256 });
    assert.deepEqual(
      server.requests.map((r) => r.status),
      [416, 200],
    );
    assert.equal(result.sha256, file.sha256);
  });

  it('downloads again from scratch once when resumed bytes turn out to be wrong', async () => {
    const stale = Buffer.from(file.data.subarray(0, 1_000_000));
    stale[10] = stale[10]! ^ 0xff;
    await writePart(dest, stale);
    await downloadFile({ url, dest, sha256: file.sha256, size: SIZE, ...fast });
    assert.deepEqual(
      server.requests.map((r) => r.range),
      ['bytes=1000000-', null],
    );
    assert.deepEqual(await readFile(dest), file.data);
  });

  it('rejects a checksum mismatch, says expected and actual, and keeps nothing', async () => {
    const wrong = 'a'.repeat(64);
    await assert.rejects(
      downloadFile({ url, dest, sha256: wrong, size: SIZE, ...fast }),
      isApiError('checksum_mismatch', new RegExp(`expected sha256 ${wrong}.*got ${file.sha256}`)),
    );
    assert.equal(existsSync(dest), false);
    assert.equal(existsSync(`${dest}.part`), false);
  });

  it('rejects a file whose size differs from the expected one before downloading it', async () => {
    await assert.rejects(downloadFile({ url, dest, sha256: file.sha256, size: SIZE + 1, ...fast }), isApiError('size_mismatch'));
    assert.equal(existsSync(`${dest}.part`), false);
  });

  it('follows redirects and sends the Range header to the final location', async () => {
    await writePart(dest, file.data.subarray(0, 2_000_000));
    const result = await downloadFile({ url: `${server.url}/redirect/repo/model.bin`, dest, sha256: file.sha256, size: SIZE });
    assert.deepEqual(
      server.requests.map((r) => [r.path, r.range, r.status]),
      [
        ['/redirect/repo/model.bin', 'bytes=2000000-', 302],
        ['/repo/model.bin', 'bytes=2000000-', 206],
      ],
    );
    assert.equal(result.requests, 2);
    assert.deepEqual(await readFile(dest), file.data);
  });

  it('refuses to download when offline is set, without any request reaching the server', async () => {
    await assert.rejects(
      downloadFile({ url, dest, sha256: file.sha256, offline: true, model: 'tiny-model' }),
      isApiError('engine_unavailable', /PARLEY_OFFLINE=1.*tiny-model.*parley models pull tiny-model/),
    );
    assert.equal(server.requests.length, 0);
    assert.equal(existsSync(path.dirname(dest)), false);
  });

  it('says the host cannot be reached when the connection is refused', async () => {
    const port = await refusedPort();
    const started = Date.now();
    await assert.rejects(
      downloadFile({ url: `http://127.0.0.1:${port}/model.bin`, dest, ...fast }),
      isApiError('engine_unavailable', new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: are you offline\\? Copy the file to .*model\\.bin`)),
    );
    // Never reached the host: no pointless retries.
    assert.ok(Date.now() - started < 1500);
  });

  it('stops on abort and keeps the part for a later resume', async () => {
    server.stallAfter(800_000);
    const controller = new AbortController();
    const pending = downloadFile({
      url,
      dest,
      sha256: file.sha256,
      size: SIZE,
      signal: controller.signal,
      onProgress: (done) => {
        if (done >= 800_000) controller.abort();
      },
    });
    await assert.rejects(pending, isApiError('request_cancelled'));
    assert.equal((await stat(`${dest}.part`)).size, 800_000);
    const result = await downloadFile({ url, dest, sha256: file.sha256, size: SIZE });
    assert.equal(result.resumedFrom, 800_000);
    assert.deepEqual(await readFile(dest), file.data);
  });

  it('hashes a file on disk', async () => {
    await writePart(dest, file.data);
    assert.deepEqual(await sha256File(`${dest}.part`), { sha256: file.sha256, size: SIZE });
  });
});

async function writePart(dest: string, data: Buffer): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  await writeFile(`${dest}.part`, data);
}
