import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeTinySenseVoice } from '../../../test/fixtures/models/make-tiny-sherpa.js';
import { writeTinyWhisperModel } from '../../../test/fixtures/models/make-tiny-whisper.js';
import { ApiError } from '../../errors.js';
import {
  ASR_ENGINE_IDS,
  chooseDefaultAsrEngine,
  createAsrEngine,
  createConfiguredAsrEngine,
  isAsrEngineId,
  loadAsrEngineDescriptor,
  resolveAsrEngine,
} from './registry.js';

let dir: string;
let model: string;
let sensevoice: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-asr-registry-'));
  model = path.join(dir, 'ggml-tiny-random.en.bin');
  writeTinyWhisperModel(model);
  sensevoice = writeTinySenseVoice(path.join(dir, 'sensevoice-folder'));
});

/** A resolver that knows only `names` (the model cache with those models installed). */
const cacheWith =
  (names: Record<string, string>) =>
  (name: string): string => {
    const found = names[name];
    if (found === undefined) throw new Error(`${name} is not in the cache`);
    return found;
  };

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('knows the five engines in the order auto prefers them', () => {
  assert.deepEqual([...ASR_ENGINE_IDS], ['sensevoice', 'parakeet', 'whisper', 'moonshine', 'pocketsphinx']);
  assert.ok(isAsrEngineId('whisper'));
  assert.ok(!isAsrEngineId('vosk'));
});

test('loads descriptors lazily with their ids', async () => {
  for (const id of ASR_ENGINE_IDS) assert.equal((await loadAsrEngineDescriptor(id)).id, id);
});

test('auto takes the engine a configured model fits: a whisper file → whisper, a SenseVoice folder → sensevoice', async () => {
  assert.equal(await chooseDefaultAsrEngine({ model, modelsDir: path.join(dir, 'empty'), threads: 1 }), 'whisper');
  assert.equal(await chooseDefaultAsrEngine({ model: sensevoice, modelsDir: path.join(dir, 'empty'), threads: 1 }), 'sensevoice');
});

test('auto prefers sensevoice over whisper when both are in the cache, and says which it passed over', async () => {
  const both = cacheWith({ 'sensevoice-small-int8': sensevoice, 'whisper-base.en': model });
  assert.equal(await chooseDefaultAsrEngine({ modelsDir: path.join(dir, 'empty'), threads: 1, resolveModel: both }), 'sensevoice');
  const whisperOnly = await resolveAsrEngine('auto', { modelsDir: path.join(dir, 'empty'), threads: 1, resolveModel: cacheWith({ 'whisper-base.en': model }) });
  assert.equal(whisperOnly.id, 'whisper');
  assert.ok(whisperOnly.available);
  assert.deepEqual(
    whisperOnly.passedOver.map((p) => p.id),
    ['sensevoice', 'parakeet'],
  );
  assert.match(whisperOnly.passedOver[0]!.reason, /parley models pull sensevoice-small-int8/);
  assert.match(whisperOnly.reason, /^auto: /);
});

test('an engine set explicitly is taken as it is, and says why it cannot run', async () => {
  const choice = await resolveAsrEngine('parakeet', { modelsDir: path.join(dir, 'empty'), threads: 1 });
  assert.equal(choice.id, 'parakeet');
  assert.equal(choice.available, false);
  assert.match(choice.reason, /parley models pull parakeet-tdt-0\.6b-v2-int8/);
});

test('falls back to pocketsphinx when no whisper model is installed', async () => {
  const id = await chooseDefaultAsrEngine({
    modelsDir: path.join(dir, 'empty'),
    threads: 1,
    resolveModel: cacheWith({}),
  });
  assert.equal(id, 'pocketsphinx');
});

test('creates the engine it is asked for', async () => {
  const engine = await createAsrEngine('whisper', { model, modelsDir: dir, threads: 1 });
  assert.equal(engine.id, 'whisper');
  await engine.dispose();
});

test('creates the configured engine, auto included', async () => {
  const engine = await createConfiguredAsrEngine('auto', { modelsDir: path.join(dir, 'empty'), threads: 1 });
  assert.equal(engine.id, 'pocketsphinx');
  await engine.dispose();
});

test('fails with engine_unavailable when a configured whisper model is missing', async () => {
  await assert.rejects(
    createConfiguredAsrEngine('auto', { model: path.join(dir, 'missing.bin'), modelsDir: dir, threads: 1 }),
    (e: unknown) => e instanceof ApiError && e.code === 'engine_unavailable' && /parley models pull/.test(e.message),
  );
});
