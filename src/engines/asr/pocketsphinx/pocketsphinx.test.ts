/**
 * pocketsphinx on real human speech (test/fixtures/speech): word error rate under a bound,
 * real-time factor, both backends (in-process koffi and the CLI), and the guards.
 * Needs Debian's pocketsphinx, pocketsphinx-en-us and libpocketsphinx3 (CI installs them).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import { readWav16, SPEECH_FIXTURES, speechFixtures } from '../test-support.js';
import type { Transcript } from '../types.js';
import { corpusWer, wer } from '../wer.js';
import type { PocketsphinxEngine } from './engine.js';
import { createPocketsphinxEngine, pocketsphinxDescriptor } from './index.js';

/**
 * Measured on the three LibriVox lines (16 kHz audiobook): corpus WER 0.318 in-process (fresh
 * decoder + CMN warm-up), 0.341 through the CLI. Bound = measured + 0.15.
 */
const WER_BOUND = 0.47;

const common = { modelsDir: os.tmpdir(), threads: 1 };

function assertTranscript(t: Transcript, durationSec: number): void {
  assert.equal(t.language, 'en');
  assert.ok(Math.abs(t.durationSec - durationSec) < 1e-6);
  assert.equal(t.text, t.text.trim());
  t.segments.forEach((s, i) => {
    assert.equal(s.id, i);
    assert.ok(s.start >= 0 && s.start <= s.end && s.end <= durationSec, `segment ${s.start}–${s.end}`);
    assert.ok(s.text.startsWith(' '));
  });
}

/** Corpus WER and RTF of `engine` on the `librivox-*` fixtures; logs both. `texts` collects file → text. */
async function scoreLibrivox(engine: PocketsphinxEngine, t: TestContext, texts = new Map<string, string>()): Promise<number> {
  const pairs: Array<{ reference: string; hypothesis: string }> = [];
  let audioSec = 0;
  let busyMs = 0;
  const files = speechFixtures('librivox-');
  assert.ok(files.length >= 3, 'the librivox fixtures are there');
  for (const f of files) {
    const pcm = readWav16(f.path);
    const started = performance.now();
    const result = await engine.transcribe(pcm);
    busyMs += performance.now() - started;
    audioSec += result.durationSec;
    pairs.push({ reference: f.transcript, hypothesis: result.text });
    texts.set(f.file, result.text);
    t.diagnostic(`${f.file}: WER ${wer(f.transcript, result.text).toFixed(3)} "${result.text}"`);
  }
  const score = corpusWer(pairs);
  t.diagnostic(`pocketsphinx ${engine.backend}: corpus WER ${score.toFixed(3)} over ${files.length} lines, RTF ${(busyMs / 1000 / audioSec).toFixed(3)}`);
  return score;
}

describe('in-process (koffi)', () => {
  let engine: PocketsphinxEngine;
  let speech: PcmAudio;
  let long: PcmAudio;
  const texts = new Map<string, string>();
  before(async () => {
    engine = await createPocketsphinxEngine({ ...common, backend: 'ffi' });
    speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0880.wav'));
    long = readWav16(path.join(SPEECH_FIXTURES, 'allison-conf-adminmenu.wav'));
  });
  after(() => engine.dispose());

  test('uses the shared library, not the CLI', () => {
    assert.equal(engine.backend, 'ffi');
    assert.deepEqual(engine.languages(), ['en']);
    assert.deepEqual(engine.capabilities, { translate: false, wordTimestamps: true, languageDetection: false });
  });

  test(`recognises real 16 kHz audiobook speech with a corpus WER under ${WER_BOUND}`, async (t) => {
    const score = await scoreLibrivox(engine, t, texts);
    assert.ok(score < WER_BOUND, `corpus WER ${score.toFixed(3)} ≥ ${WER_BOUND}`);
  });

  test('gives the same words for the same audio every time, whatever came before', async () => {
    await engine.transcribe(readWav16(path.join(SPEECH_FIXTURES, 'allison-agent-pass.wav'))); // another speaker
    const again = await engine.transcribe(speech);
    assert.equal(again.text, texts.get('librivox-0880.wav'));
  });

  test('times segments and words within the audio', async () => {
    const durationSec = speech.samples.length / speech.sampleRate;
    const t = await engine.transcribe(speech, { wordTimestamps: true });
    assertTranscript(t, durationSec);
    assert.ok(t.segments.length >= 1);
    assert.ok(t.segments.every((s) => typeof s.avgLogprob === 'number' && s.avgLogprob <= 0));
    assert.ok(t.words && t.words.length >= 5);
    assert.equal(t.words.map((w) => w.word).join(' '), t.text);
    let previous = 0;
    for (const w of t.words) {
      assert.ok(w.start >= previous && w.start < w.end && w.end <= durationSec, `${w.word} ${w.start}–${w.end}`);
      previous = w.end;
    }
  });

  test('resamples 8 kHz telephone audio (and still recognises some of it)', async (t) => {
    const files = speechFixtures('allison-');
    const pairs = [];
    for (const f of files) {
      const pcm = readWav16(f.path);
      assert.equal(pcm.sampleRate, 8000);
      const result = await engine.transcribe(pcm);
      assertTranscript(result, pcm.samples.length / 8000);
      pairs.push({ reference: f.transcript, hypothesis: result.text });
    }
    const score = corpusWer(pairs);
    t.diagnostic(`pocketsphinx on 8 kHz telephony: corpus WER ${score.toFixed(3)} over ${files.length} prompts`);
    assert.ok(score < 1, 'some words come through');
  });

  test('returns no segments for silence', async () => {
    const t = await engine.transcribe({ samples: new Float32Array(16000 * 2), sampleRate: 16000 });
    assert.equal(t.text, '');
    assert.deepEqual(t.segments, []);
  });

  test('rejects a language other than English with invalid_value', async () => {
    await assert.rejects(engine.transcribe(speech, { language: 'de' }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 'invalid_value');
      assert.equal(e.param, 'language');
      return true;
    });
    assertTranscript(await engine.transcribe(speech, { language: 'en' }), speech.samples.length / 16000);
  });

  test('rejects with a 504 engine_timeout after timeoutMs and works again afterwards', async () => {
    const started = performance.now();
    await assert.rejects(engine.transcribe(long, { timeoutMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 504);
      assert.equal(e.code, 'engine_timeout');
      return true;
    });
    // Generous: the bound only tells "stopped at the limit" from "ran the whole file" on a loaded machine.
    assert.ok(performance.now() - started < 3000);
    assert.ok((await engine.transcribe(speech)).text.length > 0);
  });

  test('stops when aborted, running or queued, and works again afterwards', async () => {
    const running = new AbortController();
    const queued = new AbortController();
    const a = engine.transcribe(long, { signal: running.signal });
    const b = engine.transcribe(long, { signal: queued.signal });
    setTimeout(() => {
      queued.abort();
      running.abort();
    }, 300);
    await assert.rejects(a, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    await assert.rejects(b, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok((await engine.transcribe(speech)).text.length > 0);
  });

  test('answers concurrent calls one after another, each with its own words', async () => {
    const other = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0890.wav'));
    const [x, y] = await Promise.all([engine.transcribe(speech), engine.transcribe(other)]);
    assert.equal(x.text, texts.get('librivox-0880.wav'));
    assert.equal(y.text, texts.get('librivox-0890.wav'));
  });
});

describe('through pocketsphinx_continuous (the fallback)', () => {
  let engine: PocketsphinxEngine;
  before(async () => {
    engine = await createPocketsphinxEngine({ ...common, backend: 'cli' });
  });
  after(() => engine.dispose());

  test(`recognises the same speech with a corpus WER under ${WER_BOUND}`, async (t) => {
    assert.equal(engine.backend, 'cli');
    const score = await scoreLibrivox(engine, t);
    assert.ok(score < WER_BOUND, `corpus WER ${score.toFixed(3)} ≥ ${WER_BOUND}`);
  });

  test('times words within the audio', async () => {
    const speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0880.wav'));
    const t = await engine.transcribe(speech, { wordTimestamps: true });
    assertTranscript(t, speech.samples.length / 16000);
    assert.ok(t.words && t.words.length >= 5);
  });

  test('kills the process when aborted', async () => {
    const long = readWav16(path.join(SPEECH_FIXTURES, 'allison-conf-adminmenu.wav'));
    const controller = new AbortController();
    const started = performance.now();
    const call = engine.transcribe(long, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(call, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok(performance.now() - started < 3000);
  });
});

describe('availability', () => {
  test('probes as available when the Debian packages are installed', async () => {
    assert.deepEqual(await pocketsphinxDescriptor.probe(common), { available: true });
  });

  test('reports engine_unavailable with the apt-get command when the model is missing', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-sphinx-empty-'));
    try {
      const probe = await pocketsphinxDescriptor.probe({ ...common, model: empty });
      assert.equal(probe.available, false);
      assert.match(probe.reason ?? '', /apt-get install pocketsphinx pocketsphinx-en-us/);
      await assert.rejects(createPocketsphinxEngine({ ...common, model: empty }), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 503);
        assert.equal(e.code, 'engine_unavailable');
        assert.match(e.message, /apt-get install pocketsphinx pocketsphinx-en-us/);
        return true;
      });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test('refuses calls after dispose', async () => {
    const engine = await createPocketsphinxEngine({ ...common, backend: 'ffi' });
    await engine.dispose();
    await engine.dispose();
    await assert.rejects(engine.transcribe({ samples: new Float32Array(1600), sampleRate: 16000 }), (e: unknown) => e instanceof ApiError);
  });
});
