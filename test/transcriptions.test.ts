import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { wavHeader } from '../src/audio/encode/wav.js';
import { corpusWer, wer } from '../src/engines/asr/wer.js';
import { malformedCases, randomBytes } from './fixtures/audio-in/make-corpus.js';
import { writeTinyWhisperModel } from './fixtures/models/make-tiny-whisper.js';
import { expectApiError } from './helpers/errors.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const SPEECH = path.resolve(import.meta.dirname, 'fixtures/speech');
const TRANSCRIPTS = new Map(
  fs
    .readFileSync(path.join(SPEECH, 'transcripts.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t') as [string, string]),
);
const LIBRIVOX = [...TRANSCRIPTS.keys()].filter((f) => f.startsWith('librivox-'));

async function upload(name: string) {
  return toFile(fs.readFileSync(path.join(SPEECH, name)), name);
}

describe('POST /v1/audio/transcriptions with pocketsphinx on real human speech', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ PARLEY_ASR_ENGINE: 'pocketsphinx' });
  });
  after(async () => {
    await server.close();
  });

  test('transcribes the audiobook lines with a corpus WER under 0.5', async () => {
    const pairs = [];
    for (const name of LIBRIVOX) {
      const res = await server.client.audio.transcriptions.create({ file: await upload(name), model: 'whisper-1' });
      pairs.push({ reference: TRANSCRIPTS.get(name)!, hypothesis: res.text });
    }
    const score = corpusWer(pairs);
    assert.ok(score < 0.5, `corpus WER ${score.toFixed(3)}: ${JSON.stringify(pairs)}`);
  });

  test('answers text, srt, vtt and verbose_json with word and segment timestamps', async () => {
    const name = LIBRIVOX[0]!;
    const text = await server.client.audio.transcriptions.create({ file: await upload(name), model: 'gpt-4o-mini-transcribe', response_format: 'text' });
    assert.equal(typeof text, 'string');
    assert.ok((text as unknown as string).trim().length > 0);
    const srt = (await server.client.audio.transcriptions.create({
      file: await upload(name),
      model: 'whisper-1',
      response_format: 'srt',
    })) as unknown as string;
    assert.match(srt, /^1\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n/);
    const vtt = (await server.client.audio.transcriptions.create({
      file: await upload(name),
      model: 'whisper-1',
      response_format: 'vtt',
    })) as unknown as string;
    assert.match(vtt, /^WEBVTT\n\n\d\d:\d\d:\d\d\.\d\d\d --> /);
    const verbose = await server.client.audio.transcriptions.create({
      file: await upload(name),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    assert.equal(verbose.language, 'english');
    assert.ok(verbose.duration > 1 && verbose.duration < 10);
    assert.ok(verbose.segments && verbose.segments.length > 0);
    assert.ok(verbose.words && verbose.words.length > 3);
    for (const w of verbose.words!) assert.ok(w.start >= 0 && w.end >= w.start && w.end <= verbose.duration + 0.05, JSON.stringify(w));
    assert.ok(wer(TRANSCRIPTS.get(name)!, verbose.text) < 0.6);
  });

  test('streams transcript.text.delta and transcript.text.done events', async () => {
    const stream = await server.client.audio.transcriptions.create({ file: await upload(LIBRIVOX[1]!), model: 'gpt-4o-mini-transcribe', stream: true });
    const events: Array<{ type: string; delta?: string; text?: string }> = [];
    for await (const event of stream) events.push(event as never);
    assert.ok(events.some((e) => e.type === 'transcript.text.delta'));
    const done = events[events.length - 1]!;
    assert.equal(done.type, 'transcript.text.done');
    assert.equal(
      events
        .filter((e) => e.type === 'transcript.text.delta')
        .map((e) => e.delta)
        .join(''),
      done.text,
    );
  });

  test('translates English speech to English text', async () => {
    const res = await server.client.audio.translations.create({ file: await upload(LIBRIVOX[0]!), model: 'whisper-1' });
    assert.ok(wer(TRANSCRIPTS.get(LIBRIVOX[0]!)!, res.text) < 0.6, res.text);
  });

  test("recognises Parley's own alloy, echo and shimmer voices", async () => {
    const sentences = ['please enter your password followed by the pound key', 'the meeting will start in ten minutes'];
    const pairs = [];
    for (const voice of ['alloy', 'echo', 'shimmer'] as const) {
      for (const input of sentences) {
        const speech = await server.client.audio.speech.create({ model: 'tts-1', voice, input, response_format: 'wav' });
        const res = await server.client.audio.transcriptions.create({
          file: await toFile(Buffer.from(await speech.arrayBuffer()), 'speech.wav'),
          model: 'whisper-1',
        });
        pairs.push({ reference: input, hypothesis: res.text });
      }
    }
    const score = corpusWer(pairs);
    assert.ok(score < 0.6, `round-trip WER ${score.toFixed(3)}: ${JSON.stringify(pairs)}`);
  });

  test('returns an empty transcript for silence', async () => {
    const silence = Buffer.concat([wavHeader(32_000, 16_000), Buffer.alloc(32_000)]);
    const res = await server.client.audio.transcriptions.create({ file: await toFile(silence, 'silence.wav'), model: 'whisper-1' });
    assert.equal(res.text, '');
  });

  test('refuses every malformed file with a 4xx in OpenAI shape and stays healthy', async () => {
    for (const c of malformedCases()) {
      const started = performance.now();
      await expectApiError(
        server.client.audio.transcriptions.create({ file: await toFile(c.bytes, `case.${c.format ?? 'wav'}`), model: 'whisper-1' }),
        400,
        c.code,
      );
      assert.ok(performance.now() - started < 10_000, `${c.name} took too long`);
    }
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  test('refuses a file one byte over the upload limit before decoding it', async () => {
    const big = randomBytes(25 * 1024 * 1024 + 1, 7);
    await expectApiError(server.client.audio.transcriptions.create({ file: await toFile(big, 'big.wav'), model: 'whisper-1' }), 413, 'request_too_large');
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  test('rejects a missing file, a bad format and an unknown model', async () => {
    const form = new FormData();
    form.set('model', 'whisper-1');
    const res = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, 'file');
    await expectApiError(
      server.client.audio.transcriptions.create({ file: await upload(LIBRIVOX[0]!), model: 'whisper-1', response_format: 'xml' as 'json' }),
      400,
      'invalid_value',
    );
    await expectApiError(server.client.audio.transcriptions.create({ file: await upload(LIBRIVOX[0]!), model: 'nope' }), 404, 'model_not_found');
  });
});

describe('POST /v1/audio/analysis: what was said and how', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ PARLEY_ASR_ENGINE: 'pocketsphinx' });
  });
  after(async () => {
    await server.close();
  });

  async function analyze(body: Record<string, unknown>) {
    const res = await fetch(`${server.url}/v1/audio/analysis`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as {
      object: string;
      text: string;
      duration: number;
      analysis: { sentiment: string; score: number; arousal: string; cues: string[]; measures: Record<string, unknown> };
      description: string;
    };
  }

  test('analyses a real recording sent as multipart', async () => {
    const form = new FormData();
    form.set('file', new Blob([fs.readFileSync(path.join(SPEECH, LIBRIVOX[0]!))]), LIBRIVOX[0]!);
    const res = await fetch(`${server.url}/v1/audio/analysis`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Awaited<ReturnType<typeof analyze>>;
    assert.equal(body.object, 'audio.analysis');
    assert.ok(body.text.length > 0);
    const pitch = body.analysis.measures.pitch as { median_hz: number };
    assert.ok(pitch.median_hz > 60 && pitch.median_hz < 300, JSON.stringify(pitch));
    assert.match(body.description, /^\[voice: /);
  });

  test('hears positive and negative sentences spoken by Parley as such', async () => {
    const speak = async (input: string) => {
      const res = await server.client.audio.speech.create({ model: 'tts-1', voice: 'echo', input, response_format: 'wav' });
      return Buffer.from(await res.arrayBuffer()).toString('base64');
    };
    const happy = await analyze({ audio: await speak('I love this, it is great and wonderful, thank you so much'), format: 'wav' });
    const sad = await analyze({ audio: await speak('this is terrible and awful, I hate it, it is a horrible bad mess'), format: 'wav' });
    assert.ok(happy.analysis.score > sad.analysis.score, `${happy.text} ${happy.analysis.score} vs ${sad.text} ${sad.analysis.score}`);
    assert.equal(happy.analysis.sentiment, 'positive', happy.text);
    assert.equal(sad.analysis.sentiment, 'negative', sad.text);
  });

  test('rejects invalid base64 with a 400 naming the field', async () => {
    const res = await fetch(`${server.url}/v1/audio/analysis`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ audio: 'not base64!!' }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, 'audio');
  });
});

describe('the whisper engine behind the HTTP API (tiny random-weight model)', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = tempDir('parley-whisper-');
    const model = path.join(dir, 'ggml-tiny-random.bin');
    writeTinyWhisperModel(model);
    server = await startTestServer({ PARLEY_ASR_ENGINE: 'whisper', PARLEY_ASR_MODEL: model });
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('answers verbose_json with segments inside the audio for a file longer than 30 s', async () => {
    // Three recordings with pauses, repeated to about 40 s: VAD must cut it into windows ≤ 30 s.
    const clips = LIBRIVOX.map((f) => fs.readFileSync(path.join(SPEECH, f)).subarray(44));
    const pause = Buffer.alloc(16_000 * 2);
    const parts: Buffer[] = [];
    let bytes = 0;
    while (bytes < 16_000 * 2 * 40) {
      for (const c of clips) {
        parts.push(c, pause);
        bytes += c.length + pause.length;
      }
    }
    const pcm = Buffer.concat(parts);
    const header = wavHeader(pcm.length, 16_000);
    const windows: number[] = [];
    const original = server.runtime.services.engines().asr;
    server.runtime.services.engines().asr = async () => {
      const engine = await original();
      return {
        ...engine,
        id: engine.id,
        capabilities: engine.capabilities,
        languages: () => engine.languages(),
        dispose: () => engine.dispose(),
        transcribe: (pcm, options) => {
          windows.push(pcm.samples.length / pcm.sampleRate);
          return engine.transcribe(pcm, options);
        },
      };
    };
    let res: OpenAI.Audio.TranscriptionVerbose;
    try {
      res = await server.client.audio.transcriptions.create({
        file: await toFile(Buffer.concat([header, pcm]), 'long.wav'),
        model: 'whisper-1',
        response_format: 'verbose_json',
      });
    } finally {
      server.runtime.services.engines().asr = original;
    }
    assert.ok(res.duration > 39, String(res.duration));
    assert.ok(windows.length >= 2, `windows: ${windows}`);
    for (const w of windows) assert.ok(w <= 30.01, `a window of ${w} s`);
    assert.ok(windows.reduce((a, b) => a + b, 0) > 0.6 * res.duration, `windows cover the speech: ${windows}`);
    for (const s of res.segments ?? []) assert.ok(s.start >= 0 && s.end <= res.duration + 0.01 && s.end >= s.start, JSON.stringify(s));
    assert.equal(typeof res.text, 'string');
  });
});
