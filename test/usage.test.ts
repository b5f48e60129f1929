/**
 * Usage for every endpoint, OpenAI's organization usage and costs, and /metrics — through the
 * official SDK: the numbers served equal the sums of the requests this test makes.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import type { LlmEngine, LlmGenerateOptions } from '../src/engines/llm/types.js';
import { readResults, submitBatch, waitForBatch } from './helpers/batch.js';
import { assertMatchesSchema } from './helpers/openapi.js';
import { Scrape } from './helpers/prometheus.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const SPEECH = path.resolve(import.meta.dirname, 'fixtures/speech');
const ALICE = 'sk-usage-alice';
const BOB = 'sk-usage-bob';
const keyId = (key: string) => `key_${crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)}`;

/** An LLM that answers a fixed text word by word and reports fixed token counts. */
function scriptedLlm(text: string): LlmEngine {
  return {
    id: 'scripted',
    model: 'scripted',
    async generate(o: LlmGenerateOptions) {
      for (const word of text.match(/\S+\s*/g) ?? []) {
        o.signal?.throwIfAborted();
        o.onText?.(word);
      }
      return { text, toolCalls: [], finishReason: 'stop' as const, usage: { promptTokens: 21, completionTokens: 7, cachedTokens: 0 } };
    },
    countTokens: async (t: string) => Math.ceil(t.length / 4),
    dispose: async () => undefined,
  } as LlmEngine;
}

/**
 * The 2025-01-22 spec names a bucket's array `result` and types `next_page` as a string; the API
 * sends `results` and `null` (openai-node 6.49's usage response types: `results`, `next_page:
 * string | null`). Those two names are mapped back for the spec's validator; nothing else changes.
 */
function asSpecPage(page: { data: { results: unknown[] }[]; next_page: string | null }) {
  return { ...page, next_page: page.next_page ?? '', data: page.data.map(({ results, ...b }) => ({ ...b, result: results })) };
}

describe('usage and costs of every endpoint, and /metrics', () => {
  let server: TestServer;
  let alice: OpenAI;
  let bob: OpenAI;
  let admin: OpenAI;
  const start = Math.floor(Date.now() / 1000) - 60;
  const made = { speechChars: 0, speechSec: 0, heardSec: 0, chatIn: 0, chatOut: 0, moderationTokens: 0 };
  let first: Scrape;
  let last: Scrape;

  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ALICE}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return Scrape.parse(await res.text());
  };

  before(async () => {
    server = await startTestServer({ PARLEY_API_KEYS: `${ALICE},${BOB}` });
    const engines = server.runtime.services.engines();
    engines.llm = async () => scriptedLlm('Four words come back.');
    const client = (key: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, adminAPIKey: key, maxRetries: 0, timeout: 60_000 });
    alice = client(ALICE);
    bob = client(BOB);
    // Issue 12's separate admin key is not on this branch: any configured key is an admin (http/admin.ts).
    admin = alice;
    first = await scrape();

    // One request of each kind as alice…
    const input = 'Usage is counted for every endpoint.';
    const wav = Buffer.from(await (await alice.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav' })).arrayBuffer());
    made.speechChars += input.length;
    made.speechSec += (wav.length - 44) / 2 / 24_000;
    const clip = fs.readFileSync(path.join(SPEECH, 'librivox-0870.wav'));
    const heard = await alice.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(clip, 'clip.wav'), response_format: 'verbose_json' });
    made.heardSec += heard.duration;
    const chat = await alice.chat.completions.create({ model: 'gpt-4o-mini-audio-preview', messages: [{ role: 'user', content: 'Say four words.' }] });
    made.chatIn += chat.usage!.prompt_tokens;
    made.chatOut += chat.usage!.completion_tokens;
    const text = 'A calm and friendly sentence.';
    await alice.moderations.create({ model: 'omni-moderation-latest', input: text });
    made.moderationTokens += Math.ceil(text.length / 4);
    // A speech input the content filters refuse (self-harm instructions block by default): a 400, not billed.
    await assert.rejects(
      alice.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'How do I kill myself?' }),
      (e: { status?: number }) => e.status === 400,
    );
    // …and a chat line in a batch as bob.
    const batch = await submitBatch(
      bob,
      [
        {
          custom_id: 'b-0',
          method: 'POST',
          url: '/v1/chat/completions',
          body: { model: 'gpt-4o-mini-audio-preview', messages: [{ role: 'user', content: 'Batch.' }] },
        },
      ],
      '/v1/chat/completions',
    );
    const done = await waitForBatch(bob, batch.id);
    const [line] = await readResults(bob, done.output_file_id);
    made.chatIn += line!.response!.body.usage.prompt_tokens;
    made.chatOut += line!.response!.body.usage.completion_tokens;
    last = await scrape();
  });
  after(async () => {
    await server?.close();
  });

  const window = () => ({ start_time: start, end_time: Math.floor(Date.now() / 1000) + 60, bucket_width: '1d' as const });

  test('completions: live and batch tokens per key, validated against the spec and typed by the SDK', async () => {
    const page = await admin.admin.organization.usage.completions({ ...window(), group_by: ['api_key_id', 'batch'] });
    assertMatchesSchema('UsageResponse', asSpecPage(page));
    assert.equal(page.object, 'page');
    assert.equal(page.has_more, false);
    assert.equal(page.next_page, null);
    const results = page.data.flatMap((b) => b.results) as OpenAI.Admin.Organization.UsageCompletionsResponse.Data.OrganizationUsageCompletionsResult[];
    const sum = (f: (r: (typeof results)[number]) => number) => results.reduce((n, r) => n + f(r), 0);
    assert.equal(
      sum((r) => r.input_tokens),
      made.chatIn,
    );
    assert.equal(
      sum((r) => r.output_tokens),
      made.chatOut,
    );
    assert.equal(
      sum((r) => r.num_model_requests),
      2,
    );
    const live = results.find((r) => r.batch === false)!;
    const batched = results.find((r) => r.batch === true)!;
    assert.deepEqual([live.api_key_id, live.num_model_requests], [keyId(ALICE), 1]);
    assert.deepEqual([batched.api_key_id, batched.num_model_requests], [keyId(BOB), 1]);
    assert.equal(live.model, null, 'not grouped by model: null');
  });

  test('audio speeches, transcriptions and moderations: characters, seconds and tokens as made', async () => {
    const speeches = await admin.admin.organization.usage.audioSpeeches({ ...window(), group_by: ['model'] });
    assertMatchesSchema('UsageResponse', asSpecPage(speeches));
    const [s] = speeches.data.flatMap((b) => b.results) as { characters: number; num_model_requests: number; model: string }[];
    assert.deepEqual(s, { ...s, characters: made.speechChars, num_model_requests: 1, model: 'tts-1' });

    const heard = await admin.admin.organization.usage.audioTranscriptions(window());
    assertMatchesSchema('UsageResponse', asSpecPage(heard));
    const [t] = heard.data.flatMap((b) => b.results) as { seconds: number; num_model_requests: number }[];
    assert.deepEqual([t!.seconds, t!.num_model_requests], [Math.round(made.heardSec), 1]);

    const moderations = await admin.admin.organization.usage.moderations(window());
    assertMatchesSchema('UsageResponse', asSpecPage(moderations));
    const [m] = moderations.data.flatMap((b) => b.results) as { input_tokens: number; num_model_requests: number }[];
    assert.deepEqual([m!.input_tokens, m!.num_model_requests], [made.moderationTokens, 1]);
  });

  test("costs by line item: Parley's own cost and OpenAI's list price, moderations free", async () => {
    const page = await admin.admin.organization.usage.costs({ ...window(), group_by: ['line_item'] } as never);
    assertMatchesSchema('UsageResponse', asSpecPage(page as never));
    const rows = page.data.flatMap((b) => b.results) as unknown as {
      line_item: string;
      amount: { value: number; currency: string };
      openai_list_amount: { value: number };
    }[];
    const by = Object.fromEntries(rows.map((r) => [r.line_item, r]));
    assert.deepEqual(Object.keys(by).sort(), ['audio_speeches', 'audio_transcriptions', 'completions', 'moderations']);
    assert.equal(by.moderations!.openai_list_amount.value, 0, 'moderations are free at OpenAI');
    // Speech at the seed model's list price: input text tokens at $0.15/M, 20 audio tokens per second spoken at $20/M.
    const speechList = (Math.ceil(made.speechChars / 4) * 0.15 + Math.ceil(made.speechSec * 20) * 20) / 1e6;
    assert.ok(Math.abs(by.audio_speeches!.openai_list_amount.value - speechList) < 1e-9, `${by.audio_speeches!.openai_list_amount.value} vs ${speechList}`);
    assert.ok(by.audio_speeches!.amount.value > 0, 'speech used engine time, so it cost something here');
    assert.equal(by.audio_speeches!.amount.currency, 'usd');
  });

  test('buckets page with next_page; bad parameters are OpenAI errors; no key is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const page = await admin.admin.organization.usage.completions({ start_time: now - 3 * 3600, end_time: now + 1, bucket_width: '1h', limit: 2 });
    assert.equal(page.data.length, 2);
    assert.equal(page.has_more, true);
    const next = await admin.admin.organization.usage.completions({
      start_time: now - 3 * 3600,
      end_time: now + 1,
      bucket_width: '1h',
      limit: 2,
      page: page.next_page!,
    });
    assert.equal(next.data[0]!.start_time, page.data[1]!.end_time);
    const bad = await fetch(`${server.url}/v1/organization/usage/completions?start_time=${now - 100}&bucket_width=2d`, {
      headers: { authorization: `Bearer ${ALICE}` },
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'bucket_width');
    assert.equal((await fetch(`${server.url}/v1/organization/costs?start_time=${now}`)).status, 401);
  });

  test('/v1/usage is still a key’s own view, now with Parley’s cost and buckets for charts', async () => {
    const res = await fetch(`${server.url}/v1/usage`, { headers: { authorization: `Bearer ${BOB}` } });
    const own = (await res.json()) as { requests: number; parley_cost_usd: number; openai_cost_usd: { total: number } };
    assert.equal(own.requests, 1, 'bob made one request (the batch line)');
    const buckets = (await (
      await fetch(`${server.url}/v1/usage?start_time=${start}&bucket_width=1h&limit=2`, { headers: { authorization: `Bearer ${ALICE}` } })
    ).json()) as { data: { results: { requests: number; characters: number }[] }[] };
    const totals = buckets.data.flatMap((b) => b.results);
    assert.equal(
      totals.reduce((n, r) => n + r.requests, 0),
      4,
    );
    assert.equal(
      totals.reduce((n, r) => n + r.characters, 0),
      made.speechChars,
    );
  });

  test('/metrics counters moved by exactly the requests made', () => {
    const delta = (name: string, labels: Record<string, string> = {}) => last.value(name, labels) - first.value(name, labels);
    assert.equal(delta('parley_requests_total', { route: '/v1/audio/speech', status: '200' }), 1);
    assert.equal(delta('parley_requests_total', { route: '/v1/audio/transcriptions', status: '200' }), 1);
    assert.equal(delta('parley_requests_total', { route: '/v1/chat/completions', status: '200' }), 2, 'the live turn and the batch line');
    assert.equal(delta('parley_requests_total', { route: '/v1/moderations', status: '200' }), 1);
    assert.equal(delta('parley_usage_requests_total', { endpoint: '/v1/chat/completions', batch: 'true' }), 1);
    assert.equal(delta('parley_requests_total', { route: '/v1/audio/speech', status: '400' }), 1);
    assert.equal(delta('parley_filtered_total', { endpoint: '/v1/audio/speech', side: 'prompt' }), 1);
    assert.equal(delta('parley_usage_requests_total', { endpoint: '/v1/audio/speech' }), 1, 'the refused speech is not metered');
    assert.ok(
      delta('parley_safety_decisions_total', { side: 'reply', category: 'selfHarm', severity: 'high', action: 'block' }) >= 1,
      'the refused speech input was counted',
    );
    assert.equal(delta('parley_time_to_first_audio_seconds', { endpoint: '/v1/audio/speech' }), 1);
    assert.equal(delta('parley_time_to_first_token_seconds', { endpoint: '/v1/chat/completions' }), 2);
    assert.equal(delta('parley_speech_characters_total'), made.speechChars);
    assert.ok(Math.abs(delta('parley_audio_seconds_total', { endpoint: '/v1/audio/speech', direction: 'out' }) - made.speechSec) < 1e-6);
    assert.ok(Math.abs(delta('parley_audio_seconds_total', { endpoint: '/v1/audio/transcriptions', direction: 'in' }) - made.heardSec) < 0.01);
    assert.equal(delta('parley_tokens_total', { endpoint: '/v1/chat/completions', direction: 'input' }), made.chatIn);
    assert.equal(delta('parley_tokens_total', { endpoint: '/v1/chat/completions', direction: 'output' }), made.chatOut);
    assert.equal(delta('parley_tts_real_time_factor'), 1);
    assert.equal(delta('parley_asr_real_time_factor'), 1);
    assert.ok(delta('parley_engine_busy_seconds_total', { kind: 'tts' }) > 0, 'synthesis held a slot');
    assert.ok(delta('parley_safety_decisions_total', { side: 'moderation' }) > 0, 'the moderation was decided and counted');
    assert.ok(delta('parley_cost_usd_total', { basis: 'parley' }) > 0, "Parley's own cost grew");
    assert.equal(last.types.get('parley_engine_queue_depth'), 'gauge');
    assert.equal(last.types.get('parley_time_to_first_audio_seconds'), 'histogram');
    for (const f of last.families) for (const m of f.metrics) assert.ok(!Object.keys(m.labels ?? {}).some((k) => /key/.test(k)), `${f.name} has no key label`);
  });

  test('/metrics needs an admin key by default', async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  });
});

describe('metrics on a port of their own (how a batch worker exposes them)', () => {
  test('PARLEY_METRICS_PORT serves /metrics there without a key, and not on the API port', async () => {
    const server = await startTestServer({ PARLEY_API_KEYS: ALICE, PARLEY_METRICS_PORT: '0' });
    try {
      const port = server.runtime.services.metricsPort();
      assert.ok(port !== undefined && port > 0, 'the metrics port is known once listening');
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      const scrape = Scrape.parse(await res.text());
      assert.equal(scrape.types.get('parley_requests_total'), 'counter');
      assert.equal(scrape.types.get('parley_time_to_first_audio_seconds'), 'histogram');
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ALICE}` } })).status, 404);
    } finally {
      await server.close();
    }
  });

  test('PARLEY_METRICS_ACCESS=open serves /metrics on the API port without a key', async () => {
    const server = await startTestServer({ PARLEY_API_KEYS: ALICE, PARLEY_METRICS_ACCESS: 'open' });
    try {
      assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
    } finally {
      await server.close();
    }
  });
});
