/**
 * The piper engine on real sherpa-onnx with tiny Piper-compatible voices and Debian's
 * espeak-ng-data: a tone of known length (phoneme count / speed) and pitch (150 + 20·sid Hz).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tinyPiperPitch, writeTinyPiper } from '../../../../test/fixtures/models/make-tiny-sherpa.js';
import { medianPitch } from '../../../audio/pitch.js';
import { isApiError } from '../../../errors.js';
import { validateVoiceMap } from '../registry.js';
import type { SherpaTtsEngine } from '../sherpa/engine.js';
import { OPENAI_VOICES } from '../types.js';
import { createPiperEngine, descriptor } from './index.js';

let dir: string;
const TEXT = 'Hello world. This is a test!';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-piper-'));
  writeTinyPiper(path.join(dir, 'amy'), { name: 'en_US-amy-low' });
  const many = writeTinyPiper(path.join(dir, 'vctk'), { name: 'en_GB-vctk-medium', speakers: 4, voice: 'en', sampleRate: 22_050 });
  fs.writeFileSync(path.join(many, 'en_GB-vctk-medium.onnx.json'), JSON.stringify({ speaker_id_map: { p225: 0, p226: 1, p227: 2, p228: 3 } }));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('piper with a single-speaker voice', () => {
  let engine: SherpaTtsEngine;
  before(async () => {
    engine = await createPiperEngine({ model: path.join(dir, 'amy'), modelsDir: dir, concurrency: 1, threads: 1 });
  });
  after(() => engine.dispose());

  test('offers the voice under its file name, in the language of its name', () => {
    assert.deepEqual(engine.voices(), [{ id: 'en_US-amy-low', sid: 0, language: 'en-US' }]);
    assert.deepEqual(engine.languages(), ['en']);
  });

  test('speaks all 13 OpenAI names at 16 kHz, the male names lower than the female ones', async () => {
    const map = engine.defaultVoiceMap();
    assert.deepEqual(validateVoiceMap(engine, map), []);
    const pitch: Record<string, number> = {};
    for (const name of OPENAI_VOICES) {
      const pcm = await engine.synthesize({ text: TEXT, rendering: map[name]!, speed: 1 });
      assert.equal(pcm.sampleRate, 16_000);
      assert.ok(pcm.samples.length > 1600, name);
      pitch[name] = medianPitch(pcm)!;
    }
    assert.ok(Math.abs(pitch.alloy! - tinyPiperPitch(0)) < 8, `alloy ${pitch.alloy}`);
    for (const male of ['ash', 'echo', 'onyx', 'cedar'])
      for (const female of ['coral', 'nova', 'shimmer']) assert.ok(pitch[male]! < pitch[female]!, `${male} ${pitch[male]} vs ${female} ${pitch[female]}`);
  });

  test('honours speed: half speed is twice as long', async () => {
    const normal = await engine.synthesize({ text: TEXT, rendering: { voice: 'en_US-amy-low' }, speed: 1 });
    const slow = await engine.synthesize({ text: TEXT, rendering: { voice: 'en_US-amy-low' }, speed: 0.5 });
    assert.ok(Math.abs(slow.samples.length - 2 * normal.samples.length) <= 2, `${normal.samples.length} vs ${slow.samples.length}`);
  });
});

describe('piper with a many-speaker voice', () => {
  let engine: SherpaTtsEngine;
  before(async () => {
    engine = await createPiperEngine({ model: path.join(dir, 'vctk'), modelsDir: dir, concurrency: 1, threads: 1 });
  });
  after(() => engine.dispose());

  test("names the speakers from Piper's .onnx.json and speaks each with its own speaker id", async () => {
    assert.deepEqual(
      engine.voices().map((v) => v.id),
      ['p225', 'p226', 'p227', 'p228'],
    );
    const map = engine.defaultVoiceMap();
    assert.deepEqual(validateVoiceMap(engine, map), []);
    assert.equal(map.alloy!.voice, 'p225');
    assert.equal(map.ash!.voice, 'p226');
    const pcm = await engine.synthesize({ text: TEXT, rendering: { voice: 'p228' }, speed: 1 });
    assert.equal(pcm.sampleRate, 22_050);
    assert.ok(Math.abs(medianPitch(pcm)! - tinyPiperPitch(3)) < 10, `${medianPitch(pcm)} Hz`);
  });
});

describe('piper without a voice', () => {
  test('says to run parley models pull piper-en_US-amy-medium', async () => {
    await assert.rejects(
      descriptor.create({ modelsDir: fs.mkdtempSync(path.join(dir, 'empty-')), concurrency: 1 }),
      (e: unknown) => isApiError(e) && e.code === 'engine_unavailable' && /parley models pull piper-en_US-amy-medium/.test(e.message),
    );
  });

  test('refuses tokens.txt without the pad symbol, which would abort sherpa mid-sentence', async () => {
    const folder = writeTinyPiper(path.join(dir, 'no-pad'));
    const tokens = path.join(folder, 'tokens.txt');
    fs.writeFileSync(tokens, fs.readFileSync(tokens, 'utf8').replace(/^_ 0\n/, ''));
    await assert.rejects(
      createPiperEngine({ model: folder, modelsDir: dir, concurrency: 1 }),
      (e: unknown) => isApiError(e) && /lacks the tokens "_"/.test(e.message),
    );
  });
});
