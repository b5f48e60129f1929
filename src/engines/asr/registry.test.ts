import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeTinyWhisperModel } from '../../../test/fixtures/models/make-tiny-whisper.js';
import { ApiError } from '../../errors.js';
import { ASR_ENGINE_IDS, chooseDefaultAsrEngine, createAsrEngine, createConfiguredAsrEngine, isAsrEngineId, loadAsrEngineDescriptor } from './registry.js';

let dir: string;
let model: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-asr-registry-'));
  model = path.join(dir, 'ggml-tiny-random.en.bin');
  writeTinyWhisperModel(model);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('knows whisper and pocketsphinx, and nothing else', () => {
  assert.deepEqual([...ASR_ENGINE_IDS], ['whisper', 'pocketsphinx']);
  assert.ok(isAsrEngineId('whisper'));
  assert.ok(!isAsrEngineId('vosk'));
});

test('loads descriptors lazily with their ids', async () => {
  for (const id of ASR_ENGINE_IDS) assert.equal((await loadAsrEngineDescriptor(id)).id, id);
});

test('chooses whisper when a model is configured', async () => {
  assert.equal(await chooseDefaultAsrEngine({ model: 'anything', modelsDir: dir, threads: 1 }), 'whisper');
});

test('chooses whisper when the default model resolves through the cache', async () => {
  const asked: string[] = [];
  const id = await chooseDefaultAsrEngine({
    modelsDir: dir,
    threads: 1,
    resolveModel: (name) => {
      asked.push(name);
      return model;
    },
  });
  assert.equal(id, 'whisper');
  assert.deepEqual(asked, ['whisper-base.en']);
});

test('falls back to pocketsphinx when no whisper model is installed', async () => {
  const id = await chooseDefaultAsrEngine({
    modelsDir: path.join(dir, 'empty'),
    threads: 1,
    resolveModel: (name) => {
      throw new Error(`${name} is not in the cache`);
    },
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
