import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { speechLines, submitBatch, waitForBatch } from './helpers/batch.js';
import { expectApiError } from './helpers/errors.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const ADMIN = 'sk-admin-isolation-0123456789';
const STATIC = 'sk-isolation-static';
const MODEL = 'gpt-4o-mini-audio-preview';

/**
 * What one key makes, no other key reaches: chat reply audio ids, batches and usage (files have
 * their own test in files.test.ts). Key A is a PARLEY_API_KEYS key, key B one an admin handed out,
 * so both kinds are held to the same rule.
 */
describe('per-key isolation through the official SDK: another key gets not-found', () => {
  let server: TestServer;
  let dir: string;
  let a: OpenAI;
  let b: OpenAI;
  before(async () => {
    dir = tempDir('parley-isolation-');
    const model = path.join(dir, 'tiny.gguf');
    writeTinyGguf(model, { asciiOnly: true });
    server = await startTestServer({ PARLEY_LLM_MODEL: model, PARLEY_API_KEYS: STATIC, PARLEY_ADMIN_KEY: ADMIN });
    const res = await fetch(`${server.url}/v1/parley/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'tenant-b', rpm_limit: 1000 }),
    });
    const { key } = (await res.json()) as { key: string };
    a = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: STATIC, maxRetries: 0 });
    b = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a chat reply's audio id works for its key; for another it is not found, exactly as an id that never existed", async () => {
    const first = await a.chat.completions.create({
      model: MODEL,
      modalities: ['text', 'audio'],
      audio: { voice: 'alloy', format: 'wav' },
      messages: [{ role: 'user', content: 'Say something.' }],
      max_tokens: 8,
      seed: 1,
    });
    const id = first.choices[0]!.message.audio!.id;
    const followUp = (client: OpenAI, audioId = id) =>
      client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'user', content: 'Say something.' },
          { role: 'assistant', audio: { id: audioId } },
          { role: 'user', content: 'And then?' },
        ],
        max_tokens: 4,
      });
    const own = await followUp(a);
    assert.equal(typeof own.choices[0]!.message.content, 'string');
    // OpenAI answers an unknown assistant audio id with 400 audio_not_found: another key's id gets
    // that same answer, so it cannot even tell the id exists.
    const theirs = await expectApiError(followUp(b), 400, 'audio_not_found', 'messages[1].audio.id');
    const unknownId = `audio_${'0'.repeat(32)}`;
    const never = await expectApiError(followUp(b, unknownId), 400, 'audio_not_found', 'messages[1].audio.id');
    assert.equal(theirs.message, never.message.replace(unknownId, id));
  });

  test("a batch is not found, listed or cancelled by another key, nor can it use the other key's input file", async () => {
    const batch = await submitBatch(a, speechLines(1), '/v1/audio/speech');
    await expectApiError(b.batches.retrieve(batch.id), 404, null);
    await expectApiError(b.batches.cancel(batch.id), 404, null);
    const listed = await b.batches.list();
    assert.ok(!listed.data.some((x) => x.id === batch.id));
    await expectApiError(b.batches.create({ input_file_id: batch.input_file_id, endpoint: '/v1/chat/completions', completion_window: '24h' }), 404, null);
    const done = await waitForBatch(a, batch.id);
    assert.equal(done.status, 'completed');
    // Its output file belongs to the key that made the batch.
    await expectApiError(b.files.content(done.output_file_id!), 404, null, 'id');
    assert.ok((await (await a.files.content(done.output_file_id!)).text()).includes('"custom_id":"s-0"'));
  });

  test('/v1/usage shows each key its own traffic only', async () => {
    const usage = async (client: OpenAI) => (await client.get('/usage')) as { requests: number; prompt_tokens: number };
    const before = { a: await usage(a), b: await usage(b) };
    await a.moderations.create({ input: 'a few words from key a' });
    await a.moderations.create({ input: 'and a few more' });
    const after = { a: await usage(a), b: await usage(b) };
    assert.equal(after.a.requests - before.a.requests, 2);
    assert.deepEqual(after.b, before.b);
    await b.moderations.create({ input: 'one from key b' });
    assert.equal((await usage(b)).requests - before.b.requests, 1);
    assert.equal((await usage(a)).requests, after.a.requests);
  });
});
