import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PcmAudio } from '../../../audio/types.js';
import { isApiError } from '../../../errors.js';
import { isAbortError } from '../worker-pool/pool.js';
import { FliteEngine, fliteText } from './engine.js';
import { FLITE_VOICES } from './voices.js';

const SENTENCE = 'Hello, this is a short test of the speech synthesizer.';
const LONG = 'The quick brown fox jumps over the lazy dog, and then it runs far away into the forest. '.repeat(12);

function seconds(pcm: PcmAudio): number {
  return pcm.samples.length / pcm.sampleRate;
}
function rms(pcm: PcmAudio): number {
  let s = 0;
  for (const x of pcm.samples) s += x * x;
  return Math.sqrt(s / Math.max(1, pcm.samples.length));
}

describe('flite engine', () => {
  let engine: FliteEngine;
  let tmp: string;
  before(async () => {
    engine = await FliteEngine.create({ modelsDir: os.tmpdir(), concurrency: 2 });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'parley-flite-'));
  });
  after(async () => {
    await engine.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  for (const voice of FLITE_VOICES) {
    test(`synthesizes voice ${voice.id}: audible speech of plausible length at ${voice.sampleRate} Hz`, async () => {
      const pcm = await engine.synthesize({ text: SENTENCE, rendering: { voice: voice.id }, speed: 1 });
      assert.equal(pcm.sampleRate, voice.sampleRate);
      // 10 words: 1.5–6 s at any sane speaking rate.
      assert.ok(seconds(pcm) > 1.5 && seconds(pcm) < 6, `${seconds(pcm).toFixed(2)} s`);
      assert.ok(rms(pcm) > 0.01, `rms ${rms(pcm)}`);
    });
  }

  test('speed 2.0 is about half as long as speed 1.0', async () => {
    const normal = await engine.synthesize({ text: SENTENCE, rendering: { voice: 'slt' }, speed: 1 });
    const fast = await engine.synthesize({ text: SENTENCE, rendering: { voice: 'slt' }, speed: 2 });
    const ratio = seconds(fast) / seconds(normal);
    assert.ok(ratio > 0.4 && ratio < 0.65, `ratio ${ratio.toFixed(2)}`);
  });

  test('a rendering rate multiplies the request speed', async () => {
    const a = await engine.synthesize({ text: SENTENCE, rendering: { voice: 'rms', rate: 2 }, speed: 1 });
    const b = await engine.synthesize({ text: SENTENCE, rendering: { voice: 'rms' }, speed: 2 });
    assert.ok(Math.abs(seconds(a) - seconds(b)) < 0.05);
  });

  test('pitch uses flite f0_shift where the voice honours it, resampling for rms', () => {
    assert.deepEqual(engine.jobFor({ text: 'hi', rendering: { voice: 'slt', pitch: 1.2 }, speed: 1 }).args.slice(0, 4), [
      '-voice',
      'slt',
      '--setf',
      'f0_shift=1.2000',
    ]);
    const rmsJob = engine.jobFor({ text: 'hi', rendering: { voice: 'rms', pitch: 0.8 }, speed: 1 });
    assert.equal(rmsJob.playbackRate, 0.8);
    assert.ok(rmsJob.args.includes('duration_stretch=0.8000'));
  });

  test('pitch-shifted rms keeps its duration and native rate', async () => {
    const base = await engine.synthesize({ text: SENTENCE, rendering: { voice: 'rms' }, speed: 1 });
    const low = await engine.synthesize({ text: SENTENCE, rendering: { voice: 'rms', pitch: 0.85 }, speed: 1 });
    assert.equal(low.sampleRate, 16_000);
    assert.ok(Math.abs(seconds(low) - seconds(base)) < 0.1, `${seconds(low)} vs ${seconds(base)}`);
  });

  test('rejects a voice it does not have with invalid_value', async () => {
    await assert.rejects(engine.synthesize({ text: SENTENCE, rendering: { voice: 'nosuch' }, speed: 1 }), (e) => isApiError(e) && e.code === 'invalid_value');
  });

  test('empty or unspeakable text gives empty audio', async () => {
    const pcm = await engine.synthesize({ text: '  ☃  ', rendering: { voice: 'kal' }, speed: 1 });
    assert.equal(pcm.samples.length, 0);
    assert.equal(pcm.sampleRate, 8000);
  });

  test('reads typographic punctuation and accents as ASCII', () => {
    assert.equal(fliteText('“Café” — it’s naïve…'), '"Cafe" - it\'s naive...');
  });

  test('a long passage that grows WebAssembly memory synthesizes (node:wasi would corrupt memory here)', async () => {
    const pcm = await engine.synthesize({ text: LONG, rendering: { voice: 'slt' }, speed: 0.5 });
    assert.ok(seconds(pcm) > 100, `${seconds(pcm)} s`);
  });

  test('abort rejects promptly with an AbortError, and the engine goes on', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = engine.synthesize({ text: LONG.repeat(4), rendering: { voice: 'slt' }, speed: 0.25, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, (e) => isAbortError(e));
    // Generous on a loaded machine; the whole text would take tens of seconds.
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    const next = await engine.synthesize({ text: SENTENCE, rendering: { voice: 'slt' }, speed: 1 });
    assert.ok(seconds(next) > 1);
  });

  test('an already aborted signal rejects at once', async () => {
    await assert.rejects(engine.synthesize({ text: SENTENCE, rendering: { voice: 'slt' }, speed: 1, signal: AbortSignal.abort() }), (e) => isAbortError(e));
  });

  test('a voice file that makes flite trap fails that request only; the next synthesis works', async () => {
    // A .flitevox with a valid header and garbage after it: flite reads wild sizes and hits `unreachable`.
    const bogus = Buffer.concat([Buffer.from('CMU_FLITE_CG_VOXDATA-v2.0\0'), Buffer.alloc(200, 0xff)]);
    await writeFile(path.join(tmp, 'broken.flitevox'), bogus);
    const withBroken = await FliteEngine.create({ modelsDir: tmp, model: tmp, concurrency: 1 });
    try {
      assert.ok(withBroken.hasVoice('broken'));
      await assert.rejects(withBroken.synthesize({ text: SENTENCE, rendering: { voice: 'broken' }, speed: 1 }), (e) => {
        return isApiError(e) && e.status === 500 && /unreachable|RuntimeError/.test(String((e.cause as Error).message));
      });
      const next = await withBroken.synthesize({ text: SENTENCE, rendering: { voice: 'rms' }, speed: 1 });
      assert.ok(rms(next) > 0.01);
    } finally {
      await withBroken.dispose();
    }
  });

  test('a synthesis over the time limit rejects with a 500', async () => {
    const slow = await FliteEngine.create({ modelsDir: tmp, concurrency: 1, timeoutMs: 3000 });
    try {
      await assert.rejects(
        slow.synthesize({ text: LONG.repeat(40), rendering: { voice: 'slt' }, speed: 0.25 }),
        (e) => isApiError(e) && e.status === 500 && /timed out/.test(String((e.cause as Error).message)),
      );
      const next = await slow.synthesize({ text: 'Hi.', rendering: { voice: 'kal' }, speed: 1 });
      assert.ok(next.samples.length > 0);
    } finally {
      await slow.dispose();
    }
  });

  test('a missing voice folder is engine_unavailable', async () => {
    await assert.rejects(
      FliteEngine.create({ modelsDir: tmp, model: 'no-such-voices', concurrency: 1 }),
      (e) => isApiError(e) && e.code === 'engine_unavailable',
    );
  });

  test('parallel requests beyond the concurrency all complete', async () => {
    const texts = ['One.', 'Two two.', 'Three three three.', 'Four.', 'Five.', 'Six.'];
    const out = await Promise.all(texts.map((text) => engine.synthesize({ text, rendering: { voice: 'kal16' }, speed: 1 })));
    for (const pcm of out) assert.ok(pcm.samples.length > 0);
  });
});
