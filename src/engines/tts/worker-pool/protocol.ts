/** Messages between a {@link WorkerPool} and its workers. Types only. */

/** What the bootstrap of every worker receives as `workerData`. */
export interface WorkerBootData {
  /** URL of the worker module to import. */
  entry: string;
  /** URL of tsx's ESM API, set when the worker module is TypeScript. */
  tsx: string | undefined;
  /** The pool's `workerData`, handed to the job handler's setup. */
  data: unknown;
}

/** Pool → worker: run one job. */
export interface JobRequest<J> {
  id: number;
  job: J;
}

/** Worker → pool. */
export type JobReply<R> =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: R }
  | { type: 'error'; id: number; error: { name: string; message: string; stack?: string } };
