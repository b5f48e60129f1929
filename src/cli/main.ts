#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, type ConfigFlags, loadConfig } from '../config/index.js';
import { ApiError } from '../errors.js';
import { batchCommand } from './batch.js';
import { chatCommand } from './chat.js';
import { analyzeCommand, transcribeCommand } from './listen.js';
import { modelsCommand } from './models.js';
import { sayCommand, voicesCommand } from './say.js';
import { serveCommand } from './serve.js';
import { workerCommand } from './worker.js';

/** Global flags every command accepts, turned into the one validated config. */
export function configFromProgram(program: Command, extra: ConfigFlags = {}) {
  const o = program.opts<{ config?: string; dataDir?: string; offline?: boolean; logLevel?: string }>();
  return loadConfig({ flags: { config: o.config, dataDir: o.dataDir, offline: o.offline, logLevel: o.logLevel, ...extra } });
}

/** Prints a user-facing failure without a stack trace and sets the exit code. */
export function reportFailure(error: unknown): void {
  if (error instanceof ConfigError || error instanceof ApiError) {
    process.stderr.write(`parley: ${error.message}\n`);
  } else {
    process.stderr.write(`parley: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exitCode = 1;
}

export function buildProgram(): Command {
  const program = new Command('parley')
    .description('Parley: a self-hosted, OpenAI-compatible audio model server (speech in, speech out) on open models')
    .version('0.1.0')
    .option('--config <file>', 'config file (YAML or JSON); also PARLEY_CONFIG')
    .option('--data-dir <dir>', 'data folder; also PARLEY_DATA_DIR')
    .option('--offline', 'never download anything; also PARLEY_OFFLINE=1')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent; also PARLEY_LOG_LEVEL')
    .showHelpAfterError();
  program.addCommand(serveCommand(program));
  program.addCommand(sayCommand(program));
  program.addCommand(voicesCommand(program));
  program.addCommand(transcribeCommand(program));
  program.addCommand(analyzeCommand(program));
  program.addCommand(chatCommand(program));
  program.addCommand(batchCommand(program));
  program.addCommand(workerCommand(program));
  program.addCommand(
    modelsCommand(async () => {
      const config = configFromProgram(program);
      return { modelsDir: config.modelsDir!, offline: config.offline, mirror: config.modelsMirror };
    }),
  );
  return program;
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL((await import('node:fs')).realpathSync(process.argv[1])).href;
if (isMain) {
  // `parley models list | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  buildProgram().parseAsync(process.argv).catch(reportFailure);
}
