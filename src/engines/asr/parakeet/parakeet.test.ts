/**
 * The Parakeet engine on real sherpa-onnx with a tiny NeMo TDT transducer
 * (test/fixtures/models/make-tiny-sherpa.ts): every voiced 80-ms encoder frame emits the next
 * word of "hello world this is a test", a silent one emits blank.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TINY_WORDS, writeTinyParakeet } from '../../../../test/fixtures/models/make-tiny-sherpa.js';
import { whiteNoise } from '../../../audio/test-signals.js';
import type { PcmAudio } from '../../../audio/types.js';
import { isApiError } from '../../../errors.js';
import type { SherpaAsrEngine } from '../sherpa/recognizer.js';
import { createParakeetEngine, parakeetDescriptor } from './index.js';

let dir: string;

/** Loud white noise at 16 kHz: every frame voiced. */
function noise(seconds: number): PcmAudio {
  return { samples: whiteNoise(Math.round(seconds * 16_000), 0.3), sampleRate: 16_000 };
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-parakeet-'));
  writeTinyParakeet(path.join(dir, 'tiny-parakeet'));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('parakeet with a tiny transducer', () => {
  let engine: SherpaAsrEngine;
  before(async () => {
    engine = await createParakeetEngine({ model: path.join(dir, 'tiny-parakeet'), modelsDir: dir, threads: 1 });
  });
  after(() => engine.dispose());

  test('decodes one token per voiced encoder frame, with the TDT durations as word ends', async () => {
    const t = await engine.transcribe(noise(2), { wordTimestamps: true });
    assert.equal(t.language, 'en');
    // 2 s → 200 feature frames → 25 encoder frames of 80 ms.
    assert.equal(t.words!.length, 25);
    t.words!.forEach((w, i) => {
      assert.equal(w.word, TINY_WORDS[i % TINY_WORDS.length]);
      assert.equal(w.start, Math.round(i * 0.08 * 1000) / 1000);
      assert.equal(w.end, Math.min(2, Math.round((i + 1) * 0.08 * 1000) / 1000));
    });
    assert.equal(t.text, t.words!.map((w) => w.word).join(' '));
    assert.equal(t.emotion, undefined);
    assert.equal(t.events, undefined);
  });

  test('hears nothing in silence, and words only where the audio is loud', async () => {
    assert.equal((await engine.transcribe({ samples: new Float32Array(32_000), sampleRate: 16_000 })).text, '');
    const clip = new Float32Array(3 * 16_000);
    clip.set(noise(1).samples, 2 * 16_000);
    const t = await engine.transcribe({ samples: clip, sampleRate: 16_000 }, { wordTimestamps: true });
    assert.ok(t.words!.length >= 10);
    assert.ok(
      t.words!.every((w) => w.start >= 1.9),
      `first word at ${t.words![0]?.start}`,
    );
  });

  test('is English only: another language is invalid_value, and it offers no emotion', async () => {
    assert.deepEqual(engine.languages(), ['en']);
    assert.deepEqual(engine.capabilities, { translate: false, wordTimestamps: true, languageDetection: false, emotion: false });
    await assert.rejects(engine.transcribe(noise(1), { language: 'fr' }), (e: unknown) => isApiError(e) && e.code === 'invalid_value');
  });
});

describe('parakeet without a model', () => {
  test('says to run parley models pull parakeet-tdt-0.6b-v2-int8', async () => {
    await assert.rejects(
      parakeetDescriptor.create({ modelsDir: dir, threads: 1 }),
      (e: unknown) => isApiError(e) && e.code === 'engine_unavailable' && /parley models pull parakeet-tdt-0\.6b-v2-int8/.test(e.message),
    );
  });
});
