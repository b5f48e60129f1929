/**
 * `npm run load -- disconnect`: a storm of clients that leave mid-answer — long speech in every
 * format (audio and SSE streams), streamed chat with audio out, chat with audio in, streamed
 * transcription — each dropped 10–1500 ms after sending, LOAD_DISCONNECTS (default 300) of them,
 * 16 at once. Then, within LOAD_DRAIN_SECONDS (default 120): /health must show no request in flight and no engine job
 * running or queued, the server no child process (an encoder left behind), the log no 5xx and no
 * error. A handful of complete requests after the storm must succeed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadServer } from './capacity.js';
import {
  chatRequest,
  childProcesses,
  closedLoop,
  conditions,
  fdKinds,
  health,
  line,
  openFds,
  type RequestSpec,
  rssMb,
  SPEECH_FIXTURE,
  serverFaults,
  sleep,
  speechRequest,
  summarize,
  transcriptionRequest,
} from './lib.js';

const N = Number(process.env.LOAD_DISCONNECTS ?? 300);
/** How long the work already running may take to finish after the storm (a recognition is not cut midway). */
const DRAIN_MS = Number(process.env.LOAD_DRAIN_SECONDS ?? 120) * 1000;
const LONG =
  'Parley turns text into speech on your own machine. Nothing leaves the server, and the answer starts to play before it is finished. Each sentence is synthesised in order while the previous one is being sent. The client can cancel at any time, and the work stops at once. This is the last sentence.';

export default async function disconnect(): Promise<boolean> {
  console.log(`conditions: ${conditions()}; ${N} dropped requests, 16 at once`);
  const { server, cleanup } = await loadServer();
  let ok = true;
  const clip = fs.readFileSync(path.join(SPEECH_FIXTURE, 'allison-agent-pass.wav')).toString('base64');
  const formats = ['wav', 'mp3', 'aac', 'opus', 'flac', 'pcm'];
  const make = (i: number): RequestSpec => {
    let spec: RequestSpec;
    switch (i % 5) {
      case 0:
      case 1:
        spec = speechRequest(formats[i % formats.length]!, LONG, i % 10 === 1 ? { stream_format: 'sse' } : {});
        break;
      case 2:
        spec = chatRequest('Tell me a long story.', {
          stream: true,
          modalities: ['text', 'audio'],
          audio: { voice: 'alloy', format: 'pcm16' },
          max_tokens: 64,
        });
        break;
      case 3:
        spec = chatRequest('', {
          messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: clip, format: 'wav' } }] }],
          modalities: ['text', 'audio'],
          audio: { voice: 'echo', format: i % 2 ? 'mp3' : 'aac' },
          max_tokens: 32,
        });
        break;
      default:
        spec = transcriptionRequest('allison-conf-adminmenu.wav', { stream: 'true' });
    }
    return { ...spec, abortAfterMs: 10 + ((i * 7919) % 1490) };
  };
  try {
    // Warm up so that engine loads are not what the storm measures.
    await closedLoop(server.url, (i) => [speechRequest('aac'), chatRequest(), transcriptionRequest()][i % 3]!, { concurrency: 1, total: 3 });
    const fds0 = openFds(server.pid);
    const kinds0 = fdKinds(server.pid);
    // tsx's esbuild service (this suite runs the server from source) is there from the start: only new children count.
    const baseline = new Set(childProcesses(server.pid).map(([pid]) => pid));
    const rss0 = rssMb(server.pid);
    const storm = await closedLoop(server.url, make, { concurrency: 16, total: N });
    const s = summarize(storm.outcomes, storm.elapsedMs);
    line('storm', `${s.requests} requests in ${(storm.elapsedMs / 1000).toFixed(0)} s: ${JSON.stringify(s.byStatus)}`);
    let h: Record<string, any> = {};
    let children: Array<[number, string]> = [];
    const stormEnd = Date.now();
    const deadline = stormEnd + DRAIN_MS;
    for (;;) {
      h = await health(server.url);
      children = childProcesses(server.pid).filter(([pid]) => !baseline.has(pid));
      const inFlight = Object.values(h.requests as Record<string, { in_flight: number }>).reduce((a, r) => a + r.in_flight, 0);
      if ((inFlight === 0 && h.engines.running === 0 && h.engines.queued === 0 && children.length === 0) || Date.now() > deadline) break;
      await sleep(500);
    }
    const inFlight = Object.fromEntries(Object.entries(h.requests as Record<string, { in_flight: number }>).map(([k, r]) => [k, r.in_flight]));
    line(
      `health ${((Date.now() - stormEnd) / 1000).toFixed(0)} s after (≤ ${DRAIN_MS / 1000} s)`,
      `requests in flight ${JSON.stringify(inFlight)}, engines running ${h.engines.running}, queued ${h.engines.queued}`,
    );
    line('child processes after', children);
    const fdsAfter = openFds(server.pid);
    await sleep(10_000);
    line('open fds before / after / 10 s later', `${fds0} / ${fdsAfter} / ${openFds(server.pid)}`);
    const kinds1 = fdKinds(server.pid);
    line('fds gained, by kind', Object.fromEntries(Object.entries(kinds1).flatMap(([k, n]) => (n !== (kinds0[k] ?? 0) ? [[k, n - (kinds0[k] ?? 0)]] : []))));
    line('RSS before / after', `${rss0.toFixed(0)} / ${rssMb(server.pid).toFixed(0)} MB`);
    const after = await closedLoop(server.url, (i) => [speechRequest('mp3'), chatRequest(), transcriptionRequest()][i % 3]!, { concurrency: 3, total: 6 });
    line('complete requests after the storm', summarize(after.outcomes, after.elapsedMs).byStatus);
    const all = serverFaults(server.log);
    // 503 server_overloaded answers are the admission bound doing its job (16 at once > chat's 4), not faults.
    const faults = { ...all, fiveXx: all.fiveXx.filter((l) => l.res?.statusCode !== 503) };
    line('503 server_overloaded answers', all.fiveXx.length - faults.fiveXx.length);
    const disconnects = server.log.filter((l) => l.status === 499).length;
    line('disconnects logged (info, 499)', disconnects);
    line('5xx logged (not 503) / errors logged', `${faults.fiveXx.length} / ${faults.errors.length}`);
    const urls = new Map<unknown, string>();
    for (const l of server.log) if (l.msg === 'incoming request') urls.set(l.reqId, String((l.req as { url?: string } | undefined)?.url));
    const kinds = new Map<string, number>();
    for (const l of [...faults.fiveXx, ...faults.errors]) {
      const k = `${l.msg} (${(l.err as { code?: string } | undefined)?.code ?? '-'}) ${urls.get(l.reqId) ?? ''} ${l.res?.statusCode ?? ''}`;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    for (const [k, n] of kinds) console.log(`   fault ×${n}: ${k}`);
    if (
      Object.values(inFlight).some((n) => n !== 0) ||
      h.engines.running !== 0 ||
      h.engines.queued !== 0 ||
      children.length > 0 ||
      faults.fiveXx.length > 0 ||
      faults.errors.length > 0 ||
      after.outcomes.some((o) => o.status !== 200)
    ) {
      ok = false;
    }
  } finally {
    await cleanup();
  }
  line('verdict', ok ? 'PASS' : 'FAIL');
  return ok;
}
