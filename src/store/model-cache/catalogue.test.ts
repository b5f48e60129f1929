import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_CATALOGUE, entrySize, findEntry, KOKORO_VOICES } from './catalogue.js';

describe('the built-in catalogue', () => {
  it('has unique names and well-formed files', () => {
    const names = DEFAULT_CATALOGUE.map((e) => e.name);
    assert.equal(new Set(names).size, names.length);
    for (const entry of DEFAULT_CATALOGUE) {
      assert.ok(entry.files.length > 0, entry.name);
      if (entry.main)
        assert.ok(
          entry.files.some((f) => f.path === entry.main),
          `${entry.name}: main is one of its files`,
        );
      const paths = entry.files.map((f) => f.path);
      assert.equal(new Set(paths).size, paths.length, `${entry.name}: unique paths`);
      for (const f of entry.files) {
        assert.ok(!f.path.startsWith('/') && !f.path.split('/').includes('..'), `${entry.name}: ${f.path} stays inside its folder`);
        assert.ok(f.sha256 === null || /^[0-9a-f]{64}$/.test(f.sha256), `${entry.name}: ${f.path} sha256`);
        assert.ok(f.size === null || (Number.isSafeInteger(f.size) && f.size > 0), `${entry.name}: ${f.path} size`);
      }
    }
  });

  it('pins every URL to a commit rather than a branch', () => {
    for (const entry of DEFAULT_CATALOGUE) {
      for (const f of entry.files) {
        assert.match(f.url, /^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/[0-9a-f]{40}\//, f.url);
        assert.ok(f.url.endsWith(`/${f.path.split('/').at(-1)}`), `${f.url} names ${f.path}`);
      }
    }
  });

  it('offers the defaults the issue asks for', () => {
    for (const name of [
      'kokoro-82m',
      'whisper-tiny',
      'whisper-tiny.en',
      'whisper-base',
      'whisper-base.en',
      'whisper-small',
      'qwen2.5-0.5b-instruct',
      'qwen2.5-1.5b-instruct',
    ]) {
      assert.ok(findEntry(DEFAULT_CATALOGUE, name), name);
    }
    assert.equal(findEntry(DEFAULT_CATALOGUE, 'kokoro-82m')?.kind, 'tts');
    const toxicBert = findEntry(DEFAULT_CATALOGUE, 'toxic-bert');
    assert.equal(toxicBert?.kind, 'safety');
    assert.equal(toxicBert?.main, undefined, 'the classifier takes the folder');
    assert.deepEqual(toxicBert?.files.map((f) => f.path).sort(), ['onnx/model_quantized.onnx', 'vocab.txt']);
    assert.equal(findEntry(DEFAULT_CATALOGUE, 'whisper-base.en')?.main, 'ggml-base.en.bin');
    assert.equal(entrySize(findEntry(DEFAULT_CATALOGUE, 'whisper-tiny')!), 77_691_713);
  });

  it('ships the Kokoro model, tokenizer and every voice of the OpenAI voice map', () => {
    const kokoro = findEntry(DEFAULT_CATALOGUE, 'kokoro-82m')!;
    const paths = kokoro.files.map((f) => f.path);
    for (const p of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_quantized.onnx']) assert.ok(paths.includes(p), p);
    for (const voice of [
      'af_alloy',
      'af_heart',
      'af_bella',
      'af_nova',
      'af_sky',
      'af_sarah',
      'af_nicole',
      'am_echo',
      'am_onyx',
      'am_adam',
      'am_michael',
      'am_puck',
      'bf_emma',
      'bm_fable',
      'bm_george',
    ]) {
      assert.ok(paths.includes(`voices/${voice}.bin`), voice);
    }
  });

  it("has a checksum for every file but toxic-bert's vocab.txt (Hugging Face publishes none for small files)", () => {
    const unverified = DEFAULT_CATALOGUE.flatMap((e) => e.files.filter((f) => f.sha256 === null).map((f) => `${e.name}/${f.path}`));
    assert.deepEqual(unverified, ['toxic-bert/vocab.txt']);
  });

  it('matches the voice packs that the kokoro-js package ships, byte for byte', async (t) => {
    let voicesDir: string;
    try {
      // The entry point is dist/kokoro.*; the voices sit beside dist/ (package.json is not exported).
      voicesDir = path.join(path.dirname(createRequire(import.meta.url).resolve('kokoro-js')), '..', 'voices');
    } catch {
      voicesDir = '';
    }
    if (!voicesDir || !existsSync(voicesDir)) {
      t.skip('kokoro-js is not installed');
      return;
    }
    for (const [voice, sha] of Object.entries(KOKORO_VOICES)) {
      const data = await readFile(path.join(voicesDir, `${voice}.bin`));
      assert.equal(data.length, 522_240, voice);
      assert.equal(createHash('sha256').update(data).digest('hex'), sha, voice);
    }
  });
});
