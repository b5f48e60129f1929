import { AsyncLocalStorage } from 'node:async_hooks';

/** Priority of the work running in this async context (0 = live; batch work runs with a higher number). */
const priorityContext = new AsyncLocalStorage<number>();

/**
 * Engine time spent for one request: every job started in an async context that carries the meter
 * (see {@link withMeter}) adds the wall time it held its slot. One slot is sized to one core
 * (`capacity` = the cores), so slot-seconds are the request's core-seconds: an honest measure of
 * what the machine gave it, including the time a job's thread sat waiting inside the engine.
 * (`process.cpuUsage()` is per process, so it cannot split concurrent requests.)
 */
export class EngineMeter {
  /** Slot-seconds (≈ core-seconds) of every job, all kinds together. */
  coreSec = 0;
  /** Slot-seconds per kind. */
  readonly byKind: Partial<Record<JobKind, number>> = {};

  add(kind: JobKind, seconds: number): void {
    this.coreSec += seconds;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + seconds;
  }
}

const meterContext = new AsyncLocalStorage<EngineMeter>();

/** Runs `fn` with every engine job it starts (directly or through promises it creates) counted on `meter`. */
export function withMeter<T>(meter: EngineMeter | undefined, fn: () => T): T {
  return meter ? meterContext.run(meter, fn) : fn();
}

/** The meter of the calling async context, if any (a stream keeps it for the work it starts later). */
export function currentMeter(): EngineMeter | undefined {
  return meterContext.getStore();
}

/** Runs `fn` with every engine job it starts queued at `priority` (e.g. a batch line at 10). */
export function withPriority<T>(priority: number, fn: () => T): T {
  return priorityContext.run(priority, fn);
}

/** Priority of live requests. */
export const LIVE_PRIORITY = 0;
/** Priority of batch work: behind every live request. */
export const BATCH_PRIORITY = 10;

/**
 * What an engine job is, for per-kind caps: an engine that holds one model context (the LLM, a
 * recogniser) can run one job at a time, so a second job of that kind must wait *without* holding
 * a slot that another kind (TTS) could use.
 */
export type JobKind = 'llm' | 'asr' | 'tts' | 'vad' | 'analysis' | 'decode' | 'safety';

/** Settings of a {@link Limiter}. */
export interface LimiterOptions {
  /** Engine jobs that run at once, all kinds together (sized to the cores). */
  capacity: number;
  /** Most jobs of one kind at once (default: `capacity`). */
  perKind?: Partial<Record<JobKind, number>>;
  /** Called when a job starts, with how long it waited in the queue (for metrics). */
  onStart?: (kind: JobKind, waitedMs: number, priority: number) => void;
  /** Called when a job ends, with the seconds it held its slot (for metrics). */
  onFinish?: (kind: JobKind, busySec: number) => void;
}

interface Waiting {
  kind: JobKind;
  priority: number;
  queuedAt: number;
  start: () => void;
}

/** A snapshot of the limiter, for /health and metrics. */
export interface LimiterStats {
  capacity: number;
  running: number;
  queued: number;
  runningByKind: Partial<Record<JobKind, number>>;
  queuedByKind: Partial<Record<JobKind, number>>;
  /** Queued jobs by priority (0 = live). */
  queuedByPriority: Record<number, number>;
  /** Since start, per kind: jobs started and the total time they waited in the queue (ms). */
  startedByKind: Partial<Record<JobKind, number>>;
  waitedMsByKind: Partial<Record<JobKind, number>>;
  /** Since start, per kind: seconds jobs held their slot (engine busy time). */
  busySecByKind: Partial<Record<JobKind, number>>;
}

/**
 * The one bound on engine work in a process. Every engine job — LLM generation, recognition,
 * synthesis, VAD, analysis, decoding — takes exactly one slot of `capacity`; kinds with a cap
 * (one LLM context, one recogniser instance) wait without holding a slot, so an idle slot always
 * goes to the first waiting job that may run. Live requests use priority 0; background work
 * (batches) a higher number, so a live request never waits behind a long queue of background
 * jobs. Waiting jobs leave the queue when their signal aborts.
 */
export class Limiter {
  readonly capacity: number;
  private readonly perKind: Partial<Record<JobKind, number>>;
  private readonly onStart: LimiterOptions['onStart'];
  private readonly onFinish: LimiterOptions['onFinish'];
  private readonly busySecByKind = new Map<JobKind, number>();
  private running = 0;
  private readonly runningByKind = new Map<JobKind, number>();
  private readonly startedByKind = new Map<JobKind, number>();
  private readonly waitedMsByKind = new Map<JobKind, number>();
  /** Ordered by (priority, arrival). */
  private readonly waiting: Waiting[] = [];

  constructor(options: LimiterOptions | number) {
    const o = typeof options === 'number' ? { capacity: options } : options;
    if (!Number.isInteger(o.capacity) || o.capacity < 1) throw new RangeError('capacity must be a positive integer');
    for (const [kind, cap] of Object.entries(o.perKind ?? {})) {
      if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`the cap of ${kind} must be a positive integer`);
    }
    this.capacity = o.capacity;
    this.perKind = o.perKind ?? {};
    this.onStart = o.onStart;
    this.onFinish = o.onFinish;
  }

  /** Jobs running now. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Jobs waiting at `priority` (0 = live). */
  queuedAt(priority: number): number {
    let n = 0;
    for (const w of this.waiting) if (w.priority === priority) n++;
    return n;
  }

  /** Counts by kind and priority. */
  stats(): LimiterStats {
    const queuedByKind: Partial<Record<JobKind, number>> = {};
    const queuedByPriority: Record<number, number> = {};
    for (const w of this.waiting) {
      queuedByKind[w.kind] = (queuedByKind[w.kind] ?? 0) + 1;
      queuedByPriority[w.priority] = (queuedByPriority[w.priority] ?? 0) + 1;
    }
    return {
      capacity: this.capacity,
      running: this.running,
      queued: this.waiting.length,
      runningByKind: Object.fromEntries(this.runningByKind),
      queuedByKind,
      queuedByPriority,
      startedByKind: Object.fromEntries(this.startedByKind),
      waitedMsByKind: Object.fromEntries(this.waitedMsByKind),
      busySecByKind: Object.fromEntries(this.busySecByKind),
    };
  }

  /** The priority of the calling async context (0 = live). */
  currentPriority(): number {
    return priorityContext.getStore() ?? LIVE_PRIORITY;
  }

  /** Runs `job` when a slot (and its kind's cap) allows. Rejects with the signal's reason if aborted while queued. */
  async run<T>(kind: JobKind, job: () => Promise<T>, options: { signal?: AbortSignal; priority?: number } = {}): Promise<T> {
    const meter = meterContext.getStore();
    await this.acquire(kind, options.signal, options.priority ?? this.currentPriority());
    const started = performance.now();
    try {
      return await job();
    } finally {
      const busySec = (performance.now() - started) / 1000;
      this.busySecByKind.set(kind, (this.busySecByKind.get(kind) ?? 0) + busySec);
      meter?.add(kind, busySec);
      this.release(kind);
      this.onFinish?.(kind, busySec);
    }
  }

  private mayStart(kind: JobKind): boolean {
    return this.running < this.capacity && (this.runningByKind.get(kind) ?? 0) < (this.perKind[kind] ?? this.capacity);
  }

  private take(kind: JobKind, waitedMs: number): void {
    this.running++;
    this.runningByKind.set(kind, (this.runningByKind.get(kind) ?? 0) + 1);
    this.startedByKind.set(kind, (this.startedByKind.get(kind) ?? 0) + 1);
    this.waitedMsByKind.set(kind, (this.waitedMsByKind.get(kind) ?? 0) + waitedMs);
  }

  private acquire(kind: JobKind, signal: AbortSignal | undefined, priority: number): Promise<void> {
    signal?.throwIfAborted();
    // Jobs of this kind already waiting go first (fairness within a kind); other kinds may pass.
    if (this.mayStart(kind) && !this.waiting.some((w) => w.kind === kind && w.priority <= priority)) {
      this.take(kind, 0);
      this.onStart?.(kind, 0, priority);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = {
        kind,
        priority,
        queuedAt: performance.now(),
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          const waited = performance.now() - entry.queuedAt;
          this.take(kind, waited);
          this.onStart?.(kind, waited, priority);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let i = this.waiting.length;
      while (i > 0 && this.waiting[i - 1]!.priority > priority) i--;
      this.waiting.splice(i, 0, entry);
    });
  }

  private release(kind: JobKind): void {
    this.running--;
    this.runningByKind.set(kind, (this.runningByKind.get(kind) ?? 1) - 1);
    this.dispatch();
  }

  /** Starts waiting jobs, in order, while slots are free; a job whose kind is at its cap is passed over. */
  private dispatch(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.capacity; ) {
      const entry = this.waiting[i]!;
      if (this.mayStart(entry.kind)) {
        this.waiting.splice(i, 1);
        entry.start();
      } else {
        i++;
      }
    }
  }
}

/**
 * Runs jobs one at a time, in call order — for an engine whose native object must not be entered
 * twice. Callers that go through the {@link Limiter} never contend for it (the limiter caps the
 * engine's kind at one), so it guards direct use (tests, the CLI) without ever holding a slot idle.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `job` after every job queued before it has settled. A job whose signal aborts while it
   * waits rejects at once with the signal's reason and never runs.
   */
  run<T>(job: () => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    const turn = this.tail;
    const result = new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const go = (): Promise<unknown> => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return Promise.resolve();
        const running = job();
        running.then(resolve, reject);
        return running;
      };
      this.tail = turn.then(go, go).catch(() => undefined);
    });
    return result;
  }
}
