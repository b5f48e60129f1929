/**
 * Keys benchmark (`npm run bench -- keys`): what a handed-out key's checks cost per request.
 *  1. A request with a limited key (rpm + tpm + parallel + budget + allowed models: key row read,
 *     budget summed from the ledger, counters taken and released) ÷ the same request with an
 *     unlimited PARLEY_API_KEYS key, embedded (SQLite) and on Redis (PARLEY_QUEUE), for the cheapest
 *     route (GET /v1/models in-process: the worst case, the checks' own cost) and a short speech
 *     request over HTTP.
 *  2. The budget check alone (the ledger's sum for the key's period) against the key's number of
 *     usage rows, in µs: what a budgeted key pays per request as its history grows.
 * Runs are interleaved and medians are used, so both sides see the same machine load.
 */
import { spawnSync } from 'node:child_process';
import { startRedis, type TestRedis } from '../test/helpers/redis.js';
import { startTestServer, type TestServer } from '../test/helpers/server.js';

const ADMIN = 'sk-admin-bench-0123456789';
const STATIC = 'sk-bench-unlimited';
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const PER_RUN = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function limitedKey(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/v1/parley/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rpm_limit: 1_000_000, tpm_limit: 1_000_000_000, max_parallel_requests: 100, max_budget_usd: 1000, models: ['tts-1'] }),
  });
  return ((await res.json()) as { key: string }).key;
}

async function compare(label: string, server: TestServer): Promise<void> {
  const limited = await limitedKey(server);
  // In-process (Fastify inject): no socket, so the checks' own cost is what differs.
  const models = (key: string) => server.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: `Bearer ${key}` } });
  const speech = (key: string) =>
    fetch(`${server.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'Your order has shipped.', response_format: 'wav' }),
    }).then((r) => r.arrayBuffer());
  for (const key of [STATIC, limited]) for (let i = 0; i < 20; i++) await models(key);
  await speech(STATIC);
  await speech(limited);
  const times: Record<string, number[]> = { modelsStatic: [], modelsLimited: [], speechStatic: [], speechLimited: [] };
  const time = async (fn: () => Promise<unknown>, n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await fn();
    return (performance.now() - t) / n;
  };
  for (let r = 0; r < RUNS; r++) {
    times.modelsStatic!.push(await time(() => models(STATIC), PER_RUN));
    times.modelsLimited!.push(await time(() => models(limited), PER_RUN));
    times.speechStatic!.push(await time(() => speech(STATIC), 3));
    times.speechLimited!.push(await time(() => speech(limited), 3));
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  console.log(
    `${label.padEnd(9)} GET /v1/models: ${m.modelsStatic!.toFixed(2)} ms unlimited, ${m.modelsLimited!.toFixed(2)} ms limited (+${(
      (m.modelsLimited! - m.modelsStatic!) * 1000
    ).toFixed(0)} µs)   ratio ${(m.modelsLimited! / m.modelsStatic!).toFixed(3)}`,
  );
  console.log(
    `${label.padEnd(9)} short speech:   ${m.speechStatic!.toFixed(1)} ms unlimited, ${m.speechLimited!.toFixed(1)} ms limited   ratio ${(m.speechLimited! / m.speechStatic!).toFixed(3)}`,
  );
}

export default async function run(): Promise<void> {
  const embedded = await startTestServer({ PARLEY_ADMIN_KEY: ADMIN, PARLEY_API_KEYS: STATIC });
  try {
    await compare('embedded', embedded);
    // 2. The budget check against the size of the key's history.
    const keys = embedded.runtime.services.keys;
    const { record } = await keys.create({ maxBudgetUsd: 1000 });
    const usage = embedded.runtime.services.store.usage;
    let rows = 0;
    const now = Math.floor(Date.now() / 1000);
    for (const target of [0, 1_000, 10_000, 100_000]) {
      embedded.runtime.services.store.db.transaction(() => {
        for (; rows < target; rows++) {
          usage.record({
            requestId: `bench-${rows}`,
            owner: record.hash,
            endpoint: '/v1/chat/completions',
            model: 'gpt-4o-mini-audio-preview',
            promptTextTokens: 20,
            promptAudioTokens: 30,
            completionTextTokens: 10,
            completionAudioTokens: 40,
            cachedTokens: 0,
            audioInSec: 3,
            audioOutSec: 2,
            createdAt: now,
          });
        }
      })();
      const samples: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        keys.budget(record);
        samples.push((performance.now() - t) * 1000);
      }
      console.log(`budget check with ${String(target).padStart(6)} usage rows of the key: ${median(samples).toFixed(0)} µs`);
    }
  } finally {
    await embedded.close();
  }
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.log('redis-server not installed: Redis mode skipped');
    return;
  }
  let redis: TestRedis | undefined;
  let server: TestServer | undefined;
  try {
    redis = await startRedis();
    server = await startTestServer({ PARLEY_ADMIN_KEY: ADMIN, PARLEY_API_KEYS: STATIC, PARLEY_QUEUE: redis.url, PARLEY_BATCH_WORKER: '0' });
    await compare('redis', server);
  } finally {
    await server?.close();
    await redis?.stop();
  }
}
