import type { FastifyInstance } from 'fastify';
import type { Services } from '../runtime/services.js';
import { Coordinator, type LineTransport } from './coordinator.js';
import { createLineRunner } from './execute.js';
import { RedisLineExecutor, type RedisTiming, RedisTransport } from './redis-lines.js';
import { type LineObserver, SqliteLineExecutor, sqliteTransport } from './sqlite-lines.js';
import { newWorkerId, retireWorkerId } from './workers.js';

/** Tuning of `startBatchWorker`; the defaults suit production, tests shorten the timings. */
export interface BatchWorkerOptions extends RedisTiming {
  /** Run batch lines in this process (default: config `batch.worker`). */
  execute?: boolean;
  /**
   * Move batches through their lifecycle here (validate, finalize, expire). Needs the data
   * folder. Default: always in embedded mode; in Redis mode in the server, not in `parley worker`.
   */
  coordinate?: boolean;
  /** Lines in flight in this process (default: config `batch.concurrency`, else the cores). */
  concurrency?: number;
  /** Idle poll period (ms). Default 500. */
  pollMs?: number;
  /** Heartbeat period of running lines (ms). Default 5 s. */
  heartbeatMs?: number;
  /** A running line without a heartbeat for this long is run again elsewhere (ms). Default 60 s. */
  staleMs?: number;
  /** Lease of a validation or finalize step (ms). Default 30 s. */
  leaseMs?: number;
  /** Redis mode: how often to look for lost jobs (ms). Default 10 s. */
  reconcileMs?: number;
  /** Called after each line this process ran. */
  onLine?: LineObserver;
}

/** A running batch worker. */
export interface BatchWorker {
  /** This process's worker id (`host/pid/random`). */
  readonly id: string;
  /** `embedded` (SQLite) or `redis`. */
  readonly mode: 'embedded' | 'redis';
  /** Stops taking work, waits up to `graceMs` (default 10 s) for lines in flight. Call before closing the app and runtime. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts the batch worker of this process over `app` (the Fastify app batch lines are injected
 * into; it need not listen). Call it after `buildApp` (and `listen`, for a server) and stop it
 * before `app.close()`.
 */
export async function startBatchWorker(app: FastifyInstance, runtime: { services: Services }, options: BatchWorkerOptions = {}): Promise<BatchWorker> {
  const { config, batches, store } = runtime.services;
  const queueUrl = config.batch.queue;
  const mode = queueUrl ? 'redis' : 'embedded';
  const workerId = newWorkerId();
  const execute = options.execute ?? config.batch.worker;
  const coordinate = options.coordinate ?? true;
  // Twice the engine slots: while one line is between engine jobs (decoding, encoding, committing)
  // another keeps the engines busy. The limiter still runs live requests first.
  const concurrency = options.concurrency ?? config.batch.concurrency ?? 2 * config.concurrency;
  const log = app.log.child({ component: 'batch', worker: workerId });
  const runLine = createLineRunner(app, runtime.services.internalToken);

  let transport: LineTransport | undefined;
  let redisTransport: RedisTransport | undefined;
  let coordinator: Coordinator | undefined;
  let sqliteExecutor: SqliteLineExecutor | undefined;
  let redisExecutor: RedisLineExecutor | undefined;

  if (coordinate) {
    if (queueUrl) {
      redisTransport = new RedisTransport({
        url: queueUrl,
        batches,
        log,
        lockMs: options.lockMs,
        stalledMs: options.stalledMs,
        reconcileMs: options.reconcileMs,
      });
      redisTransport.open();
      transport = redisTransport;
    } else {
      transport = sqliteTransport(batches);
    }
    coordinator = new Coordinator({
      store,
      batches,
      transport,
      workerId,
      log,
      pollMs: options.pollMs ?? 500,
      staleMs: options.staleMs ?? 60_000,
      leaseMs: options.leaseMs ?? 30_000,
    });
    coordinator.start();
  }
  if (execute) {
    if (queueUrl) {
      redisExecutor = new RedisLineExecutor({
        url: queueUrl,
        runLine,
        concurrency,
        log,
        onLine: options.onLine,
        lockMs: options.lockMs,
        stalledMs: options.stalledMs,
      });
      redisExecutor.start();
    } else {
      sqliteExecutor = new SqliteLineExecutor({
        batches,
        runLine,
        workerId,
        concurrency,
        pollMs: options.pollMs ?? 500,
        heartbeatMs: options.heartbeatMs ?? 5_000,
        log,
        onLine: options.onLine,
      });
      sqliteExecutor.start();
    }
  }
  log.info({ mode, execute, coordinate, concurrency }, 'batch worker started');

  let stopping: Promise<void> | undefined;
  return {
    id: workerId,
    mode,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        await Promise.all([sqliteExecutor?.stop(graceMs), redisExecutor?.stop(graceMs), coordinator?.stop()]);
        await redisTransport?.close();
        retireWorkerId(workerId);
      })();
      return stopping;
    },
  };
}
