import type { FastifyBaseLogger } from 'fastify';
import type { BatchStore } from './batch-store.js';
import type { LineTransport } from './coordinator.js';
import type { LineRunner } from './execute.js';
import type { ClaimedLine, LineResult } from './types.js';

/**
 * The embedded line transport: workers take lines straight from SQLite (`BatchStore.claim`, one
 * write transaction, so two processes on one data folder never take the same line), run them,
 * and commit each result durably before taking the next. Running lines carry the worker's id
 * and a heartbeat; the coordinator puts the lines of a dead worker back to pending.
 */

/** Called after each line this process ran (tests and progress logs). */
export type LineObserver = (line: { batchId: string; lineNo: number; customId: string }, result: LineResult & { statusCode: number | null }) => void;

/** True for a result that says "interrupted", not "answered": such a line is run again rather than recorded. */
export function isInterrupted(result: { statusCode: number | null }): boolean {
  return result.statusCode === null || result.statusCode === 499 || result.statusCode === 503 || result.statusCode === 500;
}

export interface SqliteExecutorOptions {
  batches: BatchStore;
  runLine: LineRunner;
  workerId: string;
  /** Lines in flight at once. */
  concurrency: number;
  /** How often an idle slot looks for work without a nudge (ms). */
  pollMs: number;
  /** How often running lines are marked alive (ms). */
  heartbeatMs: number;
  log: FastifyBaseLogger;
  onLine?: LineObserver;
}

export class SqliteLineExecutor {
  readonly #o: SqliteExecutorOptions;
  #stopping = false;
  #slots: Promise<void>[] = [];
  readonly #waiters = new Set<() => void>();
  /** Backoff pauses, cut short by `stop`. */
  readonly #stopWaiters = new Set<() => void>();
  #heartbeat: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: SqliteExecutorOptions) {
    this.#o = options;
  }

  start(): void {
    this.#unsubscribe = this.#o.batches.onNudge(() => this.#wakeAll());
    this.#heartbeat = setInterval(() => {
      try {
        this.#o.batches.heartbeat(this.#o.workerId);
      } catch (e) {
        this.#o.log.warn({ err: e }, 'batch heartbeat failed');
      }
    }, this.#o.heartbeatMs);
    this.#heartbeat.unref();
    for (let i = 0; i < this.#o.concurrency; i++) this.#slots.push(this.#slot());
  }

  /**
   * Takes no new line, and waits up to `graceMs` for the lines in flight. Lines still running
   * after that stay `running` under this worker's id and are taken back on the next start.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#wakeAll();
    for (const w of [...this.#stopWaiters]) w();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.#slots), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  #wakeAll(): void {
    for (const w of [...this.#waiters]) w();
  }

  #idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.#o.pollMs);
      timer.unref();
      this.#waiters.add(done);
    });
  }

  async #slot(): Promise<void> {
    const { batches, workerId } = this.#o;
    while (!this.#stopping) {
      let line: ClaimedLine | undefined;
      try {
        line = batches.claim(workerId, 1)[0];
      } catch (e) {
        this.#o.log.warn({ err: e }, 'could not claim a batch line');
      }
      if (!line) {
        await this.#idle();
        continue;
      }
      const result = await this.#o.runLine(line);
      if (!(await this.#record(line, result))) return;
    }
  }

  /**
   * Records a line's result. A result that says the disk is full (507) is not an answer: the line
   * is handed back and run again once there is room. When the store cannot be written (a full
   * disk), the result is kept and the write retried with backoff until it works, so the line
   * neither stays `running` under this live worker forever nor waits for a restart. False when
   * the executor stopped meanwhile: the line then stays running under this worker's id and is run
   * again after a restart; nothing is recorded twice.
   */
  async #record(line: ClaimedLine, result: LineResult & { statusCode: number | null }): Promise<boolean> {
    const { batches, workerId } = this.#o;
    for (let delay = 250; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        if ((this.#stopping && isInterrupted(result)) || result.statusCode === 507) {
          batches.release(line.batchId, line.lineNo, workerId);
          if (result.statusCode === 507) await this.#pause(5_000);
          return !this.#stopping;
        }
        const committed = batches.commit(line.batchId, line.lineNo, result);
        if (committed && !batches.hasUnfinished(line.batchId)) batches.nudge();
        this.#o.onLine?.(line, result);
        return true;
      } catch (e) {
        this.#o.log.warn({ err: e, batch: line.batchId, line: line.lineNo }, 'batch line result not recorded yet; retrying');
        if (this.#stopping) return false;
        await this.#pause(delay);
      }
    }
  }

  /** Waits `ms`, or less when the executor stops. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#stopWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      if (this.#stopping) done();
      else this.#stopWaiters.add(done);
    });
  }
}

/** Coordinator side of the embedded transport: a stopping batch is drained once none of its lines is running. */
export function sqliteTransport(batches: BatchStore): LineTransport {
  return {
    drained: async (batch) => batches.lineCounts(batch.id).running === 0,
  };
}
