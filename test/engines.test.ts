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
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { wavHeader } from '../src/audio/encode/wav.js';
import { floatToS16le } from '../src/audio/pcm.js';
import { examine, renderDoctor } from '../src/cli/doctor.js';
import { loadConfig } from '../src/config/index.js';
import { readWav16, SPEECH_FIXTURES } from '../src/engines/asr/test-support.js';
import type { LlmEngine, LlmMessage } from '../src/engines/llm/types.js';
import { OPENAI_VOICES } from '../src/engines/tts/types.js';
import { startupReport } from '../src/runtime/startup.js';
import type { CatalogueEntry } from '../src/store/model-cache/catalogue.js';
import { type TestServer as FileServer, startTestServer as startFileServer } from '../src/store/model-cache/test-server.js';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { TINY_WORDS, writeTinyKokoro, writeTinyPiper, writeTinySenseVoice } from './fixtures/models/make-tiny-sherpa.js';
import { wavToPcm } from './helpers/audio.js';
import { expectApiError } from './helpers/errors.js';
import { type LogLine, startTestServer, type TestServer, tempDir } from './helpers/server.js';

const MODEL = 'gpt-4o-mini-audio-preview';

/** 16-bit mono WAV bytes of `samples`. */
function wav(samples: Float32Array, sampleRate: number): Buffer {
  const data = floatToS16le(samples);
  return Buffer.concat([wavHeader(data.length, sampleRate), data]);
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

describe('first run: a server allowed to download fetches a missing default model once', () => {
  let server: TestServer;
  let files: FileServer;
  const log: LogLine[] = [];

  before(async () => {
    const gguf = path.join(dir, 'first-run.gguf');
    writeTinyGguf(gguf, { asciiOnly: true });
    const bytes = fs.readFileSync(gguf);
    files = await startFileServer({ '/qwen/tiny.gguf': bytes });
    const catalogue: CatalogueEntry[] = [
      {
        name: 'qwen2.5-0.5b-instruct',
        kind: 'llm',
        engine: 'llama-cpp',
        description: 'a tiny GGUF standing in for the default model',
        licence: 'MIT',
        main: 'tiny.gguf',
        files: [{ path: 'tiny.gguf', url: `${files.url}/qwen/tiny.gguf`, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }],
      },
    ];
    server = await startTestServer({ PARLEY_OFFLINE: '0' }, { catalogue, log });
  });
  after(async () => {
    await server?.close();
    await files?.close();
  });

  test('at start, one line per capability without a model says what to pull; the summary names the playground and each engine', async () => {
    const report = await startupReport(server.config, server.runtime.services.cache, server.url);
    assert.equal(report.summary[0], `Parley is serving on ${server.url} — open ${server.url}/ for the playground`);
    assert.deepEqual(report.missing, [
      'language model (llm): no model for llama — run `parley models pull qwen2.5-0.5b-instruct`; or let the server fetch it on first need',
    ]);
    assert.ok(report.summary.some((l) => /^ {2}speech synthesis \(tts\): flite; better: `parley models pull kokoro-82m-int8`/.test(l)));
  });

  test('the first chat gets 503 model_downloading with retry-after and the progress; the model downloads once, then chat works', async () => {
    const ask = () => server.client.chat.completions.create({ model: MODEL, max_tokens: 4, messages: [{ role: 'user', content: 'Hello.' }] });
    const error = await expectApiError(ask(), 503, 'model_downloading');
    assert.match(error.message, /The chat model 'qwen2\.5-0\.5b-instruct' is downloading \((starting|\d+% of \d+ MiB)\)/);
    assert.equal(error.headers?.get('retry-after'), '5');
    // Ask again until it is ready (as a client honouring retry-after would, only faster); the runner's timeout bounds it.
    let reply: Awaited<ReturnType<typeof ask>> | undefined;
    while (!reply) {
      try {
        reply = await ask();
      } catch (e) {
        assert.equal((e as { code?: string }).code, 'model_downloading', String(e));
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(reply.object, 'chat.completion');
    assert.deepEqual(
      files.requests.filter((r) => r.status < 300).map((r) => r.path),
      ['/qwen/tiny.gguf'],
      'downloaded once',
    );
    const messages = log.map((l) => l.msg ?? '');
    assert.ok(messages.includes("chat: the model 'qwen2.5-0.5b-instruct' is missing; downloading it now (PARLEY_OFFLINE=1 would refuse)"), messages.join('\n'));
    assert.ok(messages.some((m) => /^downloading qwen2\.5-0\.5b-instruct: 100% of \d+ MiB$/.test(m)));
    assert.ok(messages.includes('qwen2.5-0.5b-instruct is ready: chat will use it from the next request'));
    // /health says what serves each capability now, and that the language model is loaded.
    // (the first /health of this server: no capability report computed earlier to reuse)
    const health = (await (await fetch(`${server.url}/health`)).json()) as {
      capabilities: Record<string, { engine: string; live: string | null; state: string; reason: string }>;
    };
    assert.deepEqual(health.capabilities.chat, { engine: 'llama', live: 'llama', state: 'ready', reason: 'the default model (qwen2.5-0.5b-instruct)' });
    assert.equal(health.capabilities.speech!.live, 'flite');
    assert.match(health.capabilities.speech!.reason, /^auto: /);
  });
});

describe('parley doctor', () => {
  test('names the engine of each capability and why, the CPU features of /proc/cpuinfo, the safety layers and the fix commands', async () => {
    const asr = writeTinySenseVoice(path.join(dir, 'doctor-sensevoice'));
    const config = loadConfig({
      env: { PARLEY_DATA_DIR: path.join(dir, 'doctor-data'), PARLEY_ASR_MODEL: asr, PARLEY_SAFETY_CLASSIFIER: 'toxic-bert', PARLEY_WATERMARK: 'off' },
    });
    const report = await examine(config);
    const text = renderDoctor(report);
    const flags = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const has = (flag: string) => (new RegExp(`^flags\\s*:.*\\b${flag}\\b`, 'm').test(flags) ? 'yes' : 'no');
    assert.match(text, new RegExp(`AVX2 ${has('avx2')}, AVX-512 ${has('avx512f')}`));
    assert.match(text, /^asr: sensevoice \(doctor-sensevoice\) — ready\n {2}why: auto: the configured model \(PARLEY_ASR_MODEL\) fits it$/m);
    assert.match(text, /^tts: flite — ready\n {2}why: auto: no model of a better engine is installed; flite ships its voices$/m);
    assert.match(text, /^llm: llama \(qwen2\.5-0\.5b-instruct\) — missing$/m);
    assert.match(text, /^voice analysis: prosody — ready\n {2}why: .*\n {2}emotion and events heard by SenseVoice/m);
    assert.match(text, /^ {2}classifier: missing — the classifier 'toxic-bert' is not installed\n {4}fix: parley models pull toxic-bert$/m);
    assert.match(text, /^ {2}watermark: off/m);
    assert.deepEqual(report.fixes, ['parley models pull qwen2.5-0.5b-instruct', 'parley models pull toxic-bert']);
    assert.match(text, /To fix what is missing:\n {2}parley models pull qwen2\.5-0\.5b-instruct\n {2}parley models pull toxic-bert\n$/);
  });
});

describe('PARLEY_TTS_ENGINE=auto with a voice folder', () => {
  test('a Piper folder makes piper the engine, its voice map is checked at start, and a map naming a voice it lacks stops the start', async () => {
    const piper = writeTinyPiper(path.join(dir, 'auto-piper'));
    const server = await startTestServer({ PARLEY_TTS_MODEL: piper });
    try {
      const table = server.runtime.services.engines().voiceTable();
      assert.equal(table.engine, 'piper');
      assert.deepEqual(table.map.map((m) => m.name).slice(0, OPENAI_VOICES.length), [...OPENAI_VOICES]);
      const res = await server.client.audio.speech.create({ model: 'tts-1', voice: 'nova', input: 'Hello world.', response_format: 'wav' });
      assert.ok(wavToPcm(new Uint8Array(await res.arrayBuffer())).samples.length > 0);
    } finally {
      await server.close();
    }
    const config = path.join(dir, 'bad-map.yaml');
    fs.writeFileSync(config, 'tts:\n  voices: { alloy: { voice: no_such_voice } }\n');
    await assert.rejects(startTestServer({ PARLEY_TTS_MODEL: piper, PARLEY_CONFIG: config }), (e: unknown) => {
      assert.match(String((e as Error).message), /'alloy' → 'no_such_voice': piper has no voice 'no_such_voice'/);
      return true;
    });
  });
});
