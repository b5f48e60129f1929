/**
 * The watermark on every voice Parley makes (issue 11): made through the real server and the
 * official SDK, attacked the ways a recording travels (codecs, resampling, gain, cutting), found
 * again; never found in human speech, silence or noise; verified over HTTP with the SDK's raw
 * request and with multipart; the response it leads to is told only to its key or an admin.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { decodeAudio } from '../src/audio/decode/index.js';
import type { LlmEngine, LlmGenerateOptions } from '../src/engines/llm/types.js';
import type { AudioVerification } from '../src/http/wire.js';
import { DETECTION_THRESHOLD } from '../src/safety/watermark/watermarker.js';
import { readResults, speechLines, submitBatch, waitForBatch } from './helpers/batch.js';
import { expectApiError } from './helpers/errors.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';
import { crop, MAY_FAIL, SURVIVES } from './helpers/watermark-attacks.js';

const SPEECH = path.resolve(import.meta.dirname, 'fixtures/speech');
const TEXT =
  'The weather today is mild, with a light breeze from the west. Later this afternoon clouds will gather over the hills, and by the evening a little rain may fall on the town.';
/** One OpenAI voice name per flite voice (kal16 and kal mapped in by the config below). */
const VOICES = { alloy: 'slt', echo: 'rms', fable: 'awb', onyx: 'kal16', cedar: 'kal' } as const;
const KEY_A = 'sk-watermark-owner-a';
const KEY_B = 'sk-watermark-other-b';
const ADMIN = 'sk-watermark-admin';

type Verification = AudioVerification;

async function samplesOf(bytes: Uint8Array): Promise<{ samples: Float32Array; sampleRate: number }> {
  const decoded = await decodeAudio(bytes, { param: 'file' });
  return { samples: decoded.samples, sampleRate: decoded.sampleRate };
}

function clientFor(server: TestServer, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });
}

/** `POST /v1/audio/verify` with JSON, through the official SDK's raw request. */
function verifyJson(client: OpenAI, bytes: Uint8Array): Promise<Verification> {
  return client.post('/audio/verify', { body: { audio: Buffer.from(bytes).toString('base64') } }) as Promise<unknown> as Promise<Verification>;
}

/** `POST /v1/audio/verify` with a multipart upload. */
async function verifyMultipart(server: TestServer, apiKey: string, bytes: Uint8Array, filename: string): Promise<{ status: number; body: Verification }> {
  const form = new FormData();
  form.set('file', new Blob([Buffer.from(bytes)]), filename);
  const res = await fetch(`${server.url}/v1/audio/verify`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form });
  return { status: res.status, body: (await res.json()) as Verification };
}

/** An LLM that answers `text`. */
function scriptedLlm(text: string): LlmEngine {
  return {
    id: 'scripted',
    model: 'scripted',
    async generate(o: LlmGenerateOptions) {
      for (const word of text.match(/\S+\s*/g) ?? []) o.onText?.(word);
      return { text, toolCalls: [], finishReason: 'stop' as const, usage: { promptTokens: 5, completionTokens: 30, cachedTokens: 0 } };
    },
    countTokens: async (t: string) => Math.ceil(t.length / 4),
    dispose: async () => undefined,
  };
}

describe('the watermark on every voice, through the server', () => {
  let server: TestServer;
  const made = new Map<string, { wav: Uint8Array; id: string }>();

  before(async () => {
    const dir = tempDir('parley-wm-config-');
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ tts: { voices: { onyx: { voice: 'kal16' }, cedar: { voice: 'kal' } } } }));
    server = await startTestServer({ PARLEY_CONFIG: config, PARLEY_API_KEYS: `${KEY_A},${KEY_B}`, PARLEY_ADMIN_KEY: ADMIN });
    const a = clientFor(server, KEY_A);
    for (const voice of Object.keys(VOICES) as (keyof typeof VOICES)[]) {
      const { data, response } = await a.audio.speech.create({ model: 'tts-1', voice, input: TEXT, response_format: 'wav' }).withResponse();
      made.set(voice, { wav: new Uint8Array(await data.arrayBuffer()), id: response.headers.get('x-request-id')! });
    }
  });
  after(async () => {
    await server?.close();
  });

  for (const [voice, engineVoice] of Object.entries(VOICES)) {
    test(`${voice} (flite ${engineVoice}): found after every attack it must survive, cut to 3 s anywhere in the speech`, async (t) => {
      const { wav, id } = made.get(voice)!;
      const { samples, sampleRate } = await samplesOf(wav);
      const watermark = server.runtime.services.engines().watermark;
      const seconds = samples.length / sampleRate;
      assert.ok(seconds > 8, `${seconds} s of speech`);
      for (const attack of SURVIVES) {
        const starts = attack.name.includes('crop') ? [0.3, seconds / 2 - 1.5, seconds - 3.3] : [0];
        for (const start of starts) {
          const attacked = attack.apply(samples, sampleRate, start);
          const verdict = watermark.verify(attacked.samples, attacked.sampleRate);
          const what = `${attack.name}${starts.length > 1 ? ` from ${start.toFixed(1)} s` : ''}`;
          assert.equal(verdict.watermarked, true, `${what}: score ${verdict.score}`);
          // The whole reply leads back to its response; a 3 s cut is found, but may be too short to read all 64 bits.
          if (!attack.name.includes('crop')) assert.equal(verdict.response?.responseId, id, `${what}: names the response`);
          if (verdict.response) assert.equal(verdict.response.responseId, id, `${what}: never names another response`);
        }
      }
      const table = MAY_FAIL.map((attack) => {
        const attacked = attack.apply(samples, sampleRate);
        const v = watermark.verify(attacked.samples, attacked.sampleRate);
        if (v.response) assert.equal(v.response.responseId, id, `${attack.name}: never names another response`);
        return `${attack.name}: ${v.watermarked ? 'found' : 'not found'} (score ${v.score})`;
      });
      t.diagnostic(table.join('; '));
    });
  }

  test('no human recording in the fixtures, nor silence or noise, is found watermarked — whole, cut into 3 s, or as MP3', async (t) => {
    const watermark = server.runtime.services.engines().watermark;
    const files = fs.readdirSync(SPEECH).filter((f) => f.endsWith('.wav'));
    assert.ok(files.length >= 8, `${files.length} recordings`);
    let clips = 0;
    let highest = Number.NEGATIVE_INFINITY;
    for (const file of files) {
      const { samples, sampleRate } = await samplesOf(fs.readFileSync(path.join(SPEECH, file)));
      const variants = [{ samples, sampleRate }, SURVIVES.find((a) => a.name.startsWith('mp3'))!.apply(samples, sampleRate)];
      for (let t = 0; t + 3 <= samples.length / sampleRate; t += 1) variants.push({ samples: crop(samples, sampleRate, t), sampleRate });
      for (const v of variants) {
        const verdict = watermark.verify(v.samples, v.sampleRate);
        clips++;
        highest = Math.max(highest, verdict.score);
        assert.equal(verdict.watermarked, false, `${file}: score ${verdict.score}`);
        assert.equal(verdict.response, undefined);
      }
    }
    const rate = 24_000;
    let seed = 1;
    const noise = new Float32Array(10 * rate).map(() => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed / 2 ** 32 - 0.5) * 0.5;
    });
    for (const [name, samples] of [
      ['digital silence', new Float32Array(10 * rate)],
      ['white noise', noise],
      ['quiet noise', noise.map((v) => v * 1e-3)],
    ] as const) {
      const verdict = watermark.verify(samples, rate);
      clips++;
      highest = Math.max(highest, verdict.score);
      assert.equal(verdict.watermarked, false, `${name}: score ${verdict.score}`);
    }
    t.diagnostic(`${clips} unmarked clips, highest score ${highest.toFixed(2)} (threshold ${DETECTION_THRESHOLD})`);
  });

  test('verify over HTTP: the SDK raw request (JSON) and multipart; the response is told to its key and the admin, not to another key', async () => {
    const { wav, id } = made.get('alloy')!;
    const mp3 = await clientFor(server, KEY_A).audio.speech.create({ model: 'tts-1', voice: 'alloy', input: TEXT, response_format: 'mp3' }).withResponse();
    const mp3Bytes = new Uint8Array(await mp3.data.arrayBuffer());

    const own = await verifyJson(clientFor(server, KEY_A), wav);
    assert.equal(own.object, 'audio.verification');
    assert.equal(own.watermarked, true);
    assert.ok(own.confidence > 0.9, String(own.confidence));
    assert.equal(own.response_id, id);
    assert.equal(own.model, 'tts-1');
    assert.equal(own.voice, 'alloy');
    assert.ok(Math.abs(own.created_at! - Date.now() / 1000) < 600);

    const ownMp3 = await verifyMultipart(server, KEY_A, mp3Bytes, 'reply.mp3');
    assert.equal(ownMp3.status, 200);
    assert.equal(ownMp3.body.watermarked, true);
    assert.equal(ownMp3.body.response_id, mp3.response.headers.get('x-request-id'));

    const other = await verifyMultipart(server, KEY_B, wav, 'reply.wav');
    assert.equal(other.body.watermarked, true);
    assert.deepEqual([other.body.response_id, other.body.created_at, other.body.model, other.body.voice], [null, null, null, null]);
    const otherJson = await verifyJson(clientFor(server, KEY_B), mp3Bytes);
    assert.equal(otherJson.watermarked, true);
    assert.equal(otherJson.response_id, null);

    const admin = await verifyJson(clientFor(server, ADMIN), wav);
    assert.equal(admin.response_id, id);

    const human = await verifyMultipart(server, KEY_A, fs.readFileSync(path.join(SPEECH, 'librivox-0870.wav')), 'human.wav');
    assert.equal(human.body.watermarked, false);
    assert.equal(human.body.response_id, null);
  });

  test('chat audio is watermarked too, and leads back to the completion', async () => {
    const engines = server.runtime.services.engines();
    const original = engines.llm;
    engines.llm = async () => scriptedLlm(TEXT);
    try {
      const client = clientFor(server, KEY_A);
      const completion = await client.chat.completions.create({
        model: 'gpt-4o-mini-audio-preview',
        modalities: ['text', 'audio'],
        audio: { voice: 'fable', format: 'wav' },
        messages: [{ role: 'user', content: 'Tell me the weather.' }],
      });
      const audio = Buffer.from(completion.choices[0]!.message.audio!.data, 'base64');
      const verdict = await verifyJson(client, audio);
      assert.equal(verdict.watermarked, true);
      assert.equal(verdict.response_id, completion.id);
      assert.equal(verdict.voice, 'fable');
      assert.equal(verdict.model, 'gpt-4o-mini-audio-preview');
    } finally {
      engines.llm = original;
    }
  });

  test('streamed chat audio (pcm16 deltas) is watermarked and leads back to the completion', async () => {
    const engines = server.runtime.services.engines();
    const original = engines.llm;
    engines.llm = async () => scriptedLlm(TEXT);
    try {
      const stream = await clientFor(server, KEY_A).chat.completions.create({
        model: 'gpt-4o-mini-audio-preview',
        modalities: ['text', 'audio'],
        audio: { voice: 'echo', format: 'pcm16' },
        messages: [{ role: 'user', content: 'Tell me the weather.' }],
        stream: true,
      });
      const pieces: Buffer[] = [];
      let id = '';
      for await (const chunk of stream) {
        id = chunk.id;
        const audio = (chunk.choices[0]?.delta as { audio?: { data?: string } } | undefined)?.audio;
        if (audio?.data) pieces.push(Buffer.from(audio.data, 'base64'));
      }
      const pcm = Buffer.concat(pieces);
      const samples = Float32Array.from({ length: pcm.length / 2 }, (_, i) => pcm.readInt16LE(2 * i) / 32768);
      const verdict = engines.watermark.verify(samples, 24_000);
      assert.equal(verdict.watermarked, true, `score ${verdict.score}`);
      assert.equal(verdict.response?.responseId, id);
    } finally {
      engines.llm = original;
    }
  });

  test('batch speech lines are watermarked, and verify names the line for the key that made the batch', async () => {
    const client = clientFor(server, KEY_A);
    const batch = await submitBatch(
      client,
      speechLines(1, () => TEXT, 'mp3'),
      '/v1/audio/speech',
    );
    const done = await waitForBatch(client, batch.id, undefined, 120_000);
    assert.deepEqual(done.request_counts, { total: 1, completed: 1, failed: 0 });
    const [line] = await readResults(client, done.output_file_id);
    const audio = Buffer.from((line!.response!.body as { audio: string }).audio, 'base64');
    const verdict = await verifyJson(client, audio);
    assert.equal(verdict.watermarked, true);
    assert.equal(verdict.response_id, line!.response!.request_id);
    assert.equal((await verifyJson(clientFor(server, KEY_B), audio)).response_id, null);
  });

  test('bad verify requests are OpenAI-style 400s', async () => {
    const client = clientFor(server, KEY_A);
    await expectApiError(client.post('/audio/verify', { body: {} }), 400, 'missing_required_parameter', 'audio');
    await expectApiError(client.post('/audio/verify', { body: { audio: 'not base64!!' } }), 400, 'invalid_value', 'audio');
    await expectApiError(
      client.post('/audio/verify', { body: { audio: Buffer.from('hello, not audio').toString('base64') } }),
      400,
      'unsupported_format',
      'audio',
    );
    const missing = await fetch(`${server.url}/v1/audio/verify`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}` }, body: new FormData() });
    assert.equal(missing.status, 400);
    const body = (await missing.json()) as { error: { code: string; param: string } };
    assert.equal(body.error.param, 'file');
  });

  test('/health says which safety layers are live and that voices are watermarked', async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { safety: { layers: { name: string; state: string }[]; watermark: string } };
    assert.equal(health.safety.watermark, 'on');
    const states = Object.fromEntries(health.safety.layers.map((l) => [l.name, l.state]));
    assert.deepEqual(states, { word_list: 'live', self_harm_phrases: 'live', classifier: 'off', judge: 'off' });
  });
});

describe('PARLEY_WATERMARK=off', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ PARLEY_WATERMARK: 'off', PARLEY_WATERMARK_KEY: 'a fixed key for this test run' });
  });
  after(async () => {
    await server?.close();
  });

  test('speech is not marked, and the same key finds nothing in it', async () => {
    const speech = await server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: TEXT, response_format: 'wav' });
    const verdict = await verifyJson(server.client, new Uint8Array(await speech.arrayBuffer()));
    assert.equal(verdict.watermarked, false);
    assert.equal(verdict.response_id, null);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { safety: { watermark: string } };
    assert.equal(health.safety.watermark, 'off');
  });
});

describe('parley verify', () => {
  const ROOT = path.resolve(import.meta.dirname, '..');
  const cli = (args: string[], dataDir: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_OFFLINE: '1', PARLEY_LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 120_000,
    });

  test('finds the mark of `parley say` and names the response; says no (exit 2) for a human recording; --help; a missing file is one line', () => {
    const dir = tempDir('parley-cli-verify-');
    try {
      const out = path.join(dir, 'said.wav');
      const said = cli(['say', TEXT, '--voice', 'nova', '-o', out], dir);
      assert.equal(said.status, 0, said.stderr);
      const found = cli(['verify', out], dir);
      assert.equal(found.status, 0, found.stderr);
      const verdict = JSON.parse(found.stdout) as Verification;
      assert.equal(verdict.watermarked, true);
      assert.match(verdict.response_id ?? '', /^say_/);
      assert.equal(verdict.voice, 'nova');

      const human = cli(['verify', path.join(SPEECH, 'librivox-0890.wav')], dir);
      assert.equal(human.status, 2, human.stderr);
      assert.equal((JSON.parse(human.stdout) as Verification).watermarked, false);

      const help = cli(['verify', '--help'], dir);
      assert.equal(help.status, 0);
      assert.match(help.stdout, /Prints JSON/);

      const missing = cli(['verify', path.join(dir, 'nothing.wav')], dir);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /^parley: .*does not exist/);
      assert.equal(missing.stderr.trim().split('\n').length, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
