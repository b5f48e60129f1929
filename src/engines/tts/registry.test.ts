import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeTinyKokoro, writeTinyPiper } from '../../../test/fixtures/models/make-tiny-sherpa.js';
import { isApiError } from '../../errors.js';
import { KOKORO_VOICE_MAP, KOKORO_VOICES } from './kokoro/voices.js';
import {
  assertValidVoiceMap,
  createTtsEngine,
  describeVoiceMapProblems,
  loadTtsEngineDescriptor,
  resolveTtsEngine,
  TTS_ENGINE_IDS,
  VoiceMapError,
  validateVoiceMap,
} from './registry.js';
import { FakeTtsEngine } from './test-fakes.js';
import { OPENAI_VOICES, type TtsEngine } from './types.js';

describe('TTS registry', () => {
  const opts = { modelsDir: os.tmpdir(), concurrency: 1 };
  let flite: TtsEngine;
  let espeak: TtsEngine;
  before(async () => {
    [flite, espeak] = await Promise.all([createTtsEngine('flite', opts), createTtsEngine('espeak-ng', opts)]);
  });
  after(async () => {
    await Promise.all([flite.dispose(), espeak.dispose()]);
  });

  test('knows kokoro, piper, flite and espeak-ng, each with a descriptor of its own id', async () => {
    assert.deepEqual([...TTS_ENGINE_IDS], ['kokoro', 'piper', 'flite', 'espeak-ng']);
    for (const id of TTS_ENGINE_IDS) assert.equal((await loadTtsEngineDescriptor(id)).id, id);
  });

  test('rejects an unknown engine id naming the known ones', async () => {
    await assert.rejects(
      createTtsEngine('festival', opts),
      (e) => isApiError(e) && e.code === 'invalid_value' && /'kokoro', 'piper', 'flite', and 'espeak-ng'/.test(e.message),
    );
  });

  test('every engine’s default voice map covers the 13 OpenAI names with voices it has', () => {
    assert.deepEqual(validateVoiceMap(flite, flite.defaultVoiceMap()), []);
    assert.deepEqual(validateVoiceMap(espeak, espeak.defaultVoiceMap()), []);
    const kokoro = new FakeTtsEngine('kokoro', KOKORO_VOICES, ['en'], KOKORO_VOICE_MAP);
    assert.deepEqual(validateVoiceMap(kokoro, KOKORO_VOICE_MAP), []);
    for (const e of [flite, espeak]) for (const name of OPENAI_VOICES) assert.ok(e.defaultVoiceMap()[name], `${e.id} ${name}`);
  });

  test('validateVoiceMap reports every name mapped to a voice the engine lacks', () => {
    const map = { ...flite.defaultVoiceMap(), alloy: { voice: 'af_alloy' }, echo: { voice: 'nosuch' } };
    const problems = validateVoiceMap(flite, map);
    assert.deepEqual(
      problems.map((p) => [p.name, p.kind]),
      [
        ['alloy', 'unknown-voice'],
        ['echo', 'unknown-voice'],
      ],
    );
    const text = describeVoiceMapProblems(flite, problems);
    assert.match(text, /'alloy' → 'af_alloy': flite has no voice 'af_alloy'/);
    assert.match(text, /'echo' → 'nosuch'/);
    assert.match(text, /Voices of flite: slt, rms, awb, kal16, kal/);
    assert.throws(
      () => assertValidVoiceMap(flite, map),
      (e) => e instanceof VoiceMapError && e.problems.length === 2,
    );
  });

  test('validateVoiceMap reports unmapped OpenAI names and out-of-range factors', () => {
    const { nova: _nova, ...rest } = flite.defaultVoiceMap();
    const problems = validateVoiceMap(flite, { ...rest, onyx: { voice: 'rms', pitch: 9 } });
    assert.deepEqual(
      problems.map((p) => [p.name, p.kind]),
      [
        ['nova', 'missing'],
        ['onyx', 'bad-value'],
      ],
    );
  });

  test('espeak-ng accepts language+variant ids and rejects unknown variants', () => {
    assert.deepEqual(validateVoiceMap(espeak, { ...espeak.defaultVoiceMap(), alloy: { voice: 'fr-fr+f2' } }), []);
    assert.deepEqual(
      validateVoiceMap(espeak, { ...espeak.defaultVoiceMap(), alloy: { voice: 'en-us+f9' } }).map((p) => p.name),
      ['alloy'],
    );
  });

  test('auto takes kokoro › piper › flite, the best whose model is in the cache or the configured folder', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-tts-auto-'));
    try {
      const none = await resolveTtsEngine('auto', { modelsDir: cache, concurrency: 1 });
      assert.equal(none.id, 'flite');
      assert.deepEqual(
        none.passedOver.map((p) => p.id),
        ['kokoro', 'piper'],
      );
      assert.match(none.passedOver[0]!.reason, /parley models pull kokoro-82m-int8/);
      const piper = writeTinyPiper(path.join(cache, 'piper-en_US-amy-medium'));
      assert.equal((await resolveTtsEngine('auto', { modelsDir: cache, concurrency: 1 })).id, 'piper');
      writeTinyKokoro(path.join(cache, 'kokoro-82m-int8'));
      const best = await resolveTtsEngine('auto', { modelsDir: cache, concurrency: 1 });
      assert.equal(best.id, 'kokoro');
      assert.equal(best.reason, 'auto: the best engine');
      // A configured folder counts as installed: a Piper folder elsewhere, Kokoro not fitting it.
      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-tts-auto-folder-'));
      fs.cpSync(piper, elsewhere, { recursive: true });
      const configured = await resolveTtsEngine('auto', { model: elsewhere, modelsDir: path.join(cache, 'none'), concurrency: 1 });
      assert.equal(configured.id, 'piper');
      fs.rmSync(elsewhere, { recursive: true, force: true });
      const explicit = await resolveTtsEngine('kokoro', { modelsDir: path.join(cache, 'none'), concurrency: 1 });
      assert.equal(explicit.available, false);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
