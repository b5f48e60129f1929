import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { medianPitch } from '../src/audio/pitch.js';
import { planPassages } from '../src/pipeline/sentence-stream.js';
import type { Speaker } from '../src/pipeline/speak.js';
import { probe, wavToPcm } from './helpers/audio.js';
import { expectApiError } from './helpers/errors.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const SENTENCE = 'The quick brown fox jumps over the lazy dog.';
const FORMATS = [
  { format: 'wav', ext: 'wav', codec: 'pcm_s16le' },
  { format: 'mp3', ext: 'mp3', codec: 'mp3' },
  { format: 'opus', ext: 'ogg', codec: 'opus' },
  { format: 'flac', ext: 'flac', codec: 'flac' },
  { format: 'aac', ext: 'aac', codec: 'aac' },
] as const;

/** Fails the test if the server is not healthy any more. */
async function assertHealthy(server: TestServer): Promise<void> {
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
}

describe('POST /v1/audio/speech through the official SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  for (const voice of ['alloy', 'echo', 'shimmer'] as const) {
    for (const { format, ext, codec } of FORMATS) {
      test(`speaks with ${voice} as ${format} that decodes with a plausible duration`, async () => {
        const res = await server.client.audio.speech.create({ model: 'tts-1', voice, input: SENTENCE, response_format: format });
        const bytes = new Uint8Array(await res.arrayBuffer());
        const info = probe(bytes, ext);
        assert.equal(info.codec, codec);
        assert.equal(info.channels, 1);
        assert.equal(info.sampleRate, format === 'opus' ? 48_000 : 24_000);
        assert.ok(info.durationSec > 1.2 && info.durationSec < 6, `duration ${info.durationSec}`);
      });
    }
    test(`speaks with ${voice} as raw pcm: 24 kHz s16le with a plausible length`, async () => {
      const res = await server.client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice, input: SENTENCE, response_format: 'pcm' });
      const bytes = new Uint8Array(await res.arrayBuffer());
      assert.equal(bytes.length % 2, 0);
      const seconds = bytes.length / 2 / 24_000;
      assert.ok(seconds > 1.2 && seconds < 6, `duration ${seconds}`);
    });
  }

  test('answers mp3 when no format is given', async () => {
    const res = await server.client.audio.speech.create({ model: 'tts-1-hd', voice: 'alloy', input: 'Hello.' });
    assert.equal(res.headers.get('content-type'), 'audio/mpeg');
    assert.equal(probe(new Uint8Array(await res.arrayBuffer()), 'mp3').codec, 'mp3');
  });

  test('gives alloy, echo and shimmer median pitches at least 10% apart', async () => {
    const pitches: Record<string, number> = {};
    for (const voice of ['alloy', 'echo', 'shimmer'] as const) {
      const res = await server.client.audio.speech.create({
        model: 'tts-1',
        voice,
        input: 'She sells sea shells by the sea shore on a sunny day.',
        response_format: 'wav',
      });
      const pitch = medianPitch(wavToPcm(new Uint8Array(await res.arrayBuffer())));
      assert.ok(pitch !== null, `${voice} has no voiced frames`);
      pitches[voice] = pitch;
    }
    const names = Object.keys(pitches);
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const a = pitches[names[i]!]!;
        const b = pitches[names[j]!]!;
        assert.ok(Math.abs(a - b) / Math.min(a, b) >= 0.1, `${names[i]} ${a.toFixed(1)} Hz vs ${names[j]} ${b.toFixed(1)} Hz`);
      }
    }
  });

  test('speaks faster with a higher speed', async () => {
    const durations: number[] = [];
    for (const speed of [1, 2]) {
      const res = await server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: SENTENCE, response_format: 'pcm', speed });
      durations.push((await res.arrayBuffer()).byteLength / 48_000);
    }
    assert.ok(durations[1]! < durations[0]! * 0.75, `speed 2 gave ${durations[1]} s vs ${durations[0]} s`);
  });

  test('streams the first audio bytes before the last sentence is synthesised', async () => {
    const original = server.runtime.services.engines().speaker;
    const finished: number[] = [];
    const spy: Speaker = {
      voiceNames: () => original.voiceNames(),
      synthesize: async (request) => {
        const pcm = await original.synthesize(request);
        finished.push(performance.now());
        return pcm;
      },
    };
    server.runtime.services.engines().speaker = spy;
    try {
      const input = Array.from({ length: 8 }, (_, i) => `This is sentence number ${i + 1}, which takes a moment to say out loud.`).join(' ');
      const res = await server.client.audio.speech.create({ model: 'tts-1', voice: 'echo', input, response_format: 'wav' }).asResponse();
      const reader = res.body!.getReader();
      const first = await reader.read();
      const firstAt = performance.now();
      assert.ok(!first.done && first.value.length > 0);
      const view = new DataView(first.value.buffer, first.value.byteOffset);
      assert.equal(view.getUint32(4, true), 0xffffffff, 'streamed WAV uses the unknown-size convention');
      while (!(await reader.read()).done);
      assert.ok(finished.length >= 3, `${finished.length} syntheses`);
      assert.ok(firstAt < finished[finished.length - 1]!, 'first bytes arrived before the last sentence was synthesised');
    } finally {
      server.runtime.services.engines().speaker = original;
    }
  });

  test('sends speech.audio.delta and speech.audio.done events with stream_format sse', async () => {
    const res = await fetch(`${server.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini-tts', voice: 'shimmer', input: 'One. Two. Three.', response_format: 'pcm', stream_format: 'sse' }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.replace(/^data: /, '')) as { type: string; audio?: string; usage?: Record<string, number> });
    const deltas = events.filter((e) => e.type === 'speech.audio.delta');
    assert.ok(deltas.length >= 1);
    const bytes = deltas.reduce((n, e) => n + Buffer.from(e.audio!, 'base64').length, 0);
    assert.ok(bytes / 48_000 > 0.5);
    const done = events[events.length - 1]!;
    assert.equal(done.type, 'speech.audio.done');
    assert.equal(done.usage!.total_tokens, done.usage!.input_tokens! + done.usage!.output_tokens!);
  });

  test('stops synthesising when the client disconnects', async () => {
    const original = server.runtime.services.engines().speaker;
    let started = 0;
    let completed = 0;
    let aborted = 0;
    server.runtime.services.engines().speaker = {
      voiceNames: () => original.voiceNames(),
      synthesize: async (request) => {
        started++;
        try {
          const pcm = await original.synthesize(request);
          completed++;
          return pcm;
        } catch (e) {
          aborted++;
          throw e;
        }
      },
    };
    try {
      const input = Array.from({ length: 60 }, (_, i) => `Here is a rather long sentence number ${i + 1} to keep the engine busy.`).join(' ');
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${server.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        req.end(JSON.stringify({ model: 'tts-1', voice: 'alloy', input, response_format: 'pcm' }));
        setTimeout(() => reject(new Error('no first chunk')), 20_000);
      });
      await new Promise((r) => setTimeout(r, 500));
      const settled = started;
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(started, settled, 'no new sentences start after the disconnect');
      const passages = planPassages(input, { fastStart: true }).length;
      assert.ok(passages > 10);
      assert.ok(completed < passages, `synthesised ${completed} of ${passages} passages after the client left`);
      assert.ok(aborted > 0 || started === completed, 'a synthesis in flight at the disconnect is aborted');
      await assertHealthy(server);
    } finally {
      server.runtime.services.engines().speaker = original;
    }
  });

  test('rejects an unknown voice with invalid_value on voice', async () => {
    await expectApiError(server.client.audio.speech.create({ model: 'tts-1', voice: 'bogus' as 'alloy', input: 'Hi.' }), 400, 'invalid_value', 'voice');
    await assertHealthy(server);
  });

  test('rejects empty and over-long input', async () => {
    await expectApiError(server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: '' }), 400, 'string_below_min_length', 'input');
    await expectApiError(
      server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'a'.repeat(4097) }),
      400,
      'string_above_max_length',
      'input',
    );
    await expectApiError(server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy' } as never), 400, 'missing_required_parameter', 'input');
    await assertHealthy(server);
  });

  test('rejects a speed out of range and an unknown format', async () => {
    await expectApiError(
      server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', speed: 4.5 }),
      400,
      'decimal_above_max_value',
      'speed',
    );
    await expectApiError(
      server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', speed: 0.1 }),
      400,
      'decimal_below_min_value',
      'speed',
    );
    await expectApiError(
      server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', response_format: 'ogg' as 'mp3' }),
      400,
      'invalid_value',
      'response_format',
    );
    await assertHealthy(server);
  });

  test('rejects an unknown model with model_not_found', async () => {
    await expectApiError(server.client.audio.speech.create({ model: 'no-such-model', voice: 'alloy', input: 'Hi.' }), 404, 'model_not_found', 'model');
  });

  test('answers malformed JSON with a 400 in OpenAI shape', async () => {
    const res = await fetch(`${server.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "tts-1", "input": ',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.type, 'invalid_request_error');
    assert.ok(res.headers.get('x-request-id')?.startsWith('req_'));
    await assertHealthy(server);
  });

  test('answers an unknown route with a 404 in OpenAI shape', async () => {
    const res = await fetch(`${server.url}/v1/nothing-here`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.ok(res.headers.get('x-request-id'));
  });

  test('answers a body over the limit with a 413 in OpenAI shape', async () => {
    const res = await fetch(`${server.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'a'.repeat(server.config.bodyLimitBytes + 10) }),
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    await assertHealthy(server);
  });

  test('lists the speech models and retrieves one', async () => {
    const ids = [];
    for await (const model of server.client.models.list()) ids.push(model.id);
    for (const id of ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts']) assert.ok(ids.includes(id), id);
    const one = await server.client.models.retrieve('tts-1');
    assert.equal(one.id, 'tts-1');
    assert.equal(one.object, 'model');
    await expectApiError(server.client.models.retrieve('nope'), 404, 'model_not_found');
  });
});

describe('API keys', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ PARLEY_API_KEYS: 'sk-first-key-123,sk-second-key-456' });
  });
  after(async () => {
    await server.close();
  });

  test('accepts a configured key as Bearer or as the api-key header', async () => {
    const res = await server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', response_format: 'wav' });
    assert.ok((await res.arrayBuffer()).byteLength > 44);
    const azureStyle = await fetch(`${server.url}/v1/models`, { headers: { 'api-key': 'sk-second-key-456' } });
    assert.equal(azureStyle.status, 200);
  });

  test('rejects a missing or wrong key with 401 invalid_api_key', async () => {
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-wrong-key-000', maxRetries: 0 });
    await expectApiError(wrong.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.' }), 401, 'invalid_api_key');
    const none = await fetch(`${server.url}/v1/models`);
    assert.equal(none.status, 401);
    const body = (await none.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'invalid_api_key');
    assert.equal((await fetch(`${server.url}/health`)).status, 200, 'the health probe needs no key');
  });
});
