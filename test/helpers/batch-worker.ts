/**
 * `parley worker` as a test child process: `node --import tsx test/helpers/batch-worker.ts` with
 * PARLEY_* in the environment (PARLEY_QUEUE for Redis mode). Prints `{"ready": pid}` once taking
 * work, then `{"ran": "<batchId>-<lineNo>"}` after each line it ran. Short Redis lock timings so a
 * killed worker's lines come back in a few seconds.
 */

import { runWorker } from '../../src/cli/worker.js';
import { loadConfig } from '../../src/config/index.js';

const config = loadConfig({ env: { PARLEY_LOG_LEVEL: 'silent', PARLEY_OFFLINE: '1', ...process.env } });
await runWorker(config, {
  lockMs: Number(process.env.TEST_LOCK_MS ?? 2000),
  stalledMs: Number(process.env.TEST_STALLED_MS ?? 1000),
  pollMs: 100,
  onLine: (line) => process.stdout.write(`${JSON.stringify({ ran: `${line.batchId}-${line.lineNo}` })}\n`),
});
process.stdout.write(`${JSON.stringify({ ready: process.pid })}\n`);
