import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import { hashApiKey } from './context.js';
import type { Store } from './db.js';
import { isFileId, MAX_FILENAME_BYTES, newFileId, sanitizeFilename } from './files.js';
import { openTempStore, type TestClock, testClock } from './test-support.js';

const alice = hashApiKey('sk-alice');
const bob = hashApiKey('sk-bob');
const JSONL = '{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{}}\n';

function chunks(...parts: string[]): Readable {
  return Readable.from(parts.map((p) => Buffer.from(p)));
}

describe('file names', () => {
  it('keeps only the last path segment', () => {
    assert.equal(sanitizeFilename('../../etc/passwd'), 'passwd');
    assert.equal(sanitizeFilename('..\\..\\windows\\win.ini'), 'win.ini');
    assert.equal(sanitizeFilename('/abs/path/batch.jsonl'), 'batch.jsonl');
  });

  it('removes control and bidi characters', () => {
    assert.equal(sanitizeFilename('in\u0000put\r\n.jsonl'), 'input.jsonl');
    assert.equal(sanitizeFilename('evil\u202egpj.exe'), 'evilgpj.exe');
    assert.equal(sanitizeFilename('a\u0085b\u007f.txt'), 'ab.txt');
  });

  it('falls back to "file" when nothing usable is left', () => {
    for (const bad of ['', '..', '.', '../', '/', '\u0000\u0001', '   ']) assert.equal(sanitizeFilename(bad), 'file', JSON.stringify(bad));
  });

  it('cuts long names to 255 UTF-8 bytes, keeping the extension and whole characters', () => {
    const long = sanitizeFilename(`${'é'.repeat(300)}.jsonl`);
    assert.ok(Buffer.byteLength(long) <= MAX_FILENAME_BYTES);
    assert.ok(long.endsWith('.jsonl'));
    assert.ok(!long.includes('\ufffd'));
    const emoji = sanitizeFilename('😀'.repeat(100));
    assert.ok(Buffer.byteLength(emoji) <= MAX_FILENAME_BYTES);
    assert.equal(emoji, '😀'.repeat(63));
  });

  it('makes ids of file- and 24 base62 characters', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newFileId()));
    assert.equal(ids.size, 200);
    for (const id of ids) assert.match(id, /^file-[0-9A-Za-z]{24}$/);
    assert.ok(isFileId([...ids][0]!));
  });
});

describe('file store', () => {
  let store: Store;
  let clock: TestClock;
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    clock = testClock();
    ({ store, dir, cleanup } = openTempStore({ now: clock.now }));
  });
  afterEach(() => cleanup());

  const filesDir = (): string[] => fs.readdirSync(path.join(dir, 'files')).sort();

  it('stores an upload and describes it', async () => {
    const f = await store.files.create({ purpose: 'batch', filename: 'requests.jsonl', stream: chunks(JSONL, JSONL), apiKeyHash: alice });
    assert.match(f.id, /^file-[0-9A-Za-z]{24}$/);
    assert.deepEqual(f, {
      id: f.id,
      bytes: Buffer.byteLength(JSONL) * 2,
      createdAt: clock.now() / 1000,
      filename: 'requests.jsonl',
      purpose: 'batch',
      status: 'processed',
    });
    assert.deepEqual(store.files.get(f.id, alice), f);
    assert.deepEqual(filesDir(), [f.id]);
  });

  it('streams the content back', async () => {
    const f = await store.files.create({ purpose: 'batch', filename: 'a.jsonl', stream: chunks(JSONL, 'second line\n'), apiKeyHash: alice });
    const body = store.files.openContent(f.id, alice);
    assert.ok(body);
    assert.equal(await text(body), `${JSONL}second line\n`);
  });

  it('stores the sanitised name, never writing outside the files folder', async () => {
    const f = await store.files.create({ purpose: 'user_data', filename: '../../etc/passwd', stream: chunks('x'), apiKeyHash: null });
    assert.equal(f.filename, 'passwd');
    assert.deepEqual(filesDir(), [f.id]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['files', 'parley.db', 'parley.db-shm', 'parley.db-wal']);
  });

  it('accepts a file of exactly the limit', async () => {
    const f = await store.files.create({ purpose: 'batch', filename: 'a', stream: chunks('12345', '67890'), maxBytes: 10, apiKeyHash: alice });
    assert.equal(f.bytes, 10);
  });

  it('refuses an oversize upload with a 413 naming file and leaves nothing behind', async () => {
    const source = chunks('12345', '67890', 'X', 'never read');
    await assert.rejects(
      store.files.create({ purpose: 'batch', filename: 'big.jsonl', stream: source, maxBytes: 10, apiKeyHash: alice }),
      (e: unknown) => e instanceof ApiError && e.status === 413 && e.param === 'file' && /file/i.test(e.message),
    );
    assert.deepEqual(filesDir(), []);
    assert.equal(store.files.list({ keyHash: alice }).data.length, 0);
    assert.equal(source.destroyed, true);
  });

  it("refuses an upload past its owner's quota with a 400 naming file, keeps nothing, and counts only that owner's live files", async () => {
    await store.files.create({ purpose: 'batch', filename: 'a', stream: chunks('123456'), quotaBytes: 10, apiKeyHash: alice });
    const source = chunks('12345', 'never read');
    await assert.rejects(
      store.files.create({ purpose: 'batch', filename: 'b', stream: source, quotaBytes: 10, apiKeyHash: alice }),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === 'file' && e.code === 'storage_quota_exceeded' && /quota/.test(e.message),
    );
    assert.equal(source.destroyed, true);
    assert.equal(store.files.list({ keyHash: alice }).data.length, 1);
    assert.equal(filesDir().length, 1);
    assert.equal(store.files.usedBytes(alice), 6);
    // Another key has its own quota; exactly filling one's own is allowed.
    await store.files.create({ purpose: 'batch', filename: 'c', stream: chunks('1234567890'), quotaBytes: 10, apiKeyHash: bob });
    await store.files.create({ purpose: 'batch', filename: 'd', stream: chunks('1234'), quotaBytes: 10, apiKeyHash: alice });
    // Full: refused before a byte is read.
    await assert.rejects(store.files.create({ purpose: 'batch', filename: 'e', stream: chunks(''), quotaBytes: 10, apiKeyHash: alice }), /quota/);
    // Deleting frees the space.
    const first = store.files.list({ keyHash: alice, order: 'asc' }).data[0]!;
    await store.files.delete(first.id, alice);
    assert.equal(store.files.usedBytes(alice), 4);
    await store.files.create({ purpose: 'batch', filename: 'f', stream: chunks('123456'), quotaBytes: 10, apiKeyHash: alice });
  });

  it('counts uploads in flight against the quota, so two at once cannot both fill the same room', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow() {
      yield Buffer.from('123456');
      await gate;
      yield Buffer.from('7');
    }
    const first = store.files.create({ purpose: 'batch', filename: 'a', stream: slow(), quotaBytes: 10, apiKeyHash: alice });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(store.files.usedBytes(alice), 6);
    await assert.rejects(store.files.create({ purpose: 'batch', filename: 'b', stream: chunks('12345'), quotaBytes: 10, apiKeyHash: alice }), /quota/);
    release();
    assert.equal((await first).bytes, 7);
    assert.equal(store.files.usedBytes(alice), 7);
    // A failed upload gives its reservation back.
    await assert.rejects(store.files.create({ purpose: Promise.resolve('karaoke'), filename: 'c', stream: chunks('12'), quotaBytes: 10, apiKeyHash: alice }));
    assert.equal(store.files.usedBytes(alice), 7);
  });

  it('never refuses files written without a quota (batch output)', async () => {
    await store.files.create({ purpose: 'batch_output', filename: 'out', stream: chunks('1234567890', '12345'), apiKeyHash: alice });
    assert.equal(store.files.usedBytes(alice), 15);
  });

  it('leaves nothing behind when the upload stream fails', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('part of it'));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(store.files.create({ purpose: 'batch', filename: 'a', stream: failing, apiKeyHash: alice }), /client went away/);
    assert.deepEqual(filesDir(), []);
  });

  it('refuses an unknown purpose naming the field', async () => {
    await assert.rejects(
      store.files.create({ purpose: 'karaoke', filename: 'a', stream: chunks('x'), apiKeyHash: alice }),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === 'purpose' && e.code === 'invalid_value',
    );
    assert.deepEqual(filesDir(), []);
  });

  it("hides one key's files from another", async () => {
    const f = await store.files.create({ purpose: 'batch', filename: 'a', stream: chunks('x'), apiKeyHash: alice });
    assert.equal(store.files.get(f.id, bob), undefined);
    assert.equal(store.files.get(f.id, null), undefined);
    assert.equal(store.files.openContent(f.id, bob), undefined);
    assert.deepEqual(store.files.list({ keyHash: bob }).data, []);
    assert.equal(await store.files.delete(f.id, bob), false);
    assert.ok(store.files.get(f.id, alice));
  });

  it('answers undefined for unknown and malformed ids', () => {
    assert.equal(store.files.get(`file-${'a'.repeat(24)}`, alice), undefined);
    assert.equal(store.files.get('../parley.db', alice), undefined);
    assert.equal(store.files.openContent('../parley.db', alice), undefined);
  });

  async function upload(n: number, purpose = 'batch'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push((await store.files.create({ purpose, filename: `f${i}.jsonl`, stream: chunks(String(i)), apiKeyHash: alice })).id);
    }
    return ids;
  }

  it('lists newest first by default, in creation order even within one second', async () => {
    const ids = await upload(5);
    const page = store.files.list({ keyHash: alice });
    assert.deepEqual(
      page.data.map((f) => f.id),
      [...ids].reverse(),
    );
    assert.equal(page.hasMore, false);
    assert.equal(page.firstId, ids[4]);
    assert.equal(page.lastId, ids[0]);
    assert.deepEqual(
      store.files.list({ keyHash: alice, order: 'asc' }).data.map((f) => f.id),
      ids,
    );
  });

  it('pages with after and has_more in both orders', async () => {
    const ids = await upload(5);
    const walk = (order: 'asc' | 'desc'): string[] => {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = store.files.list({ keyHash: alice, order, limit: 2, after });
        seen.push(...page.data.map((f) => f.id));
        if (!page.hasMore) {
          assert.ok(page.data.length <= 2);
          return seen;
        }
        assert.equal(page.data.length, 2);
        after = page.lastId!;
      }
    };
    assert.deepEqual(walk('asc'), ids);
    assert.deepEqual(walk('desc'), [...ids].reverse());
    const exact = store.files.list({ keyHash: alice, limit: 5 });
    assert.equal(exact.hasMore, false);
    assert.equal(store.files.list({ keyHash: alice, limit: 4 }).hasMore, true);
  });

  it('keeps paging after the cursor file was deleted', async () => {
    const ids = await upload(4);
    const first = store.files.list({ keyHash: alice, order: 'asc', limit: 2 });
    assert.equal(await store.files.delete(first.lastId!, alice), true);
    const next = store.files.list({ keyHash: alice, order: 'asc', limit: 2, after: first.lastId! });
    assert.deepEqual(
      next.data.map((f) => f.id),
      ids.slice(2),
    );
  });

  it('filters the list by purpose', async () => {
    const batch = await upload(2, 'batch');
    const other = await upload(1, 'user_data');
    assert.deepEqual(
      store.files.list({ keyHash: alice, purpose: 'user_data' }).data.map((f) => f.id),
      other,
    );
    assert.deepEqual(
      store.files.list({ keyHash: alice, purpose: 'batch', order: 'asc' }).data.map((f) => f.id),
      batch,
    );
  });

  it('refuses a bad limit, order or cursor naming the field', async () => {
    const is400 = (param: string) => (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === param;
    assert.throws(() => store.files.list({ keyHash: alice, limit: 0 }), is400('limit'));
    assert.throws(() => store.files.list({ keyHash: alice, limit: 10_001 }), is400('limit'));
    assert.throws(() => store.files.list({ keyHash: alice, order: 'up' as 'asc' }), is400('order'));
    assert.throws(() => store.files.list({ keyHash: alice, after: `file-${'z'.repeat(24)}` }), is400('after'));
    const [id] = await upload(1);
    assert.throws(() => store.files.list({ keyHash: bob, after: id }), is400('after'));
  });

  it('deletes the row and the bytes', async () => {
    const f = await store.files.create({ purpose: 'batch', filename: 'a', stream: chunks('x'), apiKeyHash: alice });
    assert.equal(await store.files.delete(f.id, alice), true);
    assert.equal(store.files.get(f.id, alice), undefined);
    assert.equal(store.files.openContent(f.id, alice), undefined);
    assert.deepEqual(filesDir(), []);
    assert.equal(await store.files.delete(f.id, alice), false);
  });

  it('keeps streaming content that is deleted while being read', async () => {
    const f = await store.files.create({ purpose: 'batch', filename: 'a', stream: chunks(JSONL), apiKeyHash: alice });
    const body = store.files.openContent(f.id, alice)!;
    await store.files.delete(f.id, alice);
    assert.equal(await text(body), JSONL);
  });

  it('clears crash debris on open but leaves live files alone', async () => {
    const live = await store.files.create({ purpose: 'batch', filename: 'a', stream: chunks('x'), apiKeyHash: alice });
    const orphan = newFileId();
    fs.writeFileSync(path.join(dir, 'files', orphan), 'no row');
    fs.writeFileSync(path.join(dir, 'files', `${newFileId()}.part`), 'half');
    fs.writeFileSync(path.join(dir, 'files', 'README.txt'), 'not ours');
    store.close();
    const reopened = openTempStore({ dataDir: dir, orphanGraceMs: 0 });
    try {
      assert.deepEqual(filesDir(), ['README.txt', live.id].sort());
      assert.ok(reopened.store.files.get(live.id, alice));
    } finally {
      reopened.store.close();
    }
  });

  it('leaves recent debris alone, in case another process is still writing it', async () => {
    const part = `${newFileId()}.part`;
    fs.writeFileSync(path.join(dir, 'files', part), 'in flight');
    assert.equal(store.files.removeOrphans(), 0);
    assert.deepEqual(filesDir(), [part]);
  });
});
