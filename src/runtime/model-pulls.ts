/**
 * Model downloads started over HTTP (`POST /v1/parley/models/{name}/pull`), run as server jobs:
 * a pull goes on when the page or CLI that started it goes away, anyone can follow its progress,
 * and it stops only when asked (`cancel`) or at shutdown (`close`). The bytes on disk are the
 * model cache's business (resume, sha256, lock); this only keeps the jobs and their listeners.
 */
import type { ModelCache, PullResult } from '../store/model-cache/cache.js';

/** Where a pull is. */
export interface PullProgress {
  /** Model name. */
  model: string;
  /** Bytes of the model on disk and verified so far (resumed bytes included). */
  bytesDone: number;
  /** Total bytes; null when the catalogue does not know. */
  bytesTotal: number | null;
  /** The file being fetched or verified. */
  file: string;
}

/** What a listener hears: progress, then exactly one `done` or `failed`. */
export type PullEvent = { type: 'progress'; progress: PullProgress } | { type: 'done'; result: PullResult } | { type: 'failed'; error: unknown };

interface Job {
  promise: Promise<PullResult>;
  abort: AbortController;
  progress: PullProgress;
  listeners: Set<(event: PullEvent) => void>;
}

/** The pulls running in this process. */
export class ModelPulls {
  private readonly jobs = new Map<string, Job>();
  private closed = false;

  constructor(private readonly cache: ModelCache) {}

  /**
   * Starts pulling `name`, or joins the pull already running. `listener` hears the current
   * progress at once, then every change, then the end. Returns the unsubscribe function; unknown
   * names and offline refusals arrive as a `failed` event like any other failure.
   */
  follow(name: string, listener: (event: PullEvent) => void): () => void {
    let job = this.jobs.get(name);
    if (!job) {
      if (this.closed) {
        listener({ type: 'failed', error: new DOMException('server shutting down', 'AbortError') });
        return () => {};
      }
      job = this.start(name);
    }
    const current = job;
    current.listeners.add(listener);
    listener({ type: 'progress', progress: { ...current.progress } });
    return () => current.listeners.delete(listener);
  }

  /** Progress of every running pull. */
  running(): PullProgress[] {
    return [...this.jobs.values()].map((j) => ({ ...j.progress }));
  }

  /** Stops a running pull (what was downloaded is kept; pulling again resumes). False when none runs. */
  cancel(name: string): boolean {
    const job = this.jobs.get(name);
    if (!job) return false;
    job.abort.abort(new DOMException('pull cancelled', 'AbortError'));
    return true;
  }

  /** Stops every pull and waits for them to end. */
  async close(): Promise<void> {
    this.closed = true;
    const jobs = [...this.jobs.values()];
    for (const job of jobs) job.abort.abort(new DOMException('server shutting down', 'AbortError'));
    await Promise.allSettled(jobs.map((j) => j.promise));
  }

  private start(name: string): Job {
    const abort = new AbortController();
    const entry = this.cache.entries().find((e) => e.name === name);
    const total = entry ? entry.files.reduce<number | null>((sum, f) => (sum === null || f.size === null ? null : sum + f.size), 0) : null;
    const job: Job = {
      abort,
      listeners: new Set(),
      progress: { model: name, bytesDone: 0, bytesTotal: total, file: '' },
      promise: Promise.resolve() as unknown as Promise<PullResult>,
    };
    const emit = (event: PullEvent): void => {
      for (const listener of [...job.listeners]) listener(event);
    };
    job.promise = this.cache.pull(name, {
      signal: abort.signal,
      onProgress: (done, bytesTotal, file) => {
        job.progress = { model: name, bytesDone: done, bytesTotal, file };
        emit({ type: 'progress', progress: { ...job.progress } });
      },
    });
    this.jobs.set(name, job);
    job.promise.then(
      (result) => {
        this.jobs.delete(name);
        emit({ type: 'done', result });
      },
      (error: unknown) => {
        this.jobs.delete(name);
        emit({ type: 'failed', error });
      },
    );
    return job;
  }
}
