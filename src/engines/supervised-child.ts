/**
 * A supervised child process for native engine code that can crash, hang or leak: the whisper
 * host (whisper.cpp) and the speech host (sherpa-onnx) run their native libraries in one each.
 *
 * What it does for its owner:
 * - forks an entry module with the parent's loaders (so `host.ts` runs under tsx in tests and
 *   development) and advanced IPC serialisation (typed arrays travel as binary, not JSON);
 * - one request in flight at a time; the reply or the child's death settles it — a native
 *   `exit(-1)` or abort rejects the pending request with a {@link ChildExitError}, it never
 *   takes the parent down;
 * - `kill(reason)` (SIGKILL: native code cannot be interrupted otherwise) rejects the pending
 *   request with `reason` at once;
 * - keeps the last few KB of the child's stderr (native logs) for error causes;
 * - an idle child does not keep the event loop alive, a busy one does.
 *
 * Owners decide what a crash means to their callers (whisper and the speech host: 503 naming the
 * model) and when to start a fresh child.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How much of the child's stderr is kept by default. */
const STDERR_TAIL = 4096;

/** The child ended (crashed, was killed, or exited) while a request was pending or before it was sent. */
export class ChildExitError extends Error {
  constructor(
    /** Which child (its owner's name for it). */
    readonly child: string,
    /** Exit code, null when ended by a signal. */
    readonly code: number | null,
    /** Ending signal, null when it exited. */
    readonly signal: NodeJS.Signals | null,
    /** The tail of its stderr. */
    readonly stderr: string,
  ) {
    super(`${child} ${signal ? `was ended by ${signal}` : `exited with code ${code}`}${stderr ? `\n${stderr}` : ''}`);
    this.name = 'ChildExitError';
  }

  /** One line for messages: "exited with code 255" / "was ended by SIGABRT". */
  get how(): string {
    return this.signal ? `was ended by ${this.signal}` : `exited with code ${this.code}`;
  }
}

export interface SupervisedChildOptions {
  /** Absolute path of the module to fork. */
  entry: string;
  /** Name in messages, e.g. `speech host`. */
  name: string;
  /** Environment of the child (default: the parent's). */
  env?: NodeJS.ProcessEnv;
  /** Bytes of stderr kept for error reports (default 4 KB). */
  stderrTail?: number;
}

/** A forked child speaking request/reply over IPC, one request at a time. */
export class SupervisedChild<Request extends object, Reply extends object> {
  private stderr = '';
  private pending: { resolve: (reply: Reply) => void; reject: (e: unknown) => void } | undefined;
  private exited: ChildExitError | undefined;
  private killReason: unknown;
  private readonly exitWaiters: Array<() => void> = [];
  private readonly child: ChildProcess;

  private constructor(private readonly options: SupervisedChildOptions) {
    const tail = options.stderrTail ?? STDERR_TAIL;
    this.child = fork(options.entry, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: hostExecArgv(process.execArgv),
      env: options.env ?? process.env,
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-tail);
    });
    this.child.on('message', (reply: Reply) => {
      const p = this.pending;
      this.pending = undefined;
      this.idle();
      p?.resolve(reply);
    });
    this.child.on('exit', (code, signal) => this.ended(code, signal));
    this.child.on('error', () => {
      // 'exit' follows a failed spawn or kill; a failed send is reported to its callback.
      if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid === undefined) this.ended(null, null);
    });
    this.idle();
  }

  /** Forks `options.entry`. */
  static fork<Request extends object, Reply extends object>(options: SupervisedChildOptions): SupervisedChild<Request, Reply> {
    return new SupervisedChild<Request, Reply>(options);
  }

  /** False once the child has ended or was killed. */
  get alive(): boolean {
    return this.exited === undefined && this.killReason === undefined;
  }

  /** Process id (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether a request is in flight. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** The last bytes the child wrote to stderr. */
  stderrTail(): string {
    return this.stderr;
  }

  /**
   * Sends `request` and resolves with the next reply. Rejects with a {@link ChildExitError} if the
   * child ends first, with the kill reason if it is killed, and at once if a request is in flight.
   */
  request(request: Request): Promise<Reply> {
    if (!this.alive) return Promise.reject(this.killReason ?? this.exited);
    if (this.pending) return Promise.reject(new Error(`${this.options.name} is busy`));
    return new Promise<Reply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.ref();
      this.child.send(request, (e) => {
        if (e && this.pending) {
          this.pending = undefined;
          reject(this.killReason ?? new ChildExitError(this.options.name, this.child.exitCode, this.child.signalCode, `could not be reached: ${e.message}`));
        }
      });
    });
  }

  /** Ends the child with SIGKILL; a pending request rejects with `reason`. Safe to call twice. */
  kill(reason: unknown): void {
    if (!this.alive) return;
    this.killReason = reason;
    const p = this.pending;
    this.pending = undefined;
    // Held until the exit arrives, so `whenExited()` can be awaited by an owner shutting down.
    this.child.ref();
    this.child.kill('SIGKILL');
    p?.reject(reason);
  }

  /** Resolves once the process has really ended (after `kill`, or a crash). */
  whenExited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.exited) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private ended(code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.exited) this.exited = new ChildExitError(this.options.name, code, signal, this.stderr);
    const p = this.pending;
    this.pending = undefined;
    p?.reject(this.killReason ?? this.exited);
    for (const w of this.exitWaiters.splice(0)) w();
  }

  // An idle child must not keep the server (or a script) alive; a busy one must. The process,
  // the IPC channel and the stderr pipe each hold the event loop.
  private ref(): void {
    this.child.ref();
    this.child.channel?.ref();
    (this.child.stderr as Socket | null)?.ref();
  }

  private idle(): void {
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stderr as Socket | null)?.unref();
  }
}

/** Node options that take a value and that a child host needs too (module loaders such as tsx). */
const LOADER_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);

/**
 * The parent's Node options a child host should inherit: loaders and conditions (so host.ts runs
 * under tsx in development), source maps, experimental switches. Everything else is dropped —
 * `-e`/`--eval` would make the child run the parent's script instead of the host, `--inspect`
 * would clash on the port, `--test` would make it a test runner.
 */
export function hostExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (LOADER_OPTIONS.has(name)) {
      if (eq > 0) out.push(arg);
      else if (i + 1 < argv.length) out.push(arg, argv[++i]!);
    } else if (name.startsWith('--experimental-') || name === '--enable-source-maps' || name === '--no-warnings') {
      out.push(arg);
    }
  }
  return out;
}

/** The module `basename` next to the module at `moduleUrl`: `host.ts` under tsx, `host.js` once compiled. */
export function siblingEntry(moduleUrl: string, basename: string): string {
  const self = fileURLToPath(moduleUrl);
  return path.join(path.dirname(self), `${basename}${path.extname(self)}`);
}
