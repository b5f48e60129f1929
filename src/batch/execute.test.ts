import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import multipart from '@fastify/multipart';
import Fastify from 'fastify';
import { installAuth } from '../http/auth.js';
import { installErrorHandling } from '../http/error-handler.js';
import { Limiter } from '../lib/limiter.js';
import { hashApiKey } from '../store/context.js';
import { completeWavHeader, createLineRunner } from './execute.js';

const request = (url: string, body: Record<string, unknown>) => JSON.stringify({ url, body });
const TOKEN = 'test-internal-token';

describe('running a batch line through the live app', () => {
  test('queues the engine work it starts behind live requests (batch priority reaches the limiter)', async () => {
    const limiter = new Limiter(1);
    const order: string[] = [];
    const app = Fastify();
    app.post('/v1/audio/speech', async (req) => {
      const who = (req.body as { who: string }).who;
      await limiter.run('tts', async () => {
        order.push(who);
      });
      return { who };
    });
    let release!: () => void;
    const blocker = limiter.run('tts', () => new Promise<void>((r) => (release = r)));
    const run = createLineRunner(app, TOKEN);
    const batchLine = run({ customId: 'b', request: request('/v1/audio/speech', { who: 'batch' }), owner: null });
    await new Promise((r) => setTimeout(r, 20));
    const live = app.inject({ method: 'POST', url: '/v1/audio/speech', payload: { who: 'live' } });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(limiter.queued, 2);
    release();
    await Promise.all([blocker, batchLine, live]);
    assert.deepEqual(order, ['live', 'batch']);
  });

  test("answers in OpenAI's output-line shape, with the status and request id of the response", async () => {
    const app = Fastify({ genReqId: () => 'req_abc' });
    app.addHook('onRequest', async (req, reply) => {
      reply.header('x-request-id', req.id);
    });
    app.post('/v1/chat/completions', async (req, reply) =>
      (req.body as { fail?: boolean }).fail
        ? reply.status(400).send({ error: { message: 'no', type: 'invalid_request_error', param: 'x', code: 'invalid_value' } })
        : { id: 'chatcmpl-1' },
    );
    const run = createLineRunner(app, TOKEN);
    const ok = await run({ customId: 'a', request: request('/v1/chat/completions', {}), owner: null });
    assert.equal(ok.state, 'done');
    const parsed = JSON.parse(ok.line);
    assert.match(parsed.id, /^batch_req_[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...parsed, id: undefined },
      { id: undefined, custom_id: 'a', response: { status_code: 200, request_id: 'req_abc', body: { id: 'chatcmpl-1' } }, error: null },
    );
    const bad = await run({ customId: 'b', request: request('/v1/chat/completions', { fail: true }), owner: null });
    assert.equal(bad.state, 'failed');
    assert.equal(JSON.parse(bad.line).response.status_code, 400);
  });

  test('runs each line as the owner of its batch, and fails it once that key is no longer accepted', async () => {
    const app = Fastify();
    installErrorHandling(app, 1_000_000);
    installAuth(app, { keys: ['sk-one', 'sk-two'], internalToken: TOKEN });
    app.post('/v1/chat/completions', async (req) => ({ owner: req.owner, auth: req.headers.authorization ?? null }));
    const run = createLineRunner(app, TOKEN);
    const mine = await run({ customId: 'a', request: request('/v1/chat/completions', {}), owner: hashApiKey('sk-two') });
    assert.deepEqual(JSON.parse(mine.line).response.body, { owner: hashApiKey('sk-two'), auth: null }, 'no key travels with the line');
    const orphan = await run({ customId: 'b', request: request('/v1/chat/completions', {}), owner: hashApiKey('sk-removed') });
    assert.equal(orphan.state, 'failed');
    assert.equal(JSON.parse(orphan.line).response.status_code, 401);
    assert.equal(JSON.parse(orphan.line).response.body.error.code, 'invalid_api_key');
    const forged = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { 'x-parley-internal': 'guess', 'x-parley-owner': hashApiKey('sk-one') },
    });
    assert.equal(forged.statusCode, 401, 'without the process secret the owner header means nothing');
  });

  test('turns speech bytes into base64 JSON and transcription JSON into a multipart request', async () => {
    const app = Fastify();
    await app.register(multipart);
    app.post('/v1/audio/speech', async (_req, reply) => reply.header('content-type', 'audio/mpeg').send(Buffer.from([1, 2, 3])));
    app.post('/v1/audio/transcriptions', async (req, reply) => {
      const fields: Record<string, string[]> = {};
      let file: { name: string; bytes: number[] } | undefined;
      for await (const part of req.parts()) {
        if (part.type === 'file') file = { name: part.filename, bytes: [...(await part.toBuffer())] };
        else (fields[part.fieldname] ??= []).push(String(part.value));
      }
      return fields.response_format?.[0] === 'text' ? reply.type('text/plain').send('hello\n') : { fields, file };
    });
    const run = createLineRunner(app, TOKEN);
    const speech = JSON.parse((await run({ customId: 's', request: request('/v1/audio/speech', { response_format: 'mp3' }), owner: null })).line);
    assert.deepEqual(speech.response.body, { audio: 'AQID', format: 'mp3', content_type: 'audio/mpeg' });
    const body = {
      model: 'whisper-1',
      file: Buffer.from([9, 8]).toString('base64'),
      filename: 'a.wav',
      language: 'en',
      temperature: 0.2,
      timestamp_granularities: ['word', 'segment'],
    };
    const t = JSON.parse((await run({ customId: 't', request: request('/v1/audio/transcriptions', body), owner: null })).line);
    assert.deepEqual(t.response.body, {
      fields: { model: ['whisper-1'], language: ['en'], temperature: ['0.2'], 'timestamp_granularities[]': ['word', 'segment'] },
      file: { name: 'a.wav', bytes: [9, 8] },
    });
    const text = JSON.parse(
      (await run({ customId: 'x', request: request('/v1/audio/transcriptions', { ...body, response_format: 'text' }), owner: null })).line,
    );
    assert.equal(text.response.body, 'hello\n', 'a text answer is a JSON string');
    const wrong = JSON.parse((await run({ customId: 'y', request: request('/v1/audio/transcriptions', { model: 'm', file: 12 }), owner: null })).line);
    assert.equal(wrong.response.status_code, 400);
    assert.equal(wrong.response.body.error.param, 'file');
  });

  test('fills in the sizes of a streamed WAV header', () => {
    const wav = Buffer.alloc(44 + 10);
    wav.write('RIFF', 0, 'ascii');
    wav.writeUInt32LE(0xffffffff, 4);
    wav.write('WAVEfmt ', 8, 'ascii');
    wav.writeUInt32LE(16, 16);
    wav.write('data', 36, 'ascii');
    wav.writeUInt32LE(0xffffffff, 40);
    const fixed = completeWavHeader(wav);
    assert.equal(fixed.readUInt32LE(4), 46);
    assert.equal(fixed.readUInt32LE(40), 10);
    assert.equal(completeWavHeader(Buffer.from('not a wav')).toString(), 'not a wav');
  });
});
