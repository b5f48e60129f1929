/**
 * The Moonshine engine on real sherpa-onnx with a tiny preprocess/encode/decode set
 * (test/fixtures/models/make-tiny-sherpa.ts): a clip with sound decodes to "hello world this is
 * a test", a silent one to nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeTinyMoonshine } from '../../../../test/fixtures/models/make-tiny-sherpa.js';
import type { PcmAudio } from '../../../audio/types.js';
import { isApiError } from '../../../errors.js';
import type { SherpaAsrEngine } from '../sherpa/recognizer.js';
import { readWav16, SPEECH_FIXTURES } from '../test-support.js';
import { createMoonshineEngine, moonshineDescriptor } from './index.js';

let dir: string;
let speech: PcmAudio;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-moonshine-'));
  writeTinyMoonshine(path.join(dir, 'moonshine-base-en-int8'));
  speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0880.wav'));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('moonshine with a tiny model', () => {
  let engine: SherpaAsrEngine;
  before(async () => {
    // No model given: the default name is found in the models directory.
    engine = await createMoonshineEngine({ modelsDir: dir, threads: 1 });
  });
  after(() => engine.dispose());

  test('decodes speech to the sentence the tiny decoder spells, as one segment per window', async () => {
    const t = await engine.transcribe(speech, { wordTimestamps: true });
    assert.equal(t.text, 'hello world this is a test');
    assert.equal(t.language, 'en');
    assert.deepEqual(
      t.segments.map((s) => ({ start: s.start, end: s.end, text: s.text })),
      [{ start: 0, end: t.durationSec, text: ' hello world this is a test' }],
    );
    assert.equal(t.words, undefined, 'Moonshine reports no token times');
  });

  test('decodes silence to nothing', async () => {
    const t = await engine.transcribe({ samples: new Float32Array(48_000), sampleRate: 16_000 });
    assert.equal(t.text, '');
    assert.deepEqual(t.segments, []);
  });

  test('offers neither word times nor emotion', () => {
    assert.deepEqual(engine.capabilities, { translate: false, wordTimestamps: false, languageDetection: false, emotion: false });
  });
});

describe('moonshine without a model', () => {
  test('says which parley models pull to run', async () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    await assert.rejects(
      moonshineDescriptor.create({ modelsDir: empty, threads: 1 }),
      (e: unknown) => isApiError(e) && e.code === 'engine_unavailable' && /parley models pull moonshine-base-en-int8/.test(e.message),
    );
  });
});
