import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { AzureOpenAI } from 'openai';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { probe } from './helpers/audio.js';
import { expectApiError } from './helpers/errors.js';
import { assertMatchesSchema } from './helpers/openapi.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const SPEECH = path.resolve(import.meta.dirname, 'fixtures/speech');
const QUESTION = fs.readFileSync(path.join(SPEECH, 'librivox-0880.wav'));
const QUESTION_SEC = (QUESTION.length - 44) / 2 / 16_000;
const MODEL = 'gpt-4o-mini-audio-preview';

type Msg = OpenAI.Chat.Completions.ChatCompletionMessageParam;
const spoken = (data: Buffer = QUESTION, format: 'wav' | 'mp3' = 'wav'): Msg => ({
  role: 'user',
  content: [{ type: 'input_audio', input_audio: { data: data.toString('base64'), format } }],
});

/** Joins streamed chunks field by field, as clients do. */
function reassemble(chunks: Array<Record<string, any>>) {
  let transcript = '';
  const data: Buffer[] = [];
  let firstTranscript = -1;
  let firstData = -1;
  let expiresAt: number | undefined;
  let finish: string | null = null;
  let usage: any;
  let audioId: string | undefined;
  chunks.forEach((c, i) => {
    if (c.usage) usage = c.usage;
    const choice = c.choices[0];
    if (!choice) return;
    const a = choice.delta.audio;
    if (a?.id) audioId ??= a.id;
    if (a?.transcript) {
      transcript += a.transcript;
      if (firstTranscript < 0) firstTranscript = i;
    }
    if (a?.data) {
      data.push(Buffer.from(a.data, 'base64'));
      if (firstData < 0) firstData = i;
    }
    if (a?.expires_at) expiresAt = a.expires_at;
    if (choice.finish_reason) finish = choice.finish_reason;
  });
  return { transcript, pcm: Buffer.concat(data), firstTranscript, firstData, expiresAt, finish, usage, audioId };
}

describe('POST /v1/chat/completions with audio (real node-llama-cpp on a tiny random GGUF)', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = tempDir('parley-chat-');
    const model = path.join(dir, 'tiny.gguf');
    // ASCII output and likelier quotes: grammar-forced JSON (tool calls) closes its strings in time.
    writeTinyGguf(model, { asciiOnly: true, outputScale: { '"': 3 } });
    const config = path.join(dir, 'parley.yaml');
    fs.writeFileSync(config, 'models:\n  my-audio-deployment: gpt-4o-mini-audio-preview\n  my-tts: tts-1\n');
    server = await startTestServer({ PARLEY_LLM_MODEL: model, PARLEY_ASR_ENGINE: 'pocketsphinx', PARLEY_CONFIG: config });
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('answers a text question with text, matching the OpenAPI schema', async () => {
    const res = await server.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello there.' }], max_tokens: 12, seed: 1 });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, 'gpt-4o-mini-audio-preview-2024-12-17');
    assert.equal(typeof res.choices[0]!.message.content, 'string');
    assert.ok(['stop', 'length'].includes(res.choices[0]!.finish_reason));
    assert.ok(res.usage!.completion_tokens > 0 && res.usage!.prompt_tokens > 0);
  });

  for (const format of ['wav', 'mp3', 'flac', 'opus', 'pcm16'] as const) {
    test(`answers a spoken question with ${format} audio that decodes, with OpenAI's audio accounting`, async () => {
      const res = await server.client.chat.completions.create({
        model: MODEL,
        modalities: ['text', 'audio'],
        audio: { voice: 'alloy', format },
        messages: [{ role: 'system', content: 'You are terse.' }, spoken()],
        max_tokens: 16,
        seed: 7,
        temperature: 0,
      });
      assertMatchesSchema('CreateChatCompletionResponse', res);
      const message = res.choices[0]!.message;
      assert.equal(message.content, null);
      assert.ok(message.audio);
      assert.match(message.audio.id, /^audio_[0-9a-f]{32}$/);
      assert.ok(Math.abs(message.audio.expires_at - (Date.now() / 1000 + 3600)) < 60);
      const bytes = Buffer.from(message.audio.data, 'base64');
      const seconds = format === 'pcm16' ? bytes.length / 48_000 : probe(bytes, format === 'opus' ? 'ogg' : format).durationSec;
      const usage = res.usage!;
      const inTokens = usage.prompt_tokens_details!.audio_tokens!;
      const outTokens = usage.completion_tokens_details!.audio_tokens!;
      // Every assertion runs: the model must have said something for the accounting to mean anything.
      assert.ok(message.audio.transcript.trim().length > 0, 'the reply has a transcript');
      assert.ok(seconds > 0.1, `reply audio ${seconds} s for '${message.audio.transcript}'`);
      assert.ok(Math.abs(outTokens - 20 * seconds) <= 0.05 * 20 * seconds + 1, `output audio tokens ${outTokens} for ${seconds} s`);
      assert.ok(Math.abs(inTokens - 10 * QUESTION_SEC) <= 0.05 * 10 * QUESTION_SEC + 1, `input audio tokens ${inTokens} for ${QUESTION_SEC} s`);
      assert.equal(usage.completion_tokens, outTokens + (usage.completion_tokens_details as { text_tokens: number }).text_tokens);
      assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    });
  }

  test('streams transcript ahead of pcm16 audio, with every chunk kind, usage and [DONE]', async () => {
    const request = {
      model: MODEL,
      modalities: ['text', 'audio'] as Array<'text' | 'audio'>,
      audio: { voice: 'shimmer' as const, format: 'pcm16' as const },
      messages: [spoken()],
      max_tokens: 24,
      seed: 3,
      temperature: 0,
    };
    const stream = await server.client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const chunks: Array<Record<string, any>> = [];
    for await (const chunk of stream) {
      if (chunk.choices.length > 0) assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk as never);
    }
    const r = reassemble(chunks);
    assert.deepEqual(chunks[0]!.choices[0].delta, { role: 'assistant', content: null, refusal: null });
    assert.equal(r.finish, chunks.at(-2)!.choices[0].finish_reason);
    assert.ok(r.usage, 'usage chunk present');
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.ok(r.expiresAt && r.expiresAt > Date.now() / 1000);
    assert.match(r.audioId!, /^audio_/);
    assert.ok(r.transcript.trim().length > 0, 'the streamed reply has a transcript');
    assert.ok(r.firstTranscript >= 0 && r.firstData > r.firstTranscript, 'the transcript leads the audio');
    const whole = await server.client.chat.completions.create(request);
    assert.equal(r.transcript, whole.choices[0]!.message.audio!.transcript);
    const wholeBytes = Buffer.from(whole.choices[0]!.message.audio!.data, 'base64').length;
    // Same text, same voice: equal within one sentence's worth (~3 s) of audio.
    assert.ok(Math.abs(r.pcm.length - wholeBytes) <= 3 * 48_000, `streamed ${r.pcm.length} vs ${wholeBytes} bytes`);
    assert.equal(r.usage.completion_tokens_details.audio_tokens, Math.ceil((r.pcm.length / 48_000) * 20));
  });

  test('continues a conversation from an earlier reply by its audio id', async () => {
    const first = await server.client.chat.completions.create({
      model: MODEL,
      modalities: ['text', 'audio'],
      audio: { voice: 'echo', format: 'wav' },
      messages: [spoken()],
      max_tokens: 8,
    });
    const id = first.choices[0]!.message.audio!.id;
    const second = await server.client.chat.completions.create({
      model: MODEL,
      modalities: ['text', 'audio'],
      audio: { voice: 'echo', format: 'wav' },
      messages: [spoken(), { role: 'assistant', audio: { id } }, { role: 'user', content: 'And then?' }],
      max_tokens: 8,
    });
    assertMatchesSchema('CreateChatCompletionResponse', second);
    await expectApiError(
      server.client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', audio: { id: 'audio_00000000000000000000000000000000' } },
          { role: 'user', content: 'x' },
        ],
      }),
      400,
      'audio_not_found',
      'messages[1].audio.id',
    );
    const expired = server.runtime.services.audioIds.put({ format: 'wav', data: new Uint8Array(4), transcript: 'old', ttlSec: 1, owner: null });
    await new Promise((r) => setTimeout(r, 2100));
    await expectApiError(
      server.client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'assistant', audio: { id: expired.id } },
          { role: 'user', content: 'x' },
        ],
      }),
      400,
      'audio_not_found',
      'messages[0].audio.id',
    );
  });

  test('calls a tool when tool_choice requires it', async () => {
    const res = await server.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
      tool_choice: 'required',
      max_tokens: 300,
    });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    const call = res.choices[0]!.message.tool_calls![0]! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
  });

  test('returns JSON for response_format json_object', async () => {
    const res = await server.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Give me JSON.' }],
      response_format: { type: 'json_object' },
      max_tokens: 400,
      seed: 2,
    });
    assert.equal(res.choices[0]!.finish_reason, 'stop', res.choices[0]!.message.content ?? '');
    assert.equal(typeof JSON.parse(res.choices[0]!.message.content!), 'object');
  });

  test('refuses bad requests with the contract error codes and params', async () => {
    const base = { model: MODEL, messages: [spoken()] };
    await expectApiError(
      server.client.chat.completions.create({ ...base, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, stream: true }),
      400,
      'unsupported_value',
      'audio.format',
    );
    await expectApiError(server.client.chat.completions.create({ ...base, modalities: ['text', 'audio'] }), 400, 'missing_required_parameter', 'audio');
    await expectApiError(
      server.client.chat.completions.create({ ...base, modalities: ['text', 'audio'], audio: { voice: 'nobody' as 'alloy', format: 'wav' } }),
      400,
      'invalid_value',
      'audio.voice',
    );
    await expectApiError(
      server.client.chat.completions.create({ ...base, modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'ogg' as 'wav' } }),
      400,
      'invalid_value',
      'audio.format',
    );
    await expectApiError(
      server.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: QUESTION.toString('base64'), format: 'flac' as 'wav' } }] }],
      }),
      400,
      'invalid_value',
      'messages[0].content[0].input_audio.format',
    );
    await expectApiError(
      server.client.chat.completions.create({ model: MODEL, messages: [spoken(Buffer.from('RIFF....WAVEjunkjunkjunk'))] }),
      400,
      'unsupported_format',
      'messages',
    );
    await expectApiError(
      server.client.chat.completions.create({ model: MODEL, messages: [spoken(Buffer.alloc(20 * 1024 * 1024 + 1))] }),
      400,
      'audio_too_large',
      'messages[0].content[0].input_audio.data',
    );
    await expectApiError(server.client.chat.completions.create({ ...base, n: 2 }), 400, 'unsupported_value', 'n');
    await expectApiError(server.client.chat.completions.create({ model: MODEL, messages: [] }), 400, 'empty_array', 'messages');
    await expectApiError(server.client.chat.completions.create({ model: MODEL } as never), 400, 'missing_required_parameter', 'messages');
    await expectApiError(
      server.client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] }),
      404,
      'model_not_found',
      'model',
    );
    await expectApiError(
      server.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 3 }),
      400,
      'decimal_above_max_value',
      'temperature',
    );
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  test('stops generating when a streaming client disconnects, and serves the next request at normal speed', async () => {
    const request = {
      model: MODEL,
      modalities: ['text', 'audio'] as Array<'text' | 'audio'>,
      audio: { voice: 'alloy' as const, format: 'pcm16' as const },
      messages: [{ role: 'user' as const, content: 'Tell me a long story.' }],
      max_tokens: 24,
      seed: 5,
    };
    let t = performance.now();
    await server.client.chat.completions.create(request);
    const baseline = performance.now() - t;
    const controller = new AbortController();
    const stream = await server.client.chat.completions.create({ ...request, max_tokens: 2000, stream: true }, { signal: controller.signal });
    for await (const _chunk of stream) {
      controller.abort();
      break;
    }
    t = performance.now();
    await server.client.chat.completions.create(request);
    const after = performance.now() - t;
    assert.ok(after < baseline * 3 + 2000, `after a disconnect: ${after.toFixed(0)} ms vs ${baseline.toFixed(0)} ms before`);
  });

  test('serves the Azure route through the AzureOpenAI client', async () => {
    const azure = new AzureOpenAI({
      endpoint: server.url,
      apiKey: 'azure-key',
      apiVersion: '2025-01-01-preview',
      deployment: 'my-audio-deployment',
      maxRetries: 0,
    });
    const { data, response } = await azure.chat.completions
      .create({ model: '', modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, messages: [spoken()], max_tokens: 8 })
      .withResponse();
    assertMatchesSchema('CreateChatCompletionResponse', data);
    assert.ok(response.headers.get('apim-request-id'));
    assert.ok((data as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results.length === 1);
    const old = new AzureOpenAI({ endpoint: server.url, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'my-audio-deployment', maxRetries: 0 });
    await expectApiError(
      old.chat.completions.create({ model: '', modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, messages: [spoken()] }),
      400,
      'unsupported_api_version',
    );
    const missing = await fetch(`${server.url}/openai/deployments/my-audio-deployment/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(missing.status, 400);
    const unknown = new AzureOpenAI({ endpoint: server.url, apiKey: 'k', apiVersion: '2025-01-01-preview', deployment: 'no-such-deployment', maxRetries: 0 });
    await expectApiError(unknown.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'x' }] }), 404, 'DeploymentNotFound');
    const tts = new AzureOpenAI({ endpoint: server.url, apiKey: 'azure-key', apiVersion: '2025-01-01-preview', deployment: 'my-tts', maxRetries: 0 });
    const speech = await tts.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello from Azure.', response_format: 'wav' });
    assert.ok((await speech.arrayBuffer()).byteLength > 1000);
  });
});

describe('the openai-compatible engine against a second Parley instance', () => {
  let upstream: TestServer;
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = tempDir('parley-upstream-');
    const model = path.join(dir, 'tiny.gguf');
    writeTinyGguf(model);
    upstream = await startTestServer({ PARLEY_LLM_MODEL: model, PARLEY_API_KEYS: 'sk-upstream' });
    server = await startTestServer({
      PARLEY_LLM_ENGINE: 'openai-compatible',
      PARLEY_LLM_URL: `${upstream.url}/v1`,
      PARLEY_LLM_API_KEY: 'sk-upstream',
      PARLEY_LLM_MODEL: MODEL,
      PARLEY_ASR_ENGINE: 'pocketsphinx',
    });
  });
  after(async () => {
    await server.close();
    await upstream.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('answers with audio, non-streamed and streamed', async () => {
    const res = await server.client.chat.completions.create({
      model: MODEL,
      modalities: ['text', 'audio'],
      audio: { voice: 'alloy', format: 'wav' },
      messages: [spoken()],
      max_tokens: 12,
    });
    assertMatchesSchema('CreateChatCompletionResponse', res);
    const stream = await server.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 12, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(typeof text, 'string');
  });

  test('maps an upstream failure to a clean error', async () => {
    await upstream.close();
    try {
      await server.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4 });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof OpenAI.APIError);
      assert.ok(e.status! >= 500 && e.status! < 600, String(e.status));
      assertMatchesSchema('ErrorResponse', { error: e.error });
      assert.doesNotMatch(e.message, /ECONNREFUSED|stack|at /);
    }
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});
