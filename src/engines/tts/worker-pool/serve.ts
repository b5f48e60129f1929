/** The worker side of a {@link WorkerPool}: call `serveJobs` once from the worker module. */
import { parentPort, type Transferable, workerData } from 'node:worker_threads';
import type { JobReply, JobRequest, WorkerBootData } from './protocol.js';

/** What a job handler returns: the result, and what to move rather than copy back. */
export interface JobOutput<R> {
  result: R;
  transfer?: readonly Transferable[];
}

/**
 * Serves jobs one at a time. `setup` runs once with the pool's `workerData` and returns the job
 * handler. A handler that throws (a WebAssembly trap, say) fails that job only.
 */
export function serveJobs<J, R>(setup: (data: unknown) => (job: J) => JobOutput<R> | Promise<JobOutput<R>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs() must run in a worker thread');
  const boot = workerData as WorkerBootData;
  const handle = setup(boot.data);
  port.on('message', async (msg: JobRequest<J>) => {
    let reply: JobReply<R>;
    let transfer: readonly Transferable[] | undefined;
    try {
      const out = await handle(msg.job);
      reply = { type: 'result', id: msg.id, result: out.result };
      transfer = out.transfer;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { type: 'error', id: msg.id, error: { name: err.name, message: err.message, stack: err.stack } };
    }
    port.postMessage(reply, transfer ? [...transfer] : undefined);
  });
  port.postMessage({ type: 'ready' } satisfies JobReply<R>);
}
