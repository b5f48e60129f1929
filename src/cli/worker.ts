import { Command } from 'commander';
import { startBatchWorker } from '../batch/worker.js';
import type { Config } from '../config/index.js';
import { buildApp } from '../http/server.js';
import { createRuntime } from '../runtime/host.js';
import { configFromProgram, reportFailure } from './main.js';

/**
 * `parley worker`: runs batch lines without serving HTTP. With PARLEY_QUEUE=redis://… it takes
 * line jobs from Redis (any machine; it needs the same engines/models and API keys as the
 * server, not its data folder). Without a queue it shares the server's data folder on this
 * machine and takes lines from SQLite (and finalizes batches too).
 */
export function workerCommand(program: Command): Command {
  return new Command('worker')
    .description('run batch lines without serving HTTP (Redis queue with PARLEY_QUEUE, else the local data folder)')
    .option('--concurrency <n>', 'batch lines in flight (default: PARLEY_BATCH_CONCURRENCY, else the cores)')
    .action(async (opts: { concurrency?: string }) => {
      try {
        const config = configFromProgram(program);
        const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
        if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
          throw new Error(`--concurrency: expected a positive integer, got '${opts.concurrency}'`);
        await runWorker(config, { concurrency });
      } catch (error) {
        reportFailure(error);
      }
    });
}

/** Starts a worker process and wires clean shutdown (SIGINT/SIGTERM finish lines in flight). */
export async function runWorker(config: Config, options: Parameters<typeof startBatchWorker>[2] = {}): Promise<{ stop(): Promise<void> }> {
  const runtime = await createRuntime(config);
  const app = await buildApp(runtime.services);
  await app.ready();
  runtime.markReady();
  const worker = await startBatchWorker(app, runtime, { execute: true, coordinate: !config.batch.queue, ...options });
  app.log.info({ mode: worker.mode, worker: worker.id }, 'Parley batch worker running');
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      runtime.beginDrain();
      const force = setTimeout(() => runtime.abortInFlight(), config.shutdownGraceMs);
      force.unref();
      try {
        await worker.stop(config.shutdownGraceMs);
        await app.close();
        await runtime.close();
      } finally {
        clearTimeout(force);
      }
    })());
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return { stop };
}
