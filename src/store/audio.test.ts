import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAudioId } from './audio.js';
import { hashApiKey } from './context.js';
import type { Store } from './db.js';
import { openTempStore, type TestClock, testClock } from './test-support.js';

describe('audio id store', () => {
  let store: Store;
  let clock: TestClock;
  let cleanup: () => void;

  beforeEach(() => {
    clock = testClock();
    ({ store, cleanup } = openTempStore({ now: clock.now }));
  });
  afterEach(() => cleanup());

  const bytes = new Uint8Array([82, 73, 70, 70, 0, 1, 2, 255]);

  it('returns an audio_ id and an expiry one hour after creation', () => {
    const { id, expiresAt } = store.audio.put({ format: 'wav', data: bytes, transcript: 'Hello there.' });
    assert.match(id, /^audio_[0-9a-f]{32}$/);
    assert.ok(isAudioId(id));
    assert.equal(expiresAt, clock.now() / 1000 + 3600);
  });

  it('gives back exactly what was put', () => {
    const { id, expiresAt } = store.audio.put({ format: 'mp3', data: bytes, transcript: 'Bonjour — ça va ?', owner: hashApiKey('sk-one') });
    const got = store.audio.get(id, hashApiKey('sk-one'));
    assert.ok(got);
    assert.deepEqual({ ...got, data: [...got.data] }, { id, transcript: 'Bonjour — ça va ?', format: 'mp3', data: [...bytes], expiresAt });
  });

  it('keeps the id readable until just before it expires, and not after', () => {
    const { id } = store.audio.put({ format: 'wav', data: bytes, transcript: 't', ttlSec: 10 });
    clock.advance(9.999);
    assert.ok(store.audio.get(id));
    clock.advance(0.001);
    assert.equal(store.audio.get(id), undefined);
  });

  it('hides an expired id even before the sweeper removes it', () => {
    const { id } = store.audio.put({ format: 'wav', data: bytes, transcript: 't', ttlSec: 5 });
    clock.advance(60);
    assert.equal(store.audio.get(id), undefined);
    assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM audio_items').get() as { n: number }).n, 1);
  });

  it('sweeps expired rows and leaves live ones', () => {
    const short = store.audio.put({ format: 'wav', data: bytes, transcript: 'short', ttlSec: 60 });
    const long = store.audio.put({ format: 'wav', data: bytes, transcript: 'long' });
    clock.advance(61);
    assert.equal(store.audio.sweep(), 1);
    assert.equal(store.audio.sweep(), 0);
    assert.equal(store.audio.get(short.id), undefined);
    assert.equal(store.audio.get(long.id)?.transcript, 'long');
  });

  it('answers undefined for an unknown or malformed id', () => {
    assert.equal(store.audio.get(`audio_${'0'.repeat(32)}`), undefined);
    assert.equal(store.audio.get('audio_xyz'), undefined);
    assert.equal(store.audio.get("audio_' OR 1=1 --"), undefined);
  });

  it('does not give one owner the audio of another', () => {
    const [a, b] = [hashApiKey('sk-a'), hashApiKey('sk-b')];
    const mine = store.audio.put({ format: 'wav', data: bytes, transcript: 'mine', owner: a });
    const anon = store.audio.put({ format: 'wav', data: bytes, transcript: 'anonymous' });
    assert.equal(store.audio.get(mine.id, b), undefined);
    assert.equal(store.audio.get(mine.id), undefined);
    assert.equal(store.audio.get(anon.id, a), undefined);
    assert.equal(store.audio.get(anon.id, null)?.transcript, 'anonymous');
    assert.equal(store.audio.get(mine.id, a)?.transcript, 'mine');
  });

  it('refuses a raw API key where an owner hash belongs, so no key lands in the database', () => {
    assert.throws(() => store.audio.put({ format: 'wav', data: bytes, transcript: 't', owner: 'sk-secret-key-123' }), TypeError);
    assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM audio_items').get() as { n: number }).n, 0);
  });

  it('rejects a non-positive ttl', () => {
    assert.throws(() => store.audio.put({ format: 'wav', data: bytes, transcript: 't', ttlSec: 0 }), RangeError);
  });

  it('runs a periodic sweeper that stops when asked', async () => {
    store.audio.put({ format: 'wav', data: bytes, transcript: 't', ttlSec: 1 });
    clock.advance(2);
    const stop = store.audio.startSweeper(5);
    await sleep(40);
    stop();
    assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM audio_items').get() as { n: number }).n, 0);
  });

  it('sweeps expired audio when the store is opened', () => {
    const { id } = store.audio.put({ format: 'wav', data: bytes, transcript: 't', ttlSec: 1 });
    store.close();
    clock.advance(5);
    const reopened = openTempStore({ dataDir: (store as Store).dataDir, now: clock.now });
    try {
      assert.equal((reopened.store.db.prepare('SELECT COUNT(*) AS n FROM audio_items WHERE id = ?').get(id) as { n: number }).n, 0);
    } finally {
      reopened.store.close();
    }
  });
});
