import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { type BatchWorker, type BatchWorkerOptions, startBatchWorker } from '../../src/batch/worker.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import { buildApp } from '../../src/http/server.js';
import { createRuntime, type Runtime } from '../../src/runtime/host.js';
import type { CatalogueEntry } from '../../src/store/model-cache/catalogue.js';

/** One line of the server's JSON log (pino). */
export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface TestServer {
  url: string;
  config: Config;
  app: FastifyInstance;
  runtime: Runtime;
  /** The batch worker running beside the server. */
  batchWorker: BatchWorker;
  /** An official SDK client pointed at the server. */
  client: OpenAI;
  close(): Promise<void>;
}

/** A fresh temporary data folder, removed by the caller's cleanup. */
export function tempDir(prefix = 'parley-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Starts the real server in-process on a free loopback port. `env` holds PARLEY_* settings. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { batch?: BatchWorkerOptions; log?: LogLine[]; catalogue?: readonly CatalogueEntry[] } = {},
): Promise<TestServer> {
  const dataDir = tempDir();
  const config = loadConfig({ env: { PARLEY_DATA_DIR: dataDir, PARLEY_PORT: '0', PARLEY_LOG_LEVEL: 'silent', PARLEY_OFFLINE: '1', ...env } });
  const runtime = await createRuntime(config, { catalogue: options.catalogue });
  // PARLEY_TEST_LOG=FILE keeps the servers' warnings and errors there (debugging a failing test).
  const logFile = process.env.PARLEY_TEST_LOG;
  // `options.log` collects every log line (info and up) as parsed JSON, for tests about what is logged.
  const logger = options.log
    ? { level: 'info', stream: { write: (line: string) => void options.log!.push(JSON.parse(line) as LogLine) } }
    : logFile
      ? { level: 'warn', file: logFile }
      : false;
  const app = await buildApp(runtime.services, { logger });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  runtime.markReady();
  const batchWorker = await startBatchWorker(app, runtime, options.batch);
  const apiKey = config.apiKeys[0] ?? 'sk-no-key-needed';
  return {
    url: address,
    config,
    app,
    runtime,
    batchWorker,
    client: new OpenAI({ baseURL: `${address}/v1`, apiKey, maxRetries: 0, timeout: 60_000 }),
    async close() {
      await batchWorker.stop(2_000);
      await app.close();
      await runtime.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
