#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, type ConfigFlags, loadConfig } from '../config/index.js';
import { ApiError } from '../errors.js';
import { batchCommand } from './batch.js';
import { chatCommand } from './chat.js';
import { doctorCommand } from './doctor.js';
import { keysCommand } from './keys.js';
import { analyzeCommand, transcribeCommand } from './listen.js';
import { modelsCommand } from './models.js';
import { sayCommand, voicesCommand } from './say.js';
import { serveCommand } from './serve.js';
import { usageCommand } from './usage.js';
import { verifyCommand } from './verify.js';
import { workerCommand } from './worker.js';

/** Global flags every command accepts, turned into the one validated config. */
export function configFromProgram(program: Command, extra: ConfigFlags = {}) {
  const o = program.opts<{ config?: string; dataDir?: string; offline?: boolean; logLevel?: string }>();
  return loadConfig({ flags: { config: o.config, dataDir: o.dataDir, offline: o.offline, logLevel: o.logLevel, ...extra } });
}

/** True when the user asked for details (`--verbose` anywhere on the command line, or PARLEY_VERBOSE=1). */
function verbose(): boolean {
  return process.argv.includes('--verbose') || process.env.PARLEY_VERBOSE === '1';
}

/** One line for a system error a user can act on (a missing file, a folder that does not exist, no permission). */
function describeSystemError(e: NodeJS.ErrnoException): string | undefined {
  const where = e.path ? `'${e.path}'` : 'the file';
  switch (e.code) {
    case 'ENOENT':
      return `${where} does not exist (or its folder does not)`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to use ${where}`;
    case 'EISDIR':
      return `${where} is a folder, not a file`;
    case 'ENOSPC':
      return `no space left on the disk for ${where}`;
    case 'ECONNREFUSED':
      return 'the server refused the connection (is `parley serve` running? pass --url)';
    default:
      return undefined;
  }
}

/**
 * Prints a failure as one line saying what is wrong (and, where known, what to do), sets exit code
 * 1; never a stack trace unless `--verbose` is given.
 */
export function reportFailure(error: unknown): void {
  const e = error as (Error & NodeJS.ErrnoException) | undefined;
  const known = error instanceof ConfigError || error instanceof ApiError;
  const system = known ? undefined : describeSystemError(e ?? ({} as NodeJS.ErrnoException));
  process.stderr.write(`parley: ${known ? e!.message : (system ?? (e?.message || String(error)))}\n`);
  if (verbose() && e?.stack) process.stderr.write(`${e.stack}\n`);
  // The commands' own messages (plain Errors) say what to do; anything else (a TypeError…) is a surprise worth the details.
  else if (!known && !system && e?.name !== 'Error') process.stderr.write('(this looks like a bug: run with --verbose for details)\n');
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
    .option('--verbose', 'show the details (stack traces) of failures')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });
  program.addCommand(serveCommand(program));
  program.addCommand(sayCommand(program));
  program.addCommand(voicesCommand(program));
  program.addCommand(transcribeCommand(program));
  program.addCommand(analyzeCommand(program));
  program.addCommand(chatCommand(program));
  program.addCommand(verifyCommand(program));
  program.addCommand(batchCommand(program));
  program.addCommand(workerCommand(program));
  program.addCommand(keysCommand(() => configFromProgram(program)));
  program.addCommand(doctorCommand(program));
  program.addCommand(usageCommand(program));
  program.addCommand(
    modelsCommand(async () => {
      const config = configFromProgram(program);
      return { modelsDir: config.modelsDir!, offline: config.offline, mirror: config.modelsMirror };
    }),
  );
  // Every command's --help also lists the global flags (--config, --data-dir, …).
  const showGlobals = (c: Command): void => {
    c.configureHelp({ showGlobalOptions: true });
    for (const sub of c.commands) showGlobals(sub);
  };
  showGlobals(program);
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
