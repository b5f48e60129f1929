import { AsyncLocalStorage } from 'node:async_hooks';

/** Priority of the work running in this async context (0 = live; batch work runs with a higher number). */
const priorityContext = new AsyncLocalStorage<number>();

/** Runs `fn` with every engine job it starts queued at `priority` (e.g. a batch line at 10). */
export function withPriority<T>(priority: number, fn: () => T): T {
  return priorityContext.run(priority, fn);
}

/** Priority of batch work: behind every live request. */
export const BATCH_PRIORITY = 10;

/**
 * Bounds how many engine jobs run at once (sized to the cores) and queues the rest.
 * Live requests use priority 0; background work (batches) a higher number, so a live request
 * never waits behind a long queue of background jobs. Waiting jobs leave the queue when aborted.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<{ priority: number; seq: number; start: () => void; fail: (e: unknown) => void }> = [];
  private seq = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** Jobs running now. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `job` when a slot is free. Rejects with the signal's reason if aborted while queued. */
  async run<T>(job: () => Promise<T>, options: { signal?: AbortSignal; priority?: number } = {}): Promise<T> {
    await this.acquire(options.signal, options.priority ?? priorityContext.getStore() ?? 0);
    try {
      return await job();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined, priority: number): Promise<void> {
    signal?.throwIfAborted();
    if (this.running < this.capacity && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        priority,
        seq: this.seq++,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running++;
          resolve();
        },
        fail: reject,
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // Keep the queue ordered by (priority, arrival).
      let i = this.waiting.length;
      while (i > 0 && this.waiting[i - 1]!.priority > priority) i--;
      this.waiting.splice(i, 0, entry);
    });
  }

  private release(): void {
    this.running--;
    const next = this.waiting.shift();
    if (next) next.start();
  }
}
