/**
 * The kokoro engine on real sherpa-onnx with a tiny Kokoro-compatible model and Debian's
 * espeak-ng-data (apt-get install espeak-ng-data): the text really goes through sherpa's
 * phonemiser, and the tiny model answers with a tone whose length is proportional to the phoneme
 * count over the speed and whose pitch is set by the voice's style vector (100 + 10·sid Hz).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tinyKokoroPitch, writeTinyKokoro } from '../../../../test/fixtures/models/make-tiny-sherpa.js';
import { medianPitch } from '../../../audio/pitch.js';
import { isApiError } from '../../../errors.js';
import { validateVoiceMap } from '../registry.js';
import type { SherpaTtsEngine } from '../sherpa/engine.js';
import { OPENAI_VOICES } from '../types.js';
import { createKokoroEngine, descriptor } from './index.js';
import { KOKORO_MODEL_NAME, KOKORO_SAMPLE_RATE, KOKORO_V1_SPEAKERS, KOKORO_VOICE_MAP } from './voices.js';

let dir: string;
const TEXT = 'Hello world. This is a test!';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-kokoro-'));
  writeTinyKokoro(path.join(dir, KOKORO_MODEL_NAME));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('kokoro with a tiny model', () => {
  let engine: SherpaTtsEngine;
  before(async () => {
    engine = await createKokoroEngine({ modelsDir: dir, concurrency: 1, threads: 1 });
  });
  after(() => engine.dispose());

  test("lists the model's 53 speakers by name, with their languages", () => {
    assert.deepEqual(
      engine.voices().map((v) => v.id),
      [...KOKORO_V1_SPEAKERS],
    );
    const emma = engine.voices().find((v) => v.id === 'bf_emma')!;
    assert.deepEqual(emma, { id: 'bf_emma', sid: 21, language: 'en-GB', gender: 'female', lang: 'en' });
    assert.deepEqual([...engine.languages()].sort(), ['en', 'es', 'fr', 'hi', 'it', 'ja', 'pt', 'zh']);
  });

  test('maps all 13 OpenAI voices to real Kokoro voices, the namesakes to their namesakes', () => {
    const map = engine.defaultVoiceMap();
    assert.deepEqual(validateVoiceMap(engine, map), []);
    assert.deepEqual(map, KOKORO_VOICE_MAP);
    assert.equal(map.alloy!.voice, 'af_alloy');
    assert.equal(map.echo!.voice, 'am_echo');
    assert.equal(map.fable!.voice, 'bm_fable');
  });

  test('speaks every OpenAI voice name to non-empty 24 kHz audio in that voice', async () => {
    for (const name of OPENAI_VOICES) {
      const rendering = engine.defaultVoiceMap()[name]!;
      const pcm = await engine.synthesize({ text: TEXT, rendering, speed: 1 });
      assert.equal(pcm.sampleRate, KOKORO_SAMPLE_RATE, name);
      assert.ok(pcm.samples.length > 2400, `${name}: ${pcm.samples.length} samples`);
      const sid = KOKORO_V1_SPEAKERS.indexOf(rendering.voice as (typeof KOKORO_V1_SPEAKERS)[number]);
      const pitch = medianPitch(pcm)!;
      assert.ok(Math.abs(pitch - tinyKokoroPitch(sid)) / tinyKokoroPitch(sid) < 0.05, `${name} → ${rendering.voice}: ${pitch} Hz`);
    }
  });

  test('honours speed: twice as fast is half as long', async () => {
    const rendering = { voice: 'af_heart' };
    const normal = await engine.synthesize({ text: TEXT, rendering, speed: 1 });
    const fast = await engine.synthesize({ text: TEXT, rendering, speed: 2 });
    assert.ok(Math.abs(fast.samples.length * 2 - normal.samples.length) <= 2, `${normal.samples.length} vs ${fast.samples.length}`);
  });

  test('phonemises a British voice with espeak-ng British English', async () => {
    const pcm = await engine.synthesize({ text: 'Good evening, Mr. Smith.', rendering: { voice: 'bm_george' }, speed: 1 });
    assert.ok(pcm.samples.length > 0);
  });

  test('raises the pitch by resampling when a rendering asks for it', async () => {
    const plain = await engine.synthesize({ text: TEXT, rendering: { voice: 'am_echo' }, speed: 1 });
    const high = await engine.synthesize({ text: TEXT, rendering: { voice: 'am_echo', pitch: 1.25 }, speed: 1 });
    assert.ok(Math.abs(medianPitch(high)! / medianPitch(plain)! - 1.25) < 0.05);
  });

  test('returns empty audio for empty text and rejects an unknown voice with invalid_value', async () => {
    assert.equal((await engine.synthesize({ text: '  ', rendering: { voice: 'af_nova' }, speed: 1 })).samples.length, 0);
    await assert.rejects(
      engine.synthesize({ text: TEXT, rendering: { voice: 'nobody' }, speed: 1 }),
      (e: unknown) => isApiError(e) && e.code === 'invalid_value',
    );
  });

  test('rejects with an AbortError when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      engine.synthesize({ text: TEXT, rendering: { voice: 'af_nova' }, speed: 1, signal: controller.signal }),
      (e: unknown) => e instanceof Error && e.name === 'AbortError',
    );
  });
});

describe('kokoro without a usable model', () => {
  test('says to run parley models pull kokoro-82m-int8 when the folder is missing', async () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    await assert.rejects(descriptor.create({ modelsDir: empty, concurrency: 1 }), (e: unknown) => {
      assert.ok(isApiError(e));
      assert.equal(e.status, 503);
      assert.equal(e.code, 'engine_unavailable');
      assert.match(e.message, /parley models pull kokoro-82m-int8/);
      return true;
    });
  });

  test('says to install espeak-ng-data when neither the folder nor the system has it', async () => {
    await assert.rejects(
      createKokoroEngine({ modelsDir: dir, concurrency: 1, systemEspeakDataDirs: [] }),
      (e: unknown) => isApiError(e) && e.code === 'engine_unavailable' && /apt-get install espeak-ng-data/.test(e.message),
    );
  });

  test('refuses a model without sample_rate, naming the key, before sherpa would stop the process', async () => {
    const broken = writeTinyKokoro(path.join(dir, 'no-rate'), { omitMetadata: ['sample_rate'] });
    await assert.rejects(
      createKokoroEngine({ model: broken, modelsDir: dir, concurrency: 1 }),
      (e: unknown) => isApiError(e) && /'sample_rate' is missing/.test(e.message),
    );
  });

  test('refuses a voices.bin of the wrong size', async () => {
    const folder = writeTinyKokoro(path.join(dir, 'short-voices'));
    fs.truncateSync(path.join(folder, 'voices.bin'), 1000);
    await assert.rejects(
      createKokoroEngine({ model: folder, modelsDir: dir, concurrency: 1 }),
      (e: unknown) => isApiError(e) && /voices\.bin has 1000 bytes/.test(e.message),
    );
  });

  test('a passage that crashes the model gets 503 naming it; the engine speaks the next one', async () => {
    const folder = writeTinyKokoro(path.join(dir, 'fragile'), { failAboveTokens: 40 });
    const engine = await createKokoroEngine({ model: folder, modelsDir: dir, concurrency: 1, threads: 1 });
    try {
      await assert.rejects(
        engine.synthesize({
          text: 'This sentence is long enough to give the fragile model more phoneme tokens than it accepts.',
          rendering: { voice: 'af_nova' },
          speed: 1,
        }),
        (e: unknown) => isApiError(e) && e.status === 503 && /'fragile'/.test(e.message),
      );
      assert.ok((await engine.synthesize({ text: 'Hi there.', rendering: { voice: 'af_nova' }, speed: 1 })).samples.length > 0);
    } finally {
      await engine.dispose();
    }
  });
});
