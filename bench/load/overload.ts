/**
 * `npm run load -- overload`: measures capacity (as `capacity`, shorter), then for speech (wav),
 * transcription and text chat sends requests in an open loop (arrivals evenly spaced, whatever
 * the server does) at 1× and at 2× that capacity. Reports the accepted requests' p50/p99 and
 * what the rest got. Pass: every non-2xx is a 429/503 carrying retry-after, no other 5xx (none
 * answered, none logged), the server process is still alive and /health answers 200 afterwards.
 * LOAD_SECONDS sets the shortest window per rate (default 20; longer for slow kinds so that at
 * least 24 requests arrive at 2×, at most 90 s).
 */
import { KINDS, loadServer, measureCapacity } from './capacity.js';
import { conditions, health, line, openLoop, serverFaults, summarize } from './lib.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);

export default async function overload(): Promise<boolean> {
  console.log(`conditions: ${conditions()}`);
  const { server, cleanup } = await loadServer();
  let ok = true;
  try {
    const kinds = ['speech wav', 'transcription', 'text chat'];
    const cap = await measureCapacity(server, kinds, 1, 0.5);
    for (const k of kinds) {
      line(`${k}: capacity`, `${cap[k]!.perSec} req/s (closed loop, ${KINDS[k]!.concurrency} at once)`);
      for (const factor of [1, 2]) {
        const rate = cap[k]!.perSec * factor;
        const durationMs = Math.min(90_000, Math.max(SECONDS * 1000, (24 / rate) * 1000));
        const { outcomes, elapsedMs, skipped } = await openLoop(server.url, KINDS[k]!.make, { ratePerSec: rate, durationMs });
        const s = summarize(outcomes, elapsedMs);
        const rejected = outcomes.filter((o) => o.status === 429 || o.status === 503);
        const withoutRetry = rejected.filter((o) => !o.retryAfter).length;
        const other = outcomes.filter((o) => !(o.status >= 200 && o.status < 300) && o.status !== 429 && o.status !== 503);
        line(
          `${k} at ${factor}× (${rate.toFixed(2)}/s, ${Math.round(durationMs / 1000)} s)`,
          `${s.requests} sent, ${s.ok} accepted: p50 ${s.p50} ms p99 ${s.p99} ms; ${rejected.length} got 429/503 (${withoutRetry} without retry-after, codes ${[...new Set(rejected.map((o) => o.code))].join(',') || '-'}); other: ${JSON.stringify(other.length ? summarize(other, elapsedMs).byStatus : {})}${skipped ? `; ${skipped} not sent (client bound)` : ''}`,
        );
        if (withoutRetry > 0 || other.length > 0) ok = false;
      }
    }
    const alive = server.child.exitCode === null && server.child.signalCode === null;
    const h = await health(server.url).catch(() => undefined);
    const faults = serverFaults(server.log);
    const fiveXxNotOverload = faults.fiveXx.filter((l) => l.res?.statusCode !== 503);
    line('server alive / health', `${alive} / ${h?.status ?? 'no answer'}`);
    line('5xx logged (not 503) / errors logged', `${fiveXxNotOverload.length} / ${faults.errors.length}`);
    if (!alive || h?.status !== 'ready' || fiveXxNotOverload.length > 0 || faults.errors.length > 0) ok = false;
    for (const l of faults.errors.slice(0, 5)) console.log('   error:', JSON.stringify(l).slice(0, 400));
  } finally {
    await cleanup();
  }
  line('verdict', ok ? 'PASS' : 'FAIL');
  return ok;
}
