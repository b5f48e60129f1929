import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KOKORO_VOICE_MAP } from '../../engines/tts/kokoro/voices.js';
import { DEFAULT_CATALOGUE, entrySize, findEntry } from './catalogue.js';

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

  it('pins every Hugging Face URL to a commit rather than a branch, and every release asset to a checksum', () => {
    for (const entry of DEFAULT_CATALOGUE) {
      for (const f of entry.files) {
        if (f.url.startsWith('https://github.com/')) {
          // sherpa-onnx's release assets: named by release; the SHA-256 holds them to the bytes.
          assert.match(f.url, /^https:\/\/github\.com\/k2-fsa\/sherpa-onnx\/releases\/download\/[^/]+\/[^/]+\.tar\.bz2$/, f.url);
          assert.ok(f.sha256 && f.extract, `${entry.name}: ${f.path} is a checksummed archive`);
        } else {
          assert.match(f.url, /^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/[0-9a-f]{40}\//, f.url);
        }
        assert.ok(f.url.endsWith(`/${f.path.split('/').at(-1)}`), `${f.url} names ${f.path}`);
      }
    }
  });

  it('offers the defaults the issue asks for', () => {
    for (const name of [
      'kokoro-82m-int8',
      'sensevoice-small-int8',
      'parakeet-tdt-0.6b-v2-int8',
      'moonshine-tiny-en-int8',
      'moonshine-base-en-int8',
      'piper-en_US-amy-medium',
      'piper-de_DE-thorsten-medium',
      'piper-es_ES-davefx-medium',
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
    assert.equal(findEntry(DEFAULT_CATALOGUE, 'kokoro-82m-int8')?.kind, 'tts');
    assert.equal(findEntry(DEFAULT_CATALOGUE, 'sensevoice-small-int8')?.engine, 'sensevoice');
    const toxicBert = findEntry(DEFAULT_CATALOGUE, 'toxic-bert');
    assert.equal(toxicBert?.kind, 'safety');
    assert.equal(toxicBert?.main, undefined, 'the classifier takes the folder');
    assert.deepEqual(toxicBert?.files.map((f) => f.path).sort(), ['onnx/model_quantized.onnx', 'vocab.txt']);
    assert.equal(findEntry(DEFAULT_CATALOGUE, 'whisper-base.en')?.main, 'ggml-base.en.bin');
    assert.equal(entrySize(findEntry(DEFAULT_CATALOGUE, 'whisper-tiny')!), 77_691_713);
  });

  it("ships Kokoro in sherpa-onnx's layout, with voices.bin holding the voices of the OpenAI map", () => {
    const kokoro = findEntry(DEFAULT_CATALOGUE, 'kokoro-82m-int8')!;
    const paths = kokoro.files.map((f) => f.path);
    for (const p of ['model.int8.onnx', 'voices.bin', 'tokens.txt', 'lexicon-us-en.txt', 'espeak-ng-data.tar.bz2']) assert.ok(paths.includes(p), p);
    // voices.bin of v1.0: 53 speakers × 510 × 256 float32 (the map's voices are among them).
    assert.equal(kokoro.files.find((f) => f.path === 'voices.bin')?.size, 53 * 510 * 256 * 4);
    assert.ok(Object.values(KOKORO_VOICE_MAP).every((r) => /^[ab][fm]_/.test(r.voice)));
  });

  it('unpacks each Piper archive into its model folder with the voice, tokens.txt and espeak-ng-data', () => {
    for (const name of ['piper-en_US-amy-medium', 'piper-de_DE-thorsten-medium', 'piper-es_ES-davefx-medium']) {
      const [archive] = findEntry(DEFAULT_CATALOGUE, name)!.files;
      assert.equal(archive?.extract?.root, `vits-${name}-int8`);
      assert.deepEqual(archive?.extract?.contains, [`${name.slice('piper-'.length)}.onnx`, 'tokens.txt', 'espeak-ng-data/phontab']);
    }
  });

  it("has a checksum for every file but toxic-bert's vocab.txt (Hugging Face publishes none for small files)", () => {
    const unverified = DEFAULT_CATALOGUE.flatMap((e) => e.files.filter((f) => f.sha256 === null).map((f) => `${e.name}/${f.path}`));
    assert.deepEqual(unverified, ['toxic-bert/vocab.txt']);
  });
});
