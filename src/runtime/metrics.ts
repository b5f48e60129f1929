/**
 * Prometheus metrics of one process (prom-client; `parley_` prefix, base units, counters end in
 * `_total`). Labels are bounded: route patterns, endpoints, engine kinds, safety categories —
 * never a key, a key's id or a request id. Fed by the HTTP hooks (requests, statuses, 429s,
 * filtered prompts), the usage recorder (tokens, audio seconds, latencies, real-time factors,
 * cost), the limiter (queue depth, in flight, busy seconds) and the engine host's safety events.
 */
import http from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobKind, Limiter } from '../lib/limiter.js';
import type { RequestTimings, UsageEntry } from '../pipeline/context.js';
import type { SafetyEvent } from '../safety/types.js';
import { openaiCost, usageKindOf } from '../store/usage.js';

const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];
const TOKEN_GAP_BUCKETS = [0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1];
const RTF_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5];
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const JOB_KINDS: readonly JobKind[] = ['llm', 'asr', 'tts', 'vad', 'analysis', 'decode', 'safety'];

/** The metrics of one process and the hooks that feed them. */
export class ParleyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route'>;
  private readonly rateLimited: Counter<'route'>;
  private readonly filtered: Counter<'endpoint' | 'side'>;
  private readonly firstToken: Histogram<'endpoint'>;
  private readonly firstAudio: Histogram<'endpoint'>;
  private readonly interToken: Histogram;
  private readonly tokens: Counter<'endpoint' | 'direction' | 'modality'>;
  private readonly audioSeconds: Counter<'endpoint' | 'direction'>;
  private readonly characters: Counter;
  private readonly asrRtf: Histogram;
  private readonly ttsRtf: Histogram;
  private readonly engineBusy: Counter<'kind'>;
  private readonly queueWait: Histogram<'kind'>;
  private readonly safety: Counter<'side' | 'category' | 'severity' | 'action'>;
  private readonly cost: Counter<'endpoint' | 'basis'>;
  private readonly usageRequests: Counter<'endpoint' | 'batch'>;

  constructor(options: { limiter?: Limiter; defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    this.requests = new Counter({
      name: 'parley_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'parley_request_duration_seconds',
      help: 'Time from a request arriving to its response ending (streams included)',
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.rateLimited = new Counter({
      name: 'parley_rate_limited_total',
      help: 'Requests answered 429 (a key over a limit or budget)',
      labelNames: ['route'],
      registers,
    });
    this.filtered = new Counter({
      name: 'parley_filtered_total',
      help: 'Requests the content filters stopped: side=prompt (400 content_filter) or reply (finish_reason content_filter)',
      labelNames: ['endpoint', 'side'],
      registers,
    });
    this.firstToken = new Histogram({
      name: 'parley_time_to_first_token_seconds',
      help: 'From a chat request arriving to the first token of the reply',
      labelNames: ['endpoint'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.firstAudio = new Histogram({
      name: 'parley_time_to_first_audio_seconds',
      help: 'From a request arriving to the first bytes of its audio (chat audio replies and speech)',
      labelNames: ['endpoint'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.interToken = new Histogram({
      name: 'parley_inter_token_latency_seconds',
      help: 'Gaps between tokens of a chat reply',
      buckets: TOKEN_GAP_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'parley_tokens_total',
      help: 'Tokens as billed (audio: 10/s heard, 20/s spoken), by direction (input, output) and modality (text, audio)',
      labelNames: ['endpoint', 'direction', 'modality'],
      registers,
    });
    this.audioSeconds = new Counter({
      name: 'parley_audio_seconds_total',
      help: 'Seconds of audio heard (in) and spoken (out)',
      labelNames: ['endpoint', 'direction'],
      registers,
    });
    this.characters = new Counter({ name: 'parley_speech_characters_total', help: 'Characters of text spoken by /v1/audio/speech', registers });
    this.asrRtf = new Histogram({
      name: 'parley_asr_real_time_factor',
      help: 'Recognition engine time ÷ seconds of audio heard, per request',
      buckets: RTF_BUCKETS,
      registers,
    });
    this.ttsRtf = new Histogram({
      name: 'parley_tts_real_time_factor',
      help: 'Synthesis engine time ÷ seconds of audio spoken, per request',
      buckets: RTF_BUCKETS,
      registers,
    });
    this.engineBusy = new Counter({
      name: 'parley_engine_busy_seconds_total',
      help: 'Seconds engine jobs held a limiter slot (one slot ≈ one core), by kind',
      labelNames: ['kind'],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'parley_engine_queue_wait_seconds',
      help: 'Time an engine job waited for a slot',
      labelNames: ['kind'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.safety = new Counter({
      name: 'parley_safety_decisions_total',
      help: 'Content-filter decisions, by side (prompt, reply, moderation), category, severity and action',
      labelNames: ['side', 'category', 'severity', 'action'],
      registers,
    });
    this.cost = new Counter({
      name: 'parley_cost_usd_total',
      help: "Cost of the traffic: basis=openai_list (OpenAI's list price) or parley (engine core-seconds × $/core-hour)",
      labelNames: ['endpoint', 'basis'],
      registers,
    });
    this.usageRequests = new Counter({
      name: 'parley_usage_requests_total',
      help: 'Requests metered in usage, by endpoint and batch',
      labelNames: ['endpoint', 'batch'],
      registers,
    });
    const limiter = options.limiter;
    if (limiter) {
      new Gauge({
        name: 'parley_engine_queue_depth',
        help: 'Engine jobs waiting for a slot, by kind',
        labelNames: ['kind'],
        registers,
        collect() {
          const s = limiter.stats();
          for (const kind of JOB_KINDS) this.set({ kind }, s.queuedByKind[kind] ?? 0);
        },
      });
      new Gauge({
        name: 'parley_engine_in_flight',
        help: 'Engine jobs running now, by kind',
        labelNames: ['kind'],
        registers,
        collect() {
          const s = limiter.stats();
          for (const kind of JOB_KINDS) this.set({ kind }, s.runningByKind[kind] ?? 0);
        },
      });
      new Gauge({
        name: 'parley_engine_slots',
        help: 'Engine slots of the limiter (PARLEY_CONCURRENCY)',
        registers,
        collect() {
          this.set(limiter.capacity);
        },
      });
    }
  }

  /** The limiter's hooks (a job started after waiting; a job ended after holding its slot). */
  readonly onJobStart = (kind: JobKind, waitedMs: number): void => this.queueWait.observe({ kind }, waitedMs / 1000);
  readonly onJobFinish = (kind: JobKind, busySec: number): void => this.engineBusy.inc({ kind }, busySec);

  /** One safety decision (EngineHost.onSafetyEvent). */
  readonly onSafetyEvent = (event: SafetyEvent): void => {
    this.safety.inc({ side: event.side, category: event.category, severity: event.severity, action: event.action });
  };

  /** One HTTP response ended. */
  response(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.duration.observe({ route }, seconds);
    if (status === 429) this.rateLimited.inc({ route });
  }

  /** A prompt refused by the content filters (HTTP 400 content_filter). */
  promptFiltered(endpoint: string): void {
    this.filtered.inc({ endpoint, side: 'prompt' });
  }

  /** One request's usage and timings (the usage recorder calls this). */
  usage(entry: UsageEntry, timings: RequestTimings | undefined, coreHourUsd: number): void {
    const endpoint = entry.endpoint;
    this.usageRequests.inc({ endpoint, batch: String(entry.batch === true) });
    const add = (c: Counter<string>, labels: Record<string, string>, v: number) => {
      if (v > 0) c.inc(labels, v);
    };
    add(this.tokens, { endpoint, direction: 'input', modality: 'text' }, entry.promptTextTokens);
    add(this.tokens, { endpoint, direction: 'input', modality: 'audio' }, entry.promptAudioTokens);
    add(this.tokens, { endpoint, direction: 'output', modality: 'text' }, entry.completionTextTokens);
    add(this.tokens, { endpoint, direction: 'output', modality: 'audio' }, entry.completionAudioTokens);
    add(this.audioSeconds, { endpoint, direction: 'in' }, entry.audioInSec);
    add(this.audioSeconds, { endpoint, direction: 'out' }, entry.audioOutSec);
    if ((entry.characters ?? 0) > 0) this.characters.inc(entry.characters);
    const listPrice = usageKindOf(endpoint) === 'moderations' ? 0 : openaiCost(entry).total;
    add(this.cost, { endpoint, basis: 'openai_list' }, listPrice);
    add(this.cost, { endpoint, basis: 'parley' }, ((entry.engineSec ?? 0) / 3600) * coreHourUsd);
    if (!timings) return;
    if (timings.firstTokenSec !== undefined) this.firstToken.observe({ endpoint }, timings.firstTokenSec);
    if (timings.firstAudioSec !== undefined) this.firstAudio.observe({ endpoint }, timings.firstAudioSec);
    for (const gap of timings.interTokenSec ?? []) this.interToken.observe(gap);
    if (timings.asrRtf !== undefined) this.asrRtf.observe(timings.asrRtf);
    if (timings.ttsRtf !== undefined) this.ttsRtf.observe(timings.ttsRtf);
    // A blocked prompt is counted where its 400 is answered (promptFiltered), so speech is counted too.
    if (timings.filtered === 'reply') this.filtered.inc({ endpoint, side: 'reply' });
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * Serves `/metrics` alone on its own port (config `metrics.port`), without a key: for a batch
 * worker (which serves no HTTP API) or to keep metrics off the API port. Resolves once listening.
 */
export async function serveMetrics(metrics: ParleyMetrics, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics.expose().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
