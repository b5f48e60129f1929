/**
 * The sherpa-onnx engines through the whole server, driven by the official SDK, on tiny models
 * whose output is a known function of the input (test/fixtures/models/make-tiny-sherpa.ts):
 * - `PARLEY_ASR_ENGINE=sensevoice` + a model folder serves transcriptions, analysis and chat; the
 *   emotion and the events SenseVoice hears reach `/v1/audio/analysis` and the prompt the language
 *   model receives (a loud clip is heard as angry with laughter, a quiet one as neutral);
 * - `PARLEY_TTS_ENGINE=kokoro` + a model folder speaks every OpenAI voice name;
 * - a model with broken metadata is a 503 `engine_unavailable` naming it, never a crash; a model
 *   that kills its speech host mid-request costs that request only.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readWav16, SPEECH_FIXTURES } from '../src/engines/asr/test-support.js';
import type { LlmEngine, LlmMessage } from '../src/engines/llm/types.js';
import { OPENAI_VOICES } from '../src/engines/tts/types.js';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { TINY_WORDS, writeTinyKokoro, writeTinySenseVoice } from './fixtures/models/make-tiny-sherpa.js';
import { wavToPcm } from './helpers/audio.js';
import { expectApiError } from './helpers/errors.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const MODEL = 'gpt-4o-mini-audio-preview';

/** 16-bit mono WAV bytes of `samples`. */
function wav(samples: Float32Array, sampleRate: number): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, s)) * 32767), i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

let dir: string;
let loud: Buffer; // a spoken sentence at its own level: the tiny SenseVoice hears anger and laughter
let quiet: Buffer; // the same 40 dB quieter: neutral speech, no events

before(() => {
  dir = tempDir('parley-engines-');
  const speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0880.wav'));
  loud = wav(speech.samples, speech.sampleRate);
  quiet = wav(
    speech.samples.map((s) => s * 0.01),
    speech.sampleRate,
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('PARLEY_ASR_ENGINE=sensevoice with a model folder', () => {
  let server: TestServer;
  const prompts: LlmMessage[][] = [];

  before(async () => {
    const asr = writeTinySenseVoice(path.join(dir, 'sensevoice'));
    const gguf = path.join(dir, 'tiny.gguf');
    writeTinyGguf(gguf, { asciiOnly: true });
    server = await startTestServer({ PARLEY_ASR_ENGINE: 'sensevoice', PARLEY_ASR_MODEL: asr, PARLEY_LLM_MODEL: gguf });
    // The real language model, recording every prompt it receives.
    const engines = server.runtime.services.engines();
    const real = engines.llm;
    engines.llm = async () => {
      const llm = await real();
      return {
        ...llm,
        id: llm.id,
        model: llm.model,
        generate: (o) => {
          prompts.push(structuredClone(o.messages));
          return llm.generate(o);
        },
      } satisfies LlmEngine;
    };
  });
  after(async () => {
    await server?.close();
  });

  test('serves transcriptions through the SDK with the words the model emits', async () => {
    const t = await server.client.audio.transcriptions.create({
      model: 'whisper-1',
      file: new File([new Uint8Array(loud)], 'loud.wav', { type: 'audio/wav' }),
    });
    assert.match(t.text, new RegExp(`^${TINY_WORDS.join(' ')}`));
    const verbose = await server.client.audio.transcriptions.create({
      model: 'whisper-1',
      file: new File([new Uint8Array(loud)], 'loud.wav', { type: 'audio/wav' }),
      response_format: 'verbose_json',
      timestamp_granularities: ['word'],
    });
    assert.equal(verbose.language, 'english');
    assert.ok((verbose.words ?? []).length > 0);
    assert.equal(verbose.words![0]!.word, 'hello');
  });

  test('/v1/audio/analysis: a loud clip is heard as angry with laughter, a quiet one as neutral (source acoustic)', async () => {
    const analyse = async (audio: Buffer) => {
      const res = await fetch(`${server.url}/v1/audio/analysis`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ audio: audio.toString('base64'), format: 'wav' }),
      });
      assert.equal(res.status, 200);
      return (await res.json()) as {
        text: string;
        emotion: { label: string; confidence: number; source: string };
        events: Array<{ label: string }>;
        analysis: { emotion: { label: string; source: string } };
        description: string;
      };
    };
    const a = await analyse(loud);
    assert.deepEqual(a.emotion, { label: 'angry', confidence: 1, source: 'acoustic' });
    assert.deepEqual(
      a.events.map((e) => e.label),
      ['laughter'],
    );
    assert.equal(a.analysis.emotion.label, 'angry');
    assert.match(a.description, /angry \(acoustic/);
    assert.match(a.description, /laughter/);
    const q = await analyse(quiet);
    assert.equal(q.emotion.label, 'neutral');
    assert.equal(q.emotion.source, 'acoustic');
    assert.deepEqual(q.events, []);
    assert.match(q.text, /^hello world/);
  });

  test('the prompt the language model receives carries the emotion and the events heard', async () => {
    const turn = async (audio: Buffer): Promise<string> => {
      prompts.length = 0;
      const res = await server.client.chat.completions.create({
        model: MODEL,
        max_tokens: 4,
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: audio.toString('base64'), format: 'wav' } }] }],
      });
      assert.equal(res.object, 'chat.completion');
      assert.equal(prompts.length, 1, 'the model ran once');
      return JSON.stringify(prompts[0]);
    };
    const angry = await turn(loud);
    assert.match(angry, /hello world this is a test/);
    assert.match(angry, /\[voice: angry \(acoustic/);
    assert.match(angry, /laughter/);
    const calm = await turn(quiet);
    assert.match(calm, /\[voice: neutral \(acoustic/);
    assert.doesNotMatch(calm, /angry|laughter/);
  });
});

describe('PARLEY_TTS_ENGINE=kokoro with a model folder', () => {
  let server: TestServer;
  before(async () => {
    const kokoro = writeTinyKokoro(path.join(dir, 'kokoro'));
    server = await startTestServer({ PARLEY_TTS_ENGINE: 'kokoro', PARLEY_TTS_MODEL: kokoro });
  });
  after(async () => {
    await server?.close();
  });

  test('speaks every OpenAI voice name through the SDK, each in a voice of its own, to WAV that decodes', async () => {
    assert.equal(server.runtime.services.engines().voiceTable().engine, 'kokoro');
    const lengths = new Set<number>();
    const zeroCrossings = new Map<string, number>();
    for (const voice of OPENAI_VOICES) {
      const res = await server.client.audio.speech.create({ model: 'tts-1', voice, input: 'Hello world, this is a test.', response_format: 'wav' });
      const pcm = wavToPcm(new Uint8Array(await res.arrayBuffer()));
      assert.equal(pcm.sampleRate, 24_000, voice);
      assert.ok(pcm.samples.length > 2400, `${voice}: ${pcm.samples.length} samples`);
      assert.ok(
        pcm.samples.some((s) => Math.abs(s) > 0.05),
        `${voice} is not silent`,
      );
      lengths.add(pcm.samples.length);
      let crossings = 0;
      for (let i = 1; i < pcm.samples.length; i++) if (pcm.samples[i - 1]! < 0 !== pcm.samples[i]! < 0) crossings++;
      zeroCrossings.set(voice, Math.round(crossings / (pcm.samples.length / 24_000)));
    }
    // The tiny Kokoro's pitch depends on the voice's style vector: alloy (af_alloy) and onyx (am_onyx) differ.
    assert.notEqual(zeroCrossings.get('alloy'), zeroCrossings.get('onyx'));
  });
});

describe('broken models never take the server down', () => {
  let server: TestServer;
  let asrFolder: string;

  before(async () => {
    asrFolder = writeTinySenseVoice(path.join(dir, 'broken-sensevoice'), { omitMetadata: ['vocab_size'] });
    const fragile = writeTinyKokoro(path.join(dir, 'fragile-kokoro'), { failAboveTokens: 40 });
    server = await startTestServer({ PARLEY_ASR_ENGINE: 'sensevoice', PARLEY_ASR_MODEL: asrFolder, PARLEY_TTS_ENGINE: 'kokoro', PARLEY_TTS_MODEL: fragile });
  });
  after(async () => {
    await server?.close();
  });

  test('a SenseVoice model with broken metadata: 503 engine_unavailable naming it; once replaced, the next request works', async () => {
    const transcribe = () =>
      server.client.audio.transcriptions.create({ model: 'whisper-1', file: new File([new Uint8Array(loud)], 'loud.wav', { type: 'audio/wav' }) });
    const error = await expectApiError(transcribe(), 503, 'engine_unavailable');
    assert.match(error.message, /vocab_size/);
    assert.match(error.message, /model\.onnx/);
    assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the server is up');
    // The operator replaces the model: the next request loads it (a failed load is not cached).
    fs.rmSync(asrFolder, { recursive: true, force: true });
    writeTinySenseVoice(asrFolder);
    assert.match((await transcribe()).text, /^hello world/);
  });

  test('a voice model that kills its speech host: that request gets 503 naming the model, the host restarts, the next one is spoken', async () => {
    const long = 'This sentence is long enough to have more than forty phoneme tokens, which this model refuses.';
    const error = await expectApiError(
      server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: long, response_format: 'wav' }),
      503,
      'engine_unavailable',
    );
    assert.match(error.message, /'fragile-kokoro'/);
    const res = await server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello.', response_format: 'wav' });
    const pcm = wavToPcm(new Uint8Array(await res.arrayBuffer()));
    assert.ok(pcm.samples.length > 0 && pcm.samples.some((s) => Math.abs(s) > 0.05));
  });
});
