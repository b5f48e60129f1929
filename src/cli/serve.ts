import { Command } from 'commander';
import { type BatchWorker, startBatchWorker } from '../batch/worker.js';
import { ConfigError, isLoopback } from '../config/index.js';
import { buildApp } from '../http/server.js';
import { createRuntime } from '../runtime/host.js';
import { startupReport } from '../runtime/startup.js';
import { configFromProgram, reportFailure } from './main.js';

/** `parley serve`: the HTTP server. */
export function serveCommand(program: Command): Command {
  return new Command('serve')
    .description('start the HTTP server (OpenAI- and Azure-compatible API)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1); also PARLEY_HOST')
    .option('--port <port>', 'port (default 8000); also PARLEY_PORT')
    .option('--no-auth', 'allow serving without API keys on a non-loopback address')
    .addHelpText('after', '\nAPI keys come from PARLEY_API_KEYS (comma-separated), PARLEY_ADMIN_KEY and `parley keys create`. See README.md for every setting.')
    .action(async (opts: { host?: string; port?: string; auth: boolean }) => {
      try {
        const config = configFromProgram(program, { host: opts.host, port: opts.port, noAuth: opts.auth === false ? true : undefined });
        await serve(config);
      } catch (error) {
        reportFailure(error);
      }
    });
}

/** Starts the server and wires clean shutdown; resolves once listening. */
export async function serve(config: import('../config/index.js').Config): Promise<void> {
  const authOn = config.apiKeys.length > 0 || config.adminKey !== undefined;
  if (!authOn && !isLoopback(config.host) && !config.noAuth) {
    throw new ConfigError([
      `refusing to listen on ${config.host} without API keys: set PARLEY_API_KEYS or PARLEY_ADMIN_KEY, or pass --no-auth to serve openly`,
    ]);
  }
  const runtime = await createRuntime(config);
  const app = await buildApp(runtime.services);
  if (!authOn) {
    app.log.warn(
      isLoopback(config.host)
        ? 'no API keys configured: accepting every request (loopback only)'
        : 'no API keys configured and --no-auth given: accepting every request from anywhere',
    );
  }
  let closing = false;
  let batchWorker: BatchWorker | undefined;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    runtime.beginDrain();
    const force = setTimeout(() => {
      app.log.warn('grace period over: cancelling in-flight requests');
      runtime.abortInFlight();
    }, config.shutdownGraceMs);
    force.unref();
    try {
      await batchWorker?.stop(config.shutdownGraceMs);
      await app.close();
      await runtime.close();
    } finally {
      clearTimeout(force);
      app.log.info('stopped');
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  const address = await app.listen({ host: config.host, port: config.port });
  runtime.markReady();
  batchWorker = await startBatchWorker(app, runtime);
  app.log.info(`Parley listening on ${address}`);
  // For the person who ran it: the playground and what serves each capability (on stderr, beside the JSON log).
  const report = await startupReport(config, runtime.services.cache, address);
  process.stderr.write(`${report.summary.join('\n')}\n`);
  for (const line of report.missing) app.log.warn(line);
}
