import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { wavHeader } from '../src/audio/encode/wav.js';
import type { Speaker } from '../src/pipeline/speak.js';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { expectApiError } from './helpers/errors.js';
import { type LogLine, startTestServer, type TestServer, tempDir } from './helpers/server.js';

/** A WAV of `seconds` of a quiet tone, mono 16-bit. */
function toneWav(seconds: number, rate = 16_000): Buffer {
  const n = Math.round(seconds * rate);
  const pcm = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) pcm.writeInt16LE(Math.round(2000 * Math.sin((2 * Math.PI * 220 * i) / rate)), i * 2);
  return Buffer.concat([wavHeader(pcm.length, rate), pcm]);
}

/** Child processes of this process whose command name is `name`. */
function childrenNamed(name: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1] === name && Number(m[2]) === process.pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

describe('reliability under load and abuse', () => {
  let server: TestServer;
  let dir: string;
  const log: LogLine[] = [];
  before(async () => {
    dir = tempDir('parley-reliability-');
    const model = path.join(dir, 'tiny.gguf');
    writeTinyGguf(model, { asciiOnly: true });
    const config = path.join(dir, 'parley.yaml');
    fs.writeFileSync(config, 'limits:\n  chatAudioSec: 5\n  chatAudioBytes: 400000\n  inFlight: { speech: 1 }\n');
    server = await startTestServer({ PARLEY_CONFIG: config, PARLEY_LLM_MODEL: model, PARLEY_ASR_ENGINE: 'pocketsphinx' }, { log });
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('answers 503 server_overloaded with retry-after when its speech requests are all taken, and health says so', async () => {
    const engines = server.runtime.services.engines();
    const original = engines.speaker;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Speaker = {
      ...original,
      voiceNames: () => original.voiceNames(),
      synthesize: async (r) => {
        await gate;
        return original.synthesize(r);
      },
    };
    engines.speaker = slow;
    try {
      const first = server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hold on a moment.', response_format: 'wav' });
      await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`${server.url}/v1/audio/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'Me too.' }),
      });
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error: { code: string; type: string } };
      assert.equal(body.error.code, 'server_overloaded');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.equal(Number(res.headers.get('retry-after-ms')), Number(res.headers.get('retry-after')) * 1000);
      const health = (await (await fetch(`${server.url}/health`)).json()) as {
        saturation: number;
        requests: { speech: { in_flight: number; rejected: number } };
      };
      assert.equal(health.saturation, 1);
      assert.equal(health.requests.speech.in_flight, 1);
      assert.ok(health.requests.speech.rejected >= 1);
      release();
      assert.ok((await (await first).arrayBuffer()).byteLength > 44);
      // The place is given back: the next request goes through.
      const next = await server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Now me.', response_format: 'wav' });
      assert.ok((await next.arrayBuffer()).byteLength > 44);
    } finally {
      release();
      engines.speaker = original;
    }
  });

  test('refuses speech input with nothing to speak in it, instead of answering 200 with no audio', async () => {
    for (const input of ['...', '-', '\ufffd', ' !? ']) {
      await expectApiError(server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'mp3' }), 400, 'invalid_value', 'input');
    }
  });

  test('bounds the input audio of one chat request, naming the part that goes past the bound', async () => {
    const part = (seconds: number, rate?: number) => ({
      type: 'input_audio' as const,
      input_audio: { data: toneWav(seconds, rate).toString('base64'), format: 'wav' as const },
    });
    await expectApiError(
      server.client.chat.completions.create({ model: 'gpt-4o-mini-audio-preview', messages: [{ role: 'user', content: [part(3), part(3)] }] }),
      400,
      'audio_too_long',
      'messages[0].content[1].input_audio.data',
    );
    await expectApiError(
      // 1.2 s each at 48 kHz: 115 KB a part, so the fourth crosses 400 KB long before 5 s of audio.
      server.client.chat.completions.create({
        model: 'gpt-4o-mini-audio-preview',
        messages: [{ role: 'user', content: [part(1.2, 48_000), part(1.2, 48_000), part(1.2, 48_000), part(1.2, 48_000)] }],
      }),
      400,
      'audio_too_large',
      'messages[0].content[3].input_audio.data',
    );
  });

  test('a client that leaves mid-stream is logged as a disconnect, not a server error, and leaves no encoder behind', async () => {
    const input = Array.from({ length: 40 }, (_, i) => `This is sentence ${i + 1}, said slowly to keep the encoder busy.`).join(' ');
    for (const format of ['aac', 'mp3']) {
      await new Promise<void>((resolve) => {
        const req = http.request(`${server.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        req.end(JSON.stringify({ model: 'tts-1', voice: 'alloy', input, response_format: format }));
      });
    }
    // Let the server notice and clean up.
    for (let i = 0; i < 50 && childrenNamed('ffmpeg').length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(childrenNamed('ffmpeg'), [], 'no encoder child outlives its client');
    const errors = log.filter((l) => l.level >= 50);
    assert.deepEqual(
      errors.map((l) => `${l.msg}: ${JSON.stringify(l.err ?? '')}`),
      [],
      'nothing logged as an error',
    );
    // mp3 encodes in process (no ffmpeg child to wait for above): give the aborted syntheses the
    // same bounded time to stop.
    const engines = async () => ((await (await fetch(`${server.url}/health`)).json()) as { engines: { running: number; queued: number } }).engines;
    let health = await engines();
    for (let i = 0; i < 50 && health.running + health.queued > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = await engines();
    }
    assert.deepEqual([health.running, health.queued], [0, 0], 'no engine job left running');
  });

  test('a client that leaves a streamed transcription is not logged as a server error', async () => {
    const clip = fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'speech', 'allison-conf-adminmenu.wav'));
    const form = new FormData();
    form.append('model', 'whisper-1');
    form.append('stream', 'true');
    form.append('file', new Blob([new Uint8Array(clip)]), 'long.wav');
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const before = log.length;
    // Leave at several points: while decoding, while recognising (the events may not have started).
    for (const afterMs of [30, 150, 400, 900]) {
      await new Promise<void>((resolve) => {
        const req = http.request(`${server.url}/v1/audio/transcriptions`, {
          method: 'POST',
          headers: { 'content-type': encoded.headers.get('content-type')! },
        });
        req.on('error', () => undefined);
        req.on('finish', () =>
          setTimeout(() => {
            req.destroy();
            resolve();
          }, afterMs),
        );
        req.end(body);
      });
    }
    const engines = async () => ((await (await fetch(`${server.url}/health`)).json()) as { engines: { running: number; queued: number } }).engines;
    let health = await engines();
    for (let i = 0; i < 100 && health.running + health.queued > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      health = await engines();
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      log
        .slice(before)
        .filter((l) => l.level >= 50)
        .map((l) => `${l.msg}: ${JSON.stringify(l.err ?? '')}`),
      [],
      'nothing logged as an error',
    );
  });

  test('retries an overloaded request the way the official SDK does: after retry-after', async () => {
    const engines = server.runtime.services.engines();
    const original = engines.speaker;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    engines.speaker = {
      ...original,
      voiceNames: () => original.voiceNames(),
      synthesize: async (r) => {
        await gate;
        return original.synthesize(r);
      },
    };
    try {
      const first = server.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'First.', response_format: 'wav' });
      await new Promise((r) => setTimeout(r, 100));
      const retrying = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 3 });
      const second = retrying.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Second.', response_format: 'wav' });
      setTimeout(release, 300);
      assert.ok((await (await second).arrayBuffer()).byteLength > 44, 'the SDK retried after retry-after and got its audio');
      await first;
    } finally {
      release();
      engines.speaker = original;
    }
  });
});
