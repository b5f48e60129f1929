/**
 * Overhead of keys, limits and metering (`npm run bench -- overhead`): the same requests against two
 * servers in this process — one with usage recording and Prometheus metrics on (the defaults),
 * called with a handed-out key that has every limit (rpm, tpm, parallel requests, a budget, allowed
 * models: read per request, counted in SQLite), and one with keys off and both `PARLEY_USAGE=0`,
 * `PARLEY_METRICS=0` — runs interleaved (on, off, off, on, …) so drift and
 * noise fall on both sides:
 *  1. a short speech request (one sentence, wav), wall time to the last byte;
 *  2. a text-only chat turn (a tiny random-weight GGUF, 16 tokens), wall time to the response.
 * Reported per request kind: the median of the paired ratios (each on run ÷ the off run beside
 * it; pairs cancel slow drift from other load) and median on ÷ median off (target ≤ 1.03), with the
 * load average, since on a shared machine the noise can exceed the effect. A Prometheus scrape is
 * not in the timed path (it runs every 15 s or so, not per request).
 * BENCH_OVERHEAD_ON / BENCH_OVERHEAD_OFF add settings, as `NAME=value,NAME=value`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTinyGguf } from '../test/fixtures/models/make-tiny-gguf.js';
import { startTestServer, type TestServer } from '../test/helpers/server.js';

const TMP = path.resolve(import.meta.dirname, '.tmp');
const MODEL_FILE = path.join(TMP, 'overhead-tiny.gguf');
const RUNS = Number(process.env.BENCH_RUNS ?? 41);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function envList(raw: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (raw ?? '')
      .split(',')
      .filter((p) => p.includes('='))
      .map((p) => p.split('=', 2) as [string, string]),
  );
}

/** Settings of the measured side ("on") and of the baseline ("off"). */
const ADMIN_KEY = 'sk-bench-overhead-admin-key';
const ON_ENV = { PARLEY_USAGE: '1', PARLEY_METRICS: '1', PARLEY_ADMIN_KEY: ADMIN_KEY, ...envList(process.env.BENCH_OVERHEAD_ON) };
const OFF_ENV = { PARLEY_USAGE: '0', PARLEY_METRICS: '0', ...envList(process.env.BENCH_OVERHEAD_OFF) };

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** A key with every limit, high enough never to refuse a request of the bench. */
async function limitedKey(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/v1/parley/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({
      alias: 'bench-overhead',
      rpm_limit: 1_000_000,
      tpm_limit: 1_000_000_000,
      max_parallel_requests: 100,
      max_budget_usd: 1_000_000,
      budget_duration: '1d',
      models: ['tts-1', 'gpt-4o-mini-audio-preview'],
    }),
  });
  if (res.status !== 200) throw new Error(`key: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

function requests(server: TestServer, key?: string) {
  const headers = { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const post = (route: string, body: unknown) => fetch(`${server.url}/v1/${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return {
    speech: async () => {
      const res = await post('audio/speech', { model: 'tts-1', voice: 'alloy', input: 'Hello there, how are you today?', response_format: 'wav' });
      if (res.status !== 200) throw new Error(`speech: HTTP ${res.status}`);
      await res.arrayBuffer();
    },
    chat: async () => {
      const res = await post('chat/completions', {
        model: 'gpt-4o-mini-audio-preview',
        messages: [{ role: 'user', content: 'Say something short.' }],
        max_tokens: 16,
        seed: 3,
      });
      if (res.status !== 200) throw new Error(`chat: HTTP ${res.status} ${await res.text()}`);
      await res.json();
    },
  };
}

export default async function run(): Promise<void> {
  fs.mkdirSync(TMP, { recursive: true });
  if (!fs.existsSync(MODEL_FILE)) writeTinyGguf(MODEL_FILE, { asciiOnly: true });
  const on = await startTestServer({ PARLEY_LLM_MODEL: MODEL_FILE, ...ON_ENV });
  const off = await startTestServer({ PARLEY_LLM_MODEL: MODEL_FILE, ...OFF_ENV });
  try {
    const sides = { on: requests(on, await limitedKey(on)), off: requests(off) };
    for (const side of Object.values(sides)) {
      await side.speech();
      await side.chat();
    }
    const times = { speech: { on: [] as number[], off: [] as number[] }, chat: { on: [] as number[], off: [] as number[] } };
    for (let r = 0; r < RUNS; r++) {
      // ABBA order, so neither side always goes first.
      const order: Array<'on' | 'off'> = r % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      for (const kind of ['speech', 'chat'] as const) {
        for (const side of order) times[kind][side].push(await timed(sides[side][kind]));
      }
    }
    console.log(
      `on: ${JSON.stringify(ON_ENV)}   off: ${JSON.stringify(OFF_ENV)}   ${RUNS} runs each, interleaved; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores`,
    );
    for (const kind of ['speech', 'chat'] as const) {
      const a = median(times[kind].on);
      const b = median(times[kind].off);
      const paired = median(times[kind].on.map((t, i) => t / times[kind].off[i]!));
      console.log(
        `${kind.padEnd(6)} median on ${a.toFixed(1)} ms   off ${b.toFixed(1)} ms   ratio of medians ${(a / b).toFixed(3)}   median paired ratio ${paired.toFixed(3)}   (target ≤ 1.03)`,
      );
    }
    // The metering work itself, without the noise of whole requests: one usage record (SQLite
    // insert + metrics) as the pipeline makes it at the end of a request.
    const recorder = on.runtime.services.usage;
    const n = 2000;
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      recorder.record(
        {
          requestId: `bench-${i}`,
          owner: null,
          endpoint: '/v1/audio/speech',
          model: 'tts-1',
          promptTextTokens: 8,
          promptAudioTokens: 0,
          completionTextTokens: 0,
          completionAudioTokens: 40,
          cachedTokens: 0,
          audioInSec: 0,
          audioOutSec: 2,
          characters: 31,
          engineSec: 0.2,
        },
        { firstAudioSec: 0.1, ttsRtf: 0.1 },
      );
    }
    const perRecordMs = (performance.now() - t) / n;
    console.log(
      `one usage record + metrics: ${(perRecordMs * 1000).toFixed(0)} µs = ${((perRecordMs / median(times.speech.off)) * 100).toFixed(2)} % of the speech request, ${((perRecordMs / median(times.chat.off)) * 100).toFixed(2)} % of the chat turn`,
    );
    const rows = on.runtime.services.usage.summary({});
    console.log(`(the metered server recorded ${rows.requests} requests, ${rows.engineSec.toFixed(2)} engine core-seconds)`);
  } finally {
    await on.close();
    await off.close();
  }
}
