/**
 * A small pool of worker threads that run one job at a time each, for engines whose native or
 * WebAssembly code may trap, hang or run long: a failing job rejects alone, the process goes on.
 *
 * - At most `size` jobs run at once; more wait in a FIFO queue.
 * - Aborting a queued job drops it; aborting a running job terminates its worker (the only way
 *   to stop synchronous WebAssembly) and a fresh worker is started for the next job.
 * - A job running longer than its timeout is treated like an abort, but rejects with a 500.
 * - A worker that dies (uncaught error, exit, out of memory) fails its job only.
 * - Idle workers are unref'd (they never keep the process alive) and ended after `idleMs`.
 *
 * The worker side is `serveJobs()` in ./serve.ts.
 */
import { type ResourceLimits, type Transferable, Worker } from 'node:worker_threads';
import { ApiError } from '../../../errors.js';
import type { JobReply, JobRequest, WorkerBootData } from './protocol.js';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Engine name used in error messages, e.g. `flite`. */
  name: string;
  /** The worker module (a file calling `serveJobs`); see {@link workerModuleUrl}. */
  entry: URL;
  /** Data every worker receives at start (cloned; may hold a WebAssembly.Module). */
  workerData?: unknown;
  /** Most jobs running at once (= most workers alive). */
  size: number;
  /** Default time limit of one job once it runs, ms. */
  timeoutMs: number;
  /** End a worker idle for this long, ms (default 30 s). */
  idleMs?: number;
  /** Heap limits of each worker. */
  resourceLimits?: ResourceLimits;
}

/** Per-job options of {@link WorkerPool.run}. */
export interface RunJobOptions {
  /** Cancels the job (queued or running). */
  signal?: AbortSignal;
  /** Overrides the pool's timeout for this job, ms. */
  timeoutMs?: number;
  /** Objects moved (not copied) to the worker with the job. */
  transfer?: readonly Transferable[];
}

/** A snapshot of the pool, for logs and tests. */
export interface WorkerPoolStats {
  /** Workers alive. */
  workers: number;
  /** Jobs running. */
  running: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Workers started since the pool was created (restarts included). */
  started: number;
}

interface Task<J, R> {
  job: J;
  opts: RunJobOptions;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  onAbort?: () => void;
}

interface Slot<J, R> {
  worker: Worker;
  /** The worker has loaded its module; job timers start only then (boot time is not job time). */
  ready: boolean;
  task: Task<J, R> | null;
  jobId: number;
  timer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null;
}

/** Longest a worker may take to load its module before its job fails. */
const BOOT_TIMEOUT_MS = 30_000;

// Workers start through this tiny CommonJS bootstrap, so that under tsx (tests, `npm run dev`)
// the TypeScript worker module is loaded with tsx registered in the worker thread too: Node 20
// does not apply the parent's `--import tsx` to workers. In the build, `tsx` is undefined.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { setImmediate(() => { throw e; }); });
`;

/**
 * URL of a worker module next to `importMetaUrl`, given its base name: the `.ts` file when the
 * caller runs from TypeScript sources (tsx), the compiled `.js` file otherwise.
 */
export function workerModuleUrl(baseName: string, importMetaUrl: string): URL {
  const ext = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${ext}`, importMetaUrl);
}

/** The error an aborted operation rejects with: the signal's AbortError reason, or a new one. */
export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new DOMException('The operation was aborted.', 'AbortError');
  if (reason !== undefined) Object.defineProperty(err, 'cause', { value: reason, configurable: true, writable: true });
  return err;
}

/** True for the rejection of an aborted operation. */
export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** Runs jobs of type `J` giving `R` in worker threads; see the module comment. */
export class WorkerPool<J, R> {
  private readonly opts: Required<Omit<WorkerPoolOptions, 'resourceLimits' | 'workerData'>> & Pick<WorkerPoolOptions, 'resourceLimits' | 'workerData'>;
  private readonly slots: Slot<J, R>[] = [];
  private readonly queue: Task<J, R>[] = [];
  private nextJobId = 1;
  private startedCount = 0;
  private disposed = false;

  constructor(options: WorkerPoolOptions) {
    if (!(options.size >= 1)) throw new RangeError(`worker pool size must be at least 1, got ${options.size}`);
    this.opts = { idleMs: 30_000, ...options, size: Math.floor(options.size) };
  }

  /** Runs `job` in a worker; rejects with an AbortError when aborted, an ApiError when it fails. */
  run(job: J, opts: RunJobOptions = {}): Promise<R> {
    if (this.disposed) return Promise.reject(new Error(`${this.opts.name}: the engine was disposed`));
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    return new Promise<R>((resolve, reject) => {
      const task: Task<J, R> = { job, opts, resolve, reject };
      if (opts.signal) {
        task.onAbort = () => this.abortTask(task);
        opts.signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.pump();
    });
  }

  /** Current counts. */
  stats(): WorkerPoolStats {
    return {
      workers: this.slots.length,
      running: this.slots.filter((s) => s.task).length,
      queued: this.queue.length,
      started: this.startedCount,
    };
  }

  /** Rejects queued and running jobs and ends every worker. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const gone = new Error(`${this.opts.name}: the engine was disposed`);
    for (const task of this.queue.splice(0)) this.settle(task, gone, true);
    await Promise.all(
      [...this.slots].map((slot) => {
        if (slot.task) this.settle(slot.task, gone, true);
        return this.retire(slot);
      }),
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.task);
      if (!slot) {
        if (this.slots.length >= this.opts.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift()!;
      this.start(slot, task);
    }
  }

  private spawn(): Slot<J, R> {
    const isTs = this.opts.entry.pathname.endsWith('.ts');
    const boot: WorkerBootData = {
      entry: this.opts.entry.href,
      tsx: isTs ? import.meta.resolve('tsx/esm/api') : undefined,
      data: this.opts.workerData,
    };
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: boot, resourceLimits: this.opts.resourceLimits });
    this.startedCount++;
    const slot: Slot<J, R> = { worker, ready: false, task: null, jobId: 0, timer: null, idleTimer: null };
    worker.on('message', (msg: JobReply<R>) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onDeath(slot, err));
    worker.on('exit', (code) => this.onDeath(slot, new Error(`${this.opts.name} worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot<J, R>, task: Task<J, R>): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.task = task;
    slot.jobId = this.nextJobId++;
    slot.worker.ref();
    if (slot.ready) this.armTimer(slot);
    else {
      slot.timer = setTimeout(() => {
        this.failSlot(slot, ApiError.internal(new Error(`${this.opts.name}: worker did not start within ${BOOT_TIMEOUT_MS} ms`)));
      }, BOOT_TIMEOUT_MS);
    }
    const request: JobRequest<J> = { id: slot.jobId, job: task.job };
    slot.worker.postMessage(request, task.opts.transfer ? [...task.opts.transfer] : undefined);
  }

  private armTimer(slot: Slot<J, R>): void {
    const task = slot.task;
    if (!task || slot.timer) return;
    const timeoutMs = task.opts.timeoutMs ?? this.opts.timeoutMs;
    slot.timer = setTimeout(() => {
      const err = ApiError.internal(new Error(`${this.opts.name}: job timed out after ${timeoutMs} ms`));
      this.failSlot(slot, err);
    }, timeoutMs);
  }

  private onMessage(slot: Slot<J, R>, msg: JobReply<R>): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      if (slot.timer) clearTimeout(slot.timer); // the boot timer
      slot.timer = null;
      this.armTimer(slot);
      return;
    }
    const task = slot.task;
    if (!task || msg.id !== slot.jobId) return; // a reply to a job already given up
    this.release(slot);
    if (msg.type === 'result') this.settle(task, msg.result, false);
    else this.settle(task, ApiError.internal(reviveError(msg.error, this.opts.name)), true);
    this.pump();
  }

  /** The worker died on its own: fail its job, forget it. */
  private onDeath(slot: Slot<J, R>, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // already retired
    this.slots.splice(i, 1);
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    const task = slot.task;
    slot.task = null;
    if (task) this.settle(task, ApiError.internal(err), true);
    void slot.worker.terminate();
    if (!this.disposed) this.pump();
  }

  /** Give up the slot's job with `err` and kill its worker (the job may be stuck in a loop). */
  private failSlot(slot: Slot<J, R>, err: unknown): void {
    const task = slot.task;
    slot.task = null;
    void this.retire(slot);
    if (task) this.settle(task, err, true);
    this.pump();
  }

  private abortTask(task: Task<J, R>): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(task, abortError(task.opts.signal), true);
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    if (slot) this.failSlot(slot, abortError(task.opts.signal));
  }

  /** The slot finished its job normally: keep the worker, idle. */
  private release(slot: Slot<J, R>): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.task = null;
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => void this.retire(slot), this.opts.idleMs);
    slot.idleTimer.unref();
  }

  private async retire(slot: Slot<J, R>): Promise<void> {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.timer = slot.idleTimer = null;
    await slot.worker.terminate();
  }

  private settle(task: Task<J, R>, value: unknown, failed: boolean): void {
    if (task.onAbort) task.opts.signal?.removeEventListener('abort', task.onAbort);
    if (failed) task.reject(value);
    else task.resolve(value as R);
  }
}

function reviveError(e: { name: string; message: string; stack?: string }, engine: string): Error {
  const err = new Error(`${engine}: ${e.message}`);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}
