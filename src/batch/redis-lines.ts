import { type Job, Queue, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { BatchStore } from './batch-store.js';
import type { LineTransport } from './coordinator.js';
import type { LineRunner } from './execute.js';
import { isInterrupted, type LineObserver } from './sqlite-lines.js';
import type { BatchRecord } from './types.js';

/**
 * The Redis line transport (PARLEY_QUEUE=redis://…), through BullMQ. SQLite in the server's
 * data folder stays the one source of truth; Redis only carries work and results:
 *
 * - the coordinator (the server) puts each pending line on the `batch-lines` queue as a job with
 *   id `<batchId>-<lineNo>` (BullMQ refuses ':' in custom ids), so adding a line twice is a no-op;
 * - executors (`parley worker` processes, on any machine, and the server unless
 *   PARLEY_BATCH_WORKER=0) run each job through their own in-process pipeline and put the finished
 *   result line on the `batch-results` queue (same id) before completing the job;
 * - the coordinator consumes `batch-results`, committing each line in SQLite only if it is still
 *   unfinished (first commit wins), then finalizes as in embedded mode.
 *
 * So executors need no shared disk. A killed executor's job is re-delivered by BullMQ's stalled-job
 * check after its lock expires; a duplicate run changes nothing (the commit is idempotent). If Redis
 * loses jobs (restart without persistence), `reconcile` sees an idle queue with unfinished lines in
 * SQLite and puts them back.
 */

const PREFIX = 'parley';
const LINES = 'batch-lines';
const RESULTS = 'batch-results';

/** The job id of a line (also its result's). */
export function lineJobId(batchId: string, lineNo: number): string {
  return `${batchId}-${lineNo}`;
}

function stopKey(batchId: string): string {
  return `${PREFIX}:batch-stopped:${batchId}`;
}

/** A line job's data. */
interface LineJob {
  batchId: string;
  lineNo: number;
  customId: string;
  request: string;
  owner: string | null;
}

/** A result job's data. */
interface ResultJob {
  batchId: string;
  lineNo: number;
  state: 'done' | 'failed';
  line: string;
}

/**
 * A connection BullMQ can use for blocking commands. Commands wait (and the connection retries)
 * while Redis is unreachable; that is logged at most every 30 s rather than thrown.
 */
export function connectRedis(url: string, log: FastifyBaseLogger): Redis {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  let lastLogged = 0;
  conn.on('error', (e: Error) => {
    if (Date.now() - lastLogged < 30_000) return;
    lastLogged = Date.now();
    log.warn({ err: e }, `batch queue: cannot reach ${url.replace(/\/\/[^@/]*@/, '//***@')}; retrying`);
  });
  return conn;
}

const RESULT_JOB_OPTIONS = { removeOnComplete: true, removeOnFail: 10_000, attempts: 20, backoff: { type: 'exponential', delay: 500 } } as const;
const LINE_JOB_OPTIONS = { removeOnComplete: true, removeOnFail: 10_000, attempts: 10, backoff: { type: 'exponential', delay: 1000 } } as const;

/** Lock and stalled-check settings; a killed executor's lines come back after about lockMs + stalledMs. */
export interface RedisTiming {
  /** How long a job's lock lasts without renewal (renewed at half). Default 30 s. */
  lockMs?: number;
  /** How often locks are checked for expiry. Default 10 s. */
  stalledMs?: number;
}

export interface RedisExecutorOptions extends RedisTiming {
  url: string;
  runLine: LineRunner;
  concurrency: number;
  log: FastifyBaseLogger;
  onLine?: LineObserver;
}

/** Runs line jobs from Redis (the executor side). */
export class RedisLineExecutor {
  readonly #o: RedisExecutorOptions;
  readonly #conn: Redis;
  readonly #results: Queue;
  #worker: Worker | undefined;
  #closing = false;

  constructor(options: RedisExecutorOptions) {
    this.#o = options;
    this.#conn = connectRedis(options.url, options.log);
    this.#results = new Queue(RESULTS, { connection: this.#conn, prefix: PREFIX });
  }

  start(): void {
    const lockMs = this.#o.lockMs ?? 30_000;
    this.#worker = new Worker(LINES, (job: Job<LineJob>) => this.#process(job), {
      connection: this.#conn,
      prefix: PREFIX,
      concurrency: this.#o.concurrency,
      lockDuration: lockMs,
      stalledInterval: this.#o.stalledMs ?? 10_000,
      // A job whose executor died is re-delivered however often that happens; results are idempotent.
      maxStalledCount: 1_000_000,
    });
    this.#worker.on('error', (e) => this.#o.log.warn({ err: e }, 'batch queue worker error'));
  }

  async #process(job: Job<LineJob>): Promise<string> {
    const { batchId, lineNo, customId, request, owner } = job.data;
    if ((await this.#conn.exists(stopKey(batchId))) === 1) return 'stopped';
    const result = await this.#o.runLine({ customId, request, owner });
    // Shutting down mid-line: let the job be retried rather than record an interruption.
    if (this.#closing && isInterrupted(result)) throw new Error('interrupted by shutdown');
    const data: ResultJob = { batchId, lineNo, state: result.state, line: result.line };
    await this.#results.add('result', data, { jobId: lineJobId(batchId, lineNo), ...RESULT_JOB_OPTIONS });
    this.#o.onLine?.({ batchId, lineNo, customId }, result);
    return result.state;
  }

  /** Stops taking jobs and waits (up to `graceMs`) for the running ones; unfinished ones are re-delivered elsewhere. */
  async stop(graceMs: number): Promise<void> {
    this.#closing = true;
    const worker = this.#worker;
    if (worker) {
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close();
      const timedOut = await Promise.race([graceful.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
      clearTimeout(timer);
      if (timedOut) await worker.close(true).catch(() => undefined);
    }
    await this.#results.close().catch(() => undefined);
    this.#conn.disconnect();
  }
}

export interface RedisTransportOptions extends RedisTiming {
  url: string;
  batches: BatchStore;
  log: FastifyBaseLogger;
  /** How often to look for lost work (ms). Default 10 s. */
  reconcileMs?: number;
}

const BUSY_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children', 'paused', 'wait']);
const ACTIVE_COUNTS = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children', 'paused', 'wait'] as const;

/** The coordinator side: enqueues lines, commits results, pulls the jobs of stopping batches. */
export class RedisTransport implements LineTransport {
  readonly #o: RedisTransportOptions;
  readonly #conn: Redis;
  readonly #lines: Queue;
  readonly #resultsQueue: Queue;
  #results: Worker | undefined;
  /** Stopping batches: lines whose jobs could not be pulled (running somewhere), and since when. */
  readonly #inflight = new Map<string, { ids: Set<string>; since: number }>();
  #lastReconcile = 0;

  constructor(options: RedisTransportOptions) {
    this.#o = options;
    this.#conn = connectRedis(options.url, options.log);
    this.#lines = new Queue(LINES, { connection: this.#conn, prefix: PREFIX });
    this.#resultsQueue = new Queue(RESULTS, { connection: this.#conn, prefix: PREFIX });
  }

  /** Starts consuming results. */
  open(): void {
    const { batches } = this.#o;
    this.#results = new Worker(
      RESULTS,
      async (job: Job<ResultJob>) => {
        const { batchId, lineNo, state, line } = job.data;
        const committed = batches.commit(batchId, lineNo, { state, line });
        if (committed && !batches.hasUnfinished(batchId)) batches.nudge();
        return committed;
      },
      {
        connection: this.#conn,
        prefix: PREFIX,
        concurrency: 4,
        lockDuration: this.#o.lockMs ?? 30_000,
        stalledInterval: this.#o.stalledMs ?? 10_000,
        maxStalledCount: 1_000_000,
      },
    );
    this.#results.on('error', (e) => this.#o.log.warn({ err: e }, 'batch results worker error'));
  }

  async close(): Promise<void> {
    await this.#results?.close().catch(() => undefined);
    await this.#lines.close().catch(() => undefined);
    await this.#resultsQueue.close().catch(() => undefined);
    this.#conn.disconnect();
  }

  async #enqueue(batchId: string, owner: string | null): Promise<number> {
    let after = 0;
    let n = 0;
    for (;;) {
      const page = this.#o.batches.pendingLines(batchId, after, 500);
      if (page.length === 0) return n;
      after = page[page.length - 1]!.lineNo;
      await this.#lines.addBulk(
        page.map((l) => ({
          name: 'line',
          data: { batchId, lineNo: l.lineNo, customId: l.customId, request: l.request, owner } satisfies LineJob,
          opts: { jobId: lineJobId(batchId, l.lineNo), ...LINE_JOB_OPTIONS },
        })),
      );
      n += page.length;
    }
  }

  async start(batch: BatchRecord): Promise<void> {
    if (this.#o.batches.isEnqueued(batch.id)) return;
    const n = await this.#enqueue(batch.id, batch.owner);
    this.#o.batches.markEnqueued(batch.id);
    this.#o.log.info({ batch: batch.id, lines: n }, 'batch lines queued on redis');
  }

  async drained(batch: BatchRecord): Promise<boolean> {
    if (batch.stopReason === null) return true; // finishing normally: every line is committed
    let entry = this.#inflight.get(batch.id);
    if (!entry) {
      // Executors skip lines of a stopped batch from now on; pull the queued ones too.
      await this.#conn.set(stopKey(batch.id), '1', 'EX', 7 * 24 * 3600);
      entry = { ids: new Set(), since: Date.now() };
      let after = 0;
      for (;;) {
        const page = this.#o.batches.pendingLines(batch.id, after, 500);
        if (page.length === 0) break;
        after = page[page.length - 1]!.lineNo;
        const ids = page.map((l) => lineJobId(batch.id, l.lineNo));
        const removed = await Promise.all(ids.map((id) => this.#lines.remove(id)));
        ids.forEach((id, i) => {
          if (removed[i] === 0) entry!.ids.add(id);
        });
      }
      this.#inflight.set(batch.id, entry);
    }
    // Wait for lines already running (their results are kept), for at most two minutes.
    for (const id of [...entry.ids]) {
      const [line, result] = await Promise.all([this.#lines.getJobState(id), this.#resultsQueue.getJobState(id)]);
      if (!BUSY_STATES.has(line) && !BUSY_STATES.has(result)) entry.ids.delete(id);
    }
    const done = entry.ids.size === 0 || Date.now() - entry.since > 120_000;
    if (done) this.#inflight.delete(batch.id);
    return done;
  }

  /**
   * Repairs lost work every `reconcileMs`: failed jobs are retried, and when both queues are idle
   * while SQLite still has unfinished lines of an in-progress batch, those lines are queued again.
   * The queues are read before SQLite, so a line moving from one to the other is never missed.
   */
  async reconcile(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastReconcile < (this.#o.reconcileMs ?? 10_000)) return;
    this.#lastReconcile = now;
    const { batches } = this.#o;
    for (const queue of [this.#lines, this.#resultsQueue]) {
      const failed = await queue.getFailed(0, 499);
      for (const job of failed) await job.retry().catch(() => undefined);
    }
    const busy = async (q: Queue) => Object.values(await q.getJobCounts(...ACTIVE_COUNTS)).reduce((a, b) => a + b, 0) > 0;
    if (await busy(this.#lines)) return;
    if (await busy(this.#resultsQueue)) return;
    for (const batch of batches.active()) {
      if (batch.status !== 'in_progress' || batch.stopReason !== null || !batches.isEnqueued(batch.id)) continue;
      if (!batches.hasUnfinished(batch.id)) continue;
      const n = await this.#enqueue(batch.id, batch.owner);
      this.#o.log.warn({ batch: batch.id, lines: n }, 'unfinished batch lines had no job on redis: queued again');
    }
  }
}
