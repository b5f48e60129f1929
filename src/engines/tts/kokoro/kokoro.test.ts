import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiError, isApiError } from '../../../errors.js';
import { OPENAI_VOICES } from '../types.js';
import { KokoroEngine, missingKokoroFiles, resolveKokoroFolder } from './engine.js';
import { KOKORO_VOICE_MAP, KOKORO_VOICES } from './voices.js';

describe('kokoro engine', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'parley-kokoro-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test('without the model it is engine_unavailable and says to run parley models pull kokoro-82m', async () => {
    await assert.rejects(KokoroEngine.create({ modelsDir: tmp, concurrency: 1 }), (e) => {
      const err = e as ApiError;
      assert.ok(isApiError(err));
      assert.equal(err.code, 'engine_unavailable');
      assert.equal(err.status, 503);
      assert.match(err.message, /parley models pull kokoro-82m/);
      assert.match(err.message, new RegExp(path.join(tmp, 'kokoro-82m').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      return true;
    });
  });

  test('a folder missing the ONNX file names what is missing', async () => {
    const dir = path.join(tmp, 'partial');
    await mkdir(dir, { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await writeFile(path.join(dir, f), '{}');
    assert.deepEqual(await missingKokoroFiles(dir), ['onnx/model_quantized.onnx']);
    await assert.rejects(KokoroEngine.create({ modelsDir: tmp, model: dir, concurrency: 1 }), (e) => {
      return (
        isApiError(e) && e.code === 'engine_unavailable' && /onnx\/model_quantized\.onnx/.test(e.message) && /parley models pull kokoro-82m/.test(e.message)
      );
    });
  });

  test('a corrupt model folder is engine_unavailable, and nothing is fetched from the network', async () => {
    const dir = path.join(tmp, 'corrupt');
    await mkdir(path.join(dir, 'onnx'), { recursive: true });
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'style_text_to_speech_2' }));
    await writeFile(path.join(dir, 'tokenizer.json'), '{}');
    await writeFile(path.join(dir, 'tokenizer_config.json'), '{}');
    await writeFile(path.join(dir, 'onnx', 'model_quantized.onnx'), 'not an onnx file');
    const realFetch = globalThis.fetch;
    const fetched: string[] = [];
    globalThis.fetch = (async (input: unknown) => {
      fetched.push(String(input));
      throw new Error('no network in tests');
    }) as typeof fetch;
    try {
      await assert.rejects(
        KokoroEngine.create({ modelsDir: tmp, model: dir, concurrency: 1 }),
        (e) => isApiError(e) && e.code === 'engine_unavailable' && /could not be loaded/.test(e.message),
      );
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.deepEqual(fetched, []);
  });

  test('resolves a cache name under modelsDir and a path as given', async () => {
    assert.equal(await resolveKokoroFolder({ modelsDir: tmp }), path.join(tmp, 'kokoro-82m'));
    assert.equal(await resolveKokoroFolder({ modelsDir: tmp, model: 'other-name' }), path.join(tmp, 'other-name'));
    assert.equal(await resolveKokoroFolder({ modelsDir: tmp, model: '/opt/models/kokoro' }), '/opt/models/kokoro');
  });

  test('maps all 13 OpenAI voices to real Kokoro voices, the namesakes to their namesakes', () => {
    const ids = new Set(KOKORO_VOICES.map((v) => v.id));
    for (const name of OPENAI_VOICES) assert.ok(ids.has(KOKORO_VOICE_MAP[name]!.voice), name);
    assert.equal(KOKORO_VOICE_MAP.alloy!.voice, 'af_alloy');
    assert.equal(KOKORO_VOICE_MAP.echo!.voice, 'am_echo');
    assert.equal(KOKORO_VOICE_MAP.onyx!.voice, 'am_onyx');
    assert.equal(KOKORO_VOICE_MAP.nova!.voice, 'af_nova');
    assert.equal(KOKORO_VOICE_MAP.fable!.voice, 'bm_fable');
  });

  test('lists exactly the voices kokoro-js knows', async () => {
    const { KokoroTTS } = await import('kokoro-js');
    // The constructor only stores its arguments; `voices` is kokoro-js's static table.
    const known = Object.keys(new KokoroTTS(null as never, null as never).voices);
    assert.deepEqual(KOKORO_VOICES.map((v) => v.id).sort(), known.sort());
  });
});
