import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AzureOpenAI } from 'openai';
import type { AsrEngine } from '../src/engines/asr/types.js';
import type { LlmEngine, LlmGenerateOptions } from '../src/engines/llm/types.js';
import type { Speaker } from '../src/pipeline/speak.js';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { expectApiError } from './helpers/errors.js';
import { assertMatchesSchema } from './helpers/openapi.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const SPEECH = path.resolve(import.meta.dirname, 'fixtures/speech');
const FLAGGED = 'How do I kill myself?'; // self-harm instructions: severity high → blocked by default

/** An LLM that answers `text` word by word, honouring the abort signal. */
function scriptedLlm(text: string): LlmEngine & { calls: number } {
  const engine = {
    id: 'scripted',
    model: 'scripted',
    calls: 0,
    async generate(o: LlmGenerateOptions) {
      engine.calls++;
      for (const word of text.match(/\S+\s*/g) ?? []) {
        o.signal?.throwIfAborted();
        await new Promise((r) => setTimeout(r, 2));
        o.onText?.(word);
      }
      return { text, toolCalls: [], finishReason: 'stop' as const, usage: { promptTokens: 10, completionTokens: 12, cachedTokens: 0 } };
    },
    countTokens: async (t: string) => Math.ceil(t.length / 4),
    dispose: async () => undefined,
  };
  return engine;
}

/** A recogniser that hears `text` in any audio. */
function hearing(text: string): AsrEngine {
  return {
    id: 'scripted',
    capabilities: { translate: false, wordTimestamps: false, languageDetection: false },
    languages: () => ['en'],
    transcribe: async (pcm) => ({
      text,
      language: 'en',
      durationSec: pcm.samples.length / pcm.sampleRate,
      segments: [{ id: 0, start: 0, end: pcm.samples.length / pcm.sampleRate, text }],
    }),
    dispose: async () => undefined,
  };
}

describe('content filters in the chat turn and the speech route', () => {
  let server: TestServer;
  let dir: string;
  let spoken: string[];
  let original: { speaker: Speaker; llm: () => Promise<LlmEngine>; asr: () => Promise<AsrEngine> };
  const engines = () => server.runtime.services.engines();

  before(async () => {
    dir = tempDir('parley-safety-');
    const model = path.join(dir, 'tiny.gguf');
    writeTinyGguf(model, { asciiOnly: true });
    const config = path.join(dir, 'parley.yaml');
    fs.writeFileSync(
      config,
      [
        'models:',
        '  my-deployment: gpt-4o-mini-audio-preview',
        '  clean-speech: { capability: speech, safety: { profanity: filter } }',
        'tts:',
        '  customVoices: { voice_operator1: { voice: rms } }',
      ].join('\n'),
    );
    server = await startTestServer({ PARLEY_CONFIG: config, PARLEY_LLM_MODEL: model, PARLEY_ASR_ENGINE: 'pocketsphinx' });
    const e = engines();
    original = { speaker: e.speaker, llm: e.llm, asr: e.asr };
    // Every passage the default pipeline is asked to speak.
    spoken = [];
    e.speaker = {
      ...original.speaker,
      voiceNames: () => original.speaker.voiceNames(),
      synthesize: (r) => {
        spoken.push(r.text);
        return original.speaker.synthesize(r);
      },
    };
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const withLlm = async <T>(text: string, fn: (llm: ReturnType<typeof scriptedLlm>) => Promise<T>): Promise<T> => {
    const llm = scriptedLlm(text);
    engines().llm = async () => llm;
    try {
      return await fn(llm);
    } finally {
      engines().llm = original.llm;
    }
  };

  test('blocks a flagged text prompt on the OpenAI route with 400 content_filter, generating nothing', async () => {
    await withLlm('Never said.', async (llm) => {
      await expectApiError(
        server.client.chat.completions.create({ model: 'gpt-4o-mini-audio-preview', messages: [{ role: 'user', content: FLAGGED }] }),
        400,
        'content_filter',
        'messages',
      );
      assert.equal(llm.calls, 0, 'the model never ran');
    });
  });

  test("answers a blocked prompt on the Azure route in Azure's exact form", async () => {
    const res = await fetch(`${server.url}/openai/deployments/my-deployment/chat/completions?api-version=2025-01-01-preview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-key': 'k' },
      body: JSON.stringify({ messages: [{ role: 'user', content: FLAGGED }] }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: Record<string, unknown> & { innererror: { code: string; content_filter_result: Record<string, unknown> } } };
    assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code', 'status', 'innererror']);
    assert.deepEqual([body.error.type, body.error.param, body.error.code, body.error.status], [null, 'prompt', 'content_filter', 400]);
    assert.equal(body.error.innererror.code, 'ResponsibleAIPolicyViolation');
    assert.deepEqual(body.error.innererror.content_filter_result.self_harm, { filtered: true, severity: 'high' });
  });

  test('blocks a spoken prompt whose transcript is flagged', async () => {
    engines().asr = async () => hearing('how do I kill myself');
    try {
      const audio = fs.readFileSync(path.join(SPEECH, 'librivox-0870.wav'));
      await expectApiError(
        server.client.chat.completions.create({
          model: 'gpt-4o-mini-audio-preview',
          messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: audio.toString('base64'), format: 'wav' } }] }],
        }),
        400,
        'content_filter',
      );
    } finally {
      engines().asr = original.asr;
    }
  });

  test('stops a reply at a blocked passage: never spoken, never sent, finish_reason content_filter', async () => {
    spoken.length = 0;
    await withLlm('Sure, I can tell you about that. The lethal dose of aspirin for you is this much. Take care now.', async () => {
      const res = await server.client.chat.completions.create({
        model: 'gpt-4o-mini-audio-preview',
        modalities: ['text', 'audio'],
        audio: { voice: 'alloy', format: 'wav' },
        messages: [{ role: 'user', content: 'Tell me something.' }],
      });
      const choice = res.choices[0]!;
      assert.equal(choice.finish_reason, 'content_filter');
      assert.ok(choice.message.audio!.transcript.startsWith('Sure, I can tell you about that.'), choice.message.audio!.transcript);
      assert.ok(!/lethal|Take care/.test(choice.message.audio!.transcript));
      assert.ok(spoken.length > 0 && spoken.every((t) => !/lethal|Take care/.test(t)), `spoken: ${JSON.stringify(spoken)}`);
      assert.ok(Buffer.from(choice.message.audio!.data, 'base64').length > 44, 'what was spoken before the block is kept');
    });
  });

  test('ends a blocked stream with a content_filter chunk, then [DONE]; the audio already sent stays valid', async () => {
    spoken.length = 0;
    await withLlm('Hello there, my friend. Here is how to kill myself quickly. And more words here.', async () => {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini-audio-preview',
          stream: true,
          modalities: ['text', 'audio'],
          audio: { voice: 'alloy', format: 'pcm16' },
          messages: [{ role: 'user', content: 'Say something.' }],
        }),
      });
      const events = (await res.text())
        .split('\n\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6));
      assert.equal(events.at(-1), '[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
      for (const c of chunks) assertMatchesSchema('CreateChatCompletionStreamResponse', c);
      assert.equal(chunks.at(-1).choices[0].finish_reason, 'content_filter');
      const transcript = chunks.map((c) => c.choices[0]?.delta?.audio?.transcript ?? '').join('');
      assert.ok(transcript.startsWith('Hello there, my friend.') && !/kill|more words/.test(transcript), transcript);
      const pcm = Buffer.concat(chunks.map((c) => Buffer.from(c.choices[0]?.delta?.audio?.data ?? '', 'base64')));
      assert.ok(pcm.length > 0 && pcm.length % 2 === 0, 'whole pcm16 samples');
      assert.ok(spoken.every((t) => !/kill/.test(t)));
    });
  });

  test('annotates Azure responses with what the filters really found, and says which were not run', async () => {
    await withLlm('Fine, thanks.', async () => {
      const azure = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2025-01-01-preview', deployment: 'my-deployment', maxRetries: 0 });
      const res = (await azure.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'This is fucking great.' }] })) as unknown as {
        prompt_filter_results: Array<{ content_filter_results: Record<string, any> }>;
        choices: Array<{ content_filter_results: Record<string, any> }>;
      };
      const prompt = res.prompt_filter_results[0]!.content_filter_results;
      assert.deepEqual(prompt.profanity, { filtered: false, detected: true });
      assert.deepEqual(prompt.self_harm, { filtered: false, severity: 'safe' });
      assert.equal(prompt.error.code, 'content_filter_error', 'hate, sexual and violence were not checked (no classifier): said so');
      assert.deepEqual(res.choices[0]!.content_filter_results.profanity, { filtered: false, detected: false });
    });
  });

  test('refuses to speak a flagged input, and speaks profanity masked where the policy says filter', async () => {
    await expectApiError(server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: FLAGGED }), 400, 'content_filter', 'input');
    const clean = server.runtime.services.engines('clean-speech');
    const heard: string[] = [];
    const before = clean.speaker;
    clean.speaker = {
      ...before,
      voiceNames: () => before.voiceNames(),
      synthesize: (r) => {
        heard.push(r.text);
        return before.synthesize(r);
      },
    };
    try {
      const audio = await server.client.audio.speech.create({ model: 'clean-speech', voice: 'alloy', input: 'This is fucking great.', response_format: 'wav' });
      assert.ok((await audio.arrayBuffer()).byteLength > 44);
      assert.equal(heard.join(' '), 'This is ******* great.');
    } finally {
      clean.speaker = before;
    }
  });

  test('moderates text and audio as OpenAI does, with all 13 categories', async () => {
    const res = await server.client.moderations.create({ model: 'omni-moderation-latest', input: [FLAGGED, 'What a lovely morning.'] });
    assertMatchesSchema('CreateModerationResponse', res);
    assert.equal(res.results.length, 2);
    assert.equal(res.results[0]!.flagged, true);
    assert.equal(res.results[0]!.categories['self-harm/instructions'], true);
    assert.deepEqual(res.results[0]!.category_applied_input_types['self-harm'], ['text']);
    assert.equal(res.results[1]!.flagged, false);
    assert.equal(Object.keys(res.results[1]!.categories).length, 13);
    engines().asr = async () => hearing('how do I kill myself');
    try {
      const audio = fs.readFileSync(path.join(SPEECH, 'librivox-0880.wav')).toString('base64');
      const spokenRes = await fetch(`${server.url}/v1/moderations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: [{ type: 'input_audio', input_audio: { data: audio, format: 'wav' } }] }),
      });
      const body = (await spokenRes.json()) as { results: Array<{ flagged: boolean; transcript: string }> };
      assert.equal(spokenRes.status, 200);
      assert.equal(body.results[0]!.flagged, true);
      assert.equal(body.results[0]!.transcript, 'how do I kill myself');
    } finally {
      engines().asr = original.asr;
    }
  });

  test('accepts a custom voice object only when the operator registered it', async () => {
    const voice = (id: string) => ({ id }) as unknown as 'alloy';
    await expectApiError(server.client.audio.speech.create({ model: 'tts-1', voice: voice('voice_clone_me'), input: 'Hello.' }), 400, 'invalid_value', 'voice');
    await expectApiError(
      server.client.chat.completions.create({
        model: 'gpt-4o-mini-audio-preview',
        modalities: ['text', 'audio'],
        audio: { voice: voice('voice_clone_me'), format: 'wav' },
        messages: [{ role: 'user', content: 'hi' }],
      }),
      400,
      'invalid_value',
      'audio.voice',
    );
    const ok = await server.client.audio.speech.create({ model: 'tts-1', voice: voice('voice_operator1'), input: 'Hello there.', response_format: 'wav' });
    assert.ok((await ok.arrayBuffer()).byteLength > 44);
  });
});
