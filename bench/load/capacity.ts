/**
 * `npm run load -- capacity`: the measured capacity (2xx per second, closed loop) of one server on
 * this machine for speech (wav, mp3, aac: the same sentence, the same concurrency, rounds
 * interleaved so the formats see the same machine), transcription (a 3.3 s recording,
 * pocketsphinx) and text chat (tiny random GGUF, 16 tokens). Also the mp3 ÷ wav and aac ÷ wav
 * throughput ratios of this run. LOAD_N scales the request counts (default 1).
 */
import fs from 'node:fs';
import {
  chatRequest,
  closedLoop,
  conditions,
  line,
  type RequestSpec,
  type ServerProcess,
  serverFaults,
  speechRequest,
  startServer,
  summarize,
  tempDir,
  tinyModel,
  transcriptionRequest,
} from './lib.js';

const SCALE = Number(process.env.LOAD_N ?? 1);

/** Per kind: the request, how many clients at once, how many requests per round. */
export const KINDS: Record<string, { make: () => RequestSpec; concurrency: number; perRound: number }> = {
  'speech wav': { make: () => speechRequest('wav'), concurrency: 8, perRound: 40 },
  'speech mp3': { make: () => speechRequest('mp3'), concurrency: 8, perRound: 40 },
  'speech aac': { make: () => speechRequest('aac'), concurrency: 8, perRound: 40 },
  transcription: { make: () => transcriptionRequest(), concurrency: 4, perRound: 24 },
  'text chat': { make: () => chatRequest(), concurrency: 2, perRound: 24 },
};

export type Capacity = Record<string, { perSec: number; p50: number; p99: number; ok: number; requests: number; byStatus: Record<string, number> }>;

/** Measures every kind in `kinds` over `rounds` interleaved rounds. */
export async function measureCapacity(server: ServerProcess, kinds = Object.keys(KINDS), rounds = 2, scale = SCALE): Promise<Capacity> {
  // Warm every path (engine load, first synthesis, codec init).
  for (const k of kinds) await closedLoop(server.url, KINDS[k]!.make, { concurrency: 1, total: 2 });
  const acc: Record<string, { outcomes: import('./lib.js').Outcome[]; ms: number }> = {};
  for (let r = 0; r < rounds; r++) {
    for (const k of kinds) {
      const kind = KINDS[k]!;
      const { outcomes, elapsedMs } = await closedLoop(server.url, kind.make, {
        concurrency: kind.concurrency,
        total: Math.max(4, Math.round(kind.perRound * scale)),
      });
      const a = (acc[k] ??= { outcomes: [], ms: 0 });
      a.outcomes.push(...outcomes);
      a.ms += elapsedMs;
    }
  }
  const out: Capacity = {};
  for (const k of kinds) {
    const s = summarize(acc[k]!.outcomes, acc[k]!.ms);
    out[k] = { perSec: s.okPerSec, p50: s.p50, p99: s.p99, ok: s.ok, requests: s.requests, byStatus: s.byStatus };
  }
  return out;
}

/** A server for the load scenarios: temp data folder, tiny GGUF, pocketsphinx, flite. */
export async function loadServer(env: Record<string, string> = {}): Promise<{ server: ServerProcess; dir: string; cleanup: () => Promise<void> }> {
  const dir = tempDir('parley-load-');
  const dataDir = `${dir}/data`;
  fs.mkdirSync(dataDir);
  const server = await startServer({ dataDir, env: { PARLEY_LLM_MODEL: tinyModel(dir), ...env } });
  return {
    server,
    dir,
    cleanup: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export default async function capacity(): Promise<void> {
  console.log(`conditions: ${conditions()}`);
  const { server, cleanup } = await loadServer();
  try {
    const cap = await measureCapacity(server);
    for (const [k, v] of Object.entries(cap)) {
      line(
        `${k} (${KINDS[k]!.concurrency} at once)`,
        `${v.perSec} req/s  p50 ${v.p50} ms  p99 ${v.p99} ms  ${v.ok}/${v.requests} ok ${JSON.stringify(v.byStatus)}`,
      );
    }
    const wav = cap['speech wav']!.perSec;
    line('mp3 ÷ wav throughput', (cap['speech mp3']!.perSec / wav).toFixed(2));
    line('aac ÷ wav throughput', (cap['speech aac']!.perSec / wav).toFixed(2));
    const faults = serverFaults(server.log);
    line('5xx logged / errors logged', `${faults.fiveXx.length} / ${faults.errors.length}`);
  } finally {
    await cleanup();
  }
}
