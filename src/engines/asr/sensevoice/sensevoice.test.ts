/**
 * The SenseVoice engine on real sherpa-onnx with a tiny SenseVoice-compatible model whose output
 * is a known function of the input's loudness (test/fixtures/models/make-tiny-sherpa.ts): a loud
 * clip is heard as angry with laughter, a quiet one as neutral speech, and every other voiced
 * 60-ms frame says the next word of "hello world this is a test".
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TINY_WORDS, writeTinySenseVoice } from '../../../../test/fixtures/models/make-tiny-sherpa.js';
import { whiteNoise } from '../../../audio/test-signals.js';
import type { PcmAudio } from '../../../audio/types.js';
import { isApiError } from '../../../errors.js';
import { processExists } from '../../../lib/process.js';
import type { SherpaAsrEngine } from '../sherpa/recognizer.js';
import { readWav16, SPEECH_FIXTURES } from '../test-support.js';
import { createSensevoiceEngine, DEFAULT_SENSEVOICE_MODEL, sensevoiceDescriptor } from './index.js';

let dir: string;
let modelDir: string;
let speech: PcmAudio; // 3 s at its own level (peak 0.3)
let quiet: PcmAudio; // the same at −40 dB

/** Loud white noise at 16 kHz: every frame voiced. */
function noise(seconds: number): PcmAudio {
  return { samples: whiteNoise(Math.round(seconds * 16_000), 0.3), sampleRate: 16_000 };
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-sensevoice-'));
  modelDir = writeTinySenseVoice(path.join(dir, 'tiny-sensevoice'));
  speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0880.wav'));
  quiet = { samples: speech.samples.map((s) => s * 0.01), sampleRate: speech.sampleRate };
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sensevoice with a tiny model', () => {
  let engine: SherpaAsrEngine;
  before(async () => {
    engine = await createSensevoiceEngine({ model: modelDir, modelsDir: dir, threads: 1 });
  });
  after(() => engine.dispose());

  test('hears a loud clip as angry, with laughter, and returns the words the model emits', async () => {
    const t = await engine.transcribe(speech);
    assert.deepEqual(t.emotion, { label: 'angry', confidence: 1 });
    assert.deepEqual(t.events, [{ label: 'laughter', start: 0, end: t.durationSec }]);
    assert.equal(t.language, 'en');
    assert.match(t.text, /^hello world this is a test hello/);
    assert.ok(t.segments.length > 0 && t.segments.every((s) => s.emotion?.label === 'angry'));
  });

  test('hears the same clip 40 dB quieter as neutral speech, with no events', async () => {
    const t = await engine.transcribe(quiet);
    assert.equal(t.emotion?.label, 'neutral');
    assert.deepEqual(t.events, []);
    assert.match(t.text, /^hello world/);
  });

  test('times every word from the token timestamps: one word per 120 ms of voiced audio', async () => {
    const clip = noise(1);
    const t = await engine.transcribe(clip, { wordTimestamps: true });
    assert.ok(t.words);
    // 1 s → 16 LFR frames of 60 ms → a word on every other frame.
    assert.equal(t.words.length, 9);
    t.words.forEach((w, i) => {
      assert.equal(w.word, TINY_WORDS[i % TINY_WORDS.length]);
      assert.equal(w.start, Math.round(i * 0.12 * 1000) / 1000);
      // The last word's end is clamped to the audio's length.
      assert.equal(w.end, Math.min(1, Math.round((i * 0.12 + 0.06) * 1000) / 1000));
    });
    assert.equal(t.text, t.words.map((w) => w.word).join(' '));
  });

  test('returns an empty transcript for silence', async () => {
    const t = await engine.transcribe({ samples: new Float32Array(32_000), sampleRate: 16_000 });
    assert.equal(t.text, '');
    assert.deepEqual(t.segments, []);
    assert.equal(t.emotion, undefined);
  });

  test('passes a language hint to the model and reports it', async () => {
    const t = await engine.transcribe(speech, { language: 'zh' });
    assert.equal(t.language, 'zh');
  });

  test('refuses a language SenseVoice does not know with invalid_value on language', async () => {
    await assert.rejects(engine.transcribe(speech, { language: 'de' }), (e: unknown) => isApiError(e) && e.status === 400 && e.param === 'language');
  });

  test('cuts a 65-s input into windows of at most 30 s and keeps their times', async () => {
    const long = new Float32Array(65 * 16_000);
    const burst = noise(2).samples;
    for (const at of [1, 29, 40, 62]) long.set(burst, at * 16_000);
    const t = await engine.transcribe({ samples: long, sampleRate: 16_000 }, { wordTimestamps: true });
    assert.equal(t.durationSec, 65);
    const starts = t.words!.map((w) => w.start);
    assert.ok(
      starts.some((s) => s >= 62 && s < 64.2),
      'words of the last burst sit at 62 s',
    );
    assert.ok(
      starts.every((s, i) => i === 0 || s >= starts[i - 1]!),
      'in order',
    );
    assert.ok(t.segments.length >= 3);
  });

  test('resamples 8 kHz telephone audio', async () => {
    const phone = readWav16(path.join(SPEECH_FIXTURES, 'allison-agent-pass.wav'));
    const t = await engine.transcribe(phone);
    assert.ok(t.text.length > 0);
  });

  test('offers emotion, word times and language detection, not translation', () => {
    assert.deepEqual(engine.capabilities, { translate: false, wordTimestamps: true, languageDetection: true, emotion: true });
    assert.deepEqual([...engine.languages()].sort(), ['en', 'ja', 'ko', 'yue', 'zh']);
  });
});

describe('sensevoice without a usable model', () => {
  test('says to run parley models pull sensevoice-small-int8 when the folder is missing', async () => {
    await assert.rejects(sensevoiceDescriptor.create({ modelsDir: dir, threads: 1 }), (e: unknown) => {
      assert.ok(isApiError(e));
      assert.equal(e.code, 'engine_unavailable');
      assert.match(e.message, new RegExp(`parley models pull ${DEFAULT_SENSEVOICE_MODEL}`));
      return true;
    });
    const probe = await sensevoiceDescriptor.probe({ modelsDir: dir, threads: 1 });
    assert.equal(probe.available, false);
    assert.match(probe.reason!, /parley models pull sensevoice-small-int8/);
  });

  test('finds a model by its folder name in the models directory', async () => {
    const probe = await sensevoiceDescriptor.probe({ model: 'tiny-sensevoice', modelsDir: dir, threads: 1 });
    assert.deepEqual(probe, { available: true });
  });

  test('refuses a model without vocab_size before sherpa sees it: engine_unavailable naming the key, no process started', async () => {
    const broken = writeTinySenseVoice(path.join(dir, 'broken'), { omitMetadata: ['vocab_size'] });
    const before = new Set(childPids());
    await assert.rejects(sensevoiceDescriptor.create({ model: broken, modelsDir: dir, threads: 1 }), (e: unknown) => {
      assert.ok(isApiError(e));
      assert.equal(e.code, 'engine_unavailable');
      assert.match(e.message, /'vocab_size' is missing/);
      assert.match(e.message, /parley models pull sensevoice-small-int8/);
      return true;
    });
    assert.deepEqual(
      childPids().filter((p) => !before.has(p) && processExists(p)),
      [],
    );
  });
});

/** Ids of this process's children (Linux /proc). */
function childPids(): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
