/**
 * A Parley server with its batch worker, as a separate process for crash tests:
 * `node --import tsx test/helpers/batch-server.ts` with PARLEY_* in the environment (the data
 * folder especially). Prints `{"url": …, "pid": …}` on stdout once listening.
 */
import { startBatchWorker } from '../../src/batch/worker.js';
import { loadConfig } from '../../src/config/index.js';
import { buildApp } from '../../src/http/server.js';
import { createRuntime } from '../../src/runtime/host.js';

const config = loadConfig({ env: { PARLEY_PORT: '0', PARLEY_LOG_LEVEL: 'silent', PARLEY_OFFLINE: '1', ...process.env } });
const runtime = await createRuntime(config);
const app = await buildApp(runtime.services, { logger: config.logLevel === 'silent' ? false : { level: config.logLevel } });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
runtime.markReady();
const worker = await startBatchWorker(app, runtime, {
  pollMs: 100,
  lockMs: Number(process.env.TEST_LOCK_MS ?? 2000),
  stalledMs: Number(process.env.TEST_STALLED_MS ?? 1000),
  reconcileMs: Number(process.env.TEST_RECONCILE_MS ?? 2000),
});
process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
process.once('SIGTERM', async () => {
  await worker.stop(2000);
  await app.close();
  await runtime.close();
  process.exit(0);
});
