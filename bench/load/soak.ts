/**
 * `npm run load -- soak`: a long mixed run — short speech in every format, text chat, chat with
 * audio out, transcription, file upload + delete — from LOAD_SOAK_CLIENTS (default 4) clients in a
 * closed loop until LOAD_SOAK_REQUESTS (default 20 000) requests or LOAD_SOAK_MINUTES (default
 * 20) minutes, whichever comes first. The server's RSS (and open fds) are sampled every 5 s; the
 * RSS slope after warm-up (the first quarter of the run, at least 2 minutes, is left out) is a
 * least-squares fit, stated in MB/h. Pass: no 5xx, no error logged, the server alive.
 */
import { loadServer } from './capacity.js';
import {
  chatRequest,
  childProcesses,
  closedLoop,
  conditions,
  line,
  multipart,
  openFds,
  type RequestSpec,
  rssMb,
  serverFaults,
  slope,
  speechRequest,
  summarize,
  transcriptionRequest,
} from './lib.js';

const TOTAL = Number(process.env.LOAD_SOAK_REQUESTS ?? 20_000);
const MINUTES = Number(process.env.LOAD_SOAK_MINUTES ?? 20);
const CLIENTS = Number(process.env.LOAD_SOAK_CLIENTS ?? 4);
const FORMATS = ['wav', 'mp3', 'pcm', 'opus', 'flac', 'aac'];

export default async function soak(): Promise<boolean> {
  console.log(`conditions: ${conditions()}; ${CLIENTS} clients, until ${TOTAL} requests or ${MINUTES} min`);
  const { server, cleanup } = await loadServer();
  let ok = true;
  const uploads: string[] = [];
  const upload = (): RequestSpec => {
    const { body, contentType } = multipart({ purpose: 'user_data' }, { name: 'file', filename: 'soak.jsonl', data: Buffer.alloc(4096, 'x') });
    return { path: '/v1/files', headers: { 'content-type': contentType }, body, keepBody: true };
  };
  const make = (i: number): RequestSpec => {
    const slot = i % 20;
    if (slot < 10) return speechRequest(FORMATS[i % FORMATS.length]!, i % 2 ? 'Hello there.' : 'Thank you for calling, how can I help?');
    if (slot < 15) return chatRequest(`Say something about number ${i}.`);
    if (slot === 15) return chatRequest('Say hello.', { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, max_tokens: 8 });
    if (slot === 16) return transcriptionRequest();
    if (slot === 17 || slot === 18) return upload();
    const id = uploads.shift();
    return id ? { method: 'DELETE', path: `/v1/files/${id}` } : { path: '/v1/models' };
  };
  const samples: Array<{ t: number; rss: number; fds: number }> = [];
  const t0 = performance.now();
  const sample = () => samples.push({ t: (performance.now() - t0) / 1000, rss: rssMb(server.pid), fds: openFds(server.pid) });
  sample();
  const timer = setInterval(sample, 5000);
  let lastReport = t0;
  let done = 0;
  try {
    const { outcomes, elapsedMs } = await closedLoop(server.url, make, {
      concurrency: CLIENTS,
      total: TOTAL,
      maxMs: MINUTES * 60_000,
      onOutcome: (o) => {
        done++;
        if (o.text && o.status === 200) {
          const id = (JSON.parse(o.text) as { id?: string }).id;
          if (id?.startsWith('file-')) uploads.push(id);
        }
        if (performance.now() - lastReport > 60_000) {
          lastReport = performance.now();
          const s = samples[samples.length - 1]!;
          console.log(`  … ${Math.round(s.t)} s: ${done} requests, RSS ${s.rss.toFixed(0)} MB, fds ${s.fds}`);
        }
      },
    });
    clearInterval(timer);
    sample();
    const s = summarize(outcomes, elapsedMs);
    line('requests / elapsed', `${s.requests} in ${(elapsedMs / 1000).toFixed(0)} s (${(s.requests / (elapsedMs / 1000)).toFixed(1)} req/s)`);
    line('by status', s.byStatus);
    line('latency of 2xx', `p50 ${s.p50} ms, p99 ${s.p99} ms`);
    const warm = Math.max(120, samples[samples.length - 1]!.t / 4);
    const after = samples.filter((x) => x.t >= warm && Number.isFinite(x.rss));
    const mbPerHour =
      after.length > 2
        ? slope(
            after.map((x) => x.t),
            after.map((x) => x.rss),
          ) * 3600
        : Number.NaN;
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const peak = Math.max(...samples.map((x) => x.rss));
    line(
      'RSS start / after warm-up / end / peak',
      `${first.rss.toFixed(0)} / ${(after[0]?.rss ?? Number.NaN).toFixed(0)} / ${last.rss.toFixed(0)} / ${peak.toFixed(0)} MB`,
    );
    line('RSS slope after warm-up', `${mbPerHour.toFixed(1)} MB/h (least squares over ${after.length} samples from ${Math.round(warm)} s)`);
    line('open fds start / end', `${first.fds} / ${last.fds}`);
    line('child processes at end', childProcesses(server.pid));
    const faults = serverFaults(server.log);
    line('5xx logged / errors logged', `${faults.fiveXx.length} / ${faults.errors.length}`);
    for (const l of faults.errors.slice(0, 5)) console.log('   error:', JSON.stringify(l).slice(0, 400));
    const bad = outcomes.filter((o) => o.status === 0 || o.status >= 500);
    if (bad.length > 0 || faults.fiveXx.length > 0 || faults.errors.length > 0 || server.child.exitCode !== null) ok = false;
  } finally {
    clearInterval(timer);
    await cleanup();
  }
  line('verdict', ok ? 'PASS' : 'FAIL');
  return ok;
}
