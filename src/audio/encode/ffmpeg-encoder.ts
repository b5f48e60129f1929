/**
 * Encoding through an ffmpeg child process (AAC: there is no in-process AAC encoder for Node).
 * s16le goes to ffmpeg's stdin; whatever it has written to stdout by
 * the time a `write` returns is passed on, the rest comes with `end`. When streaming, `write`
 * waits (at most CATCH_UP_MS) until ffmpeg has emitted the frames for what was written, counted
 * by a per-format `FrameCounter`, so bytes flow sentence by sentence. Failures become ApiErrors
 * whose message says nothing of the process; the details go in `cause`, for the log.
 *
 * The child never outlives its owner: `abort()` (or the `signal` option firing) kills it with
 * SIGKILL at once, whatever it is doing; before the first `write` there is no child at all.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ApiError } from '../../errors.js';
import { ffmpegPath } from '../ffmpeg.js';
import { concatBytes, floatToS16le } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE, type OutputFormat } from '../types.js';
import { EMPTY, EncoderBase, type EncoderBaseOptions } from './base.js';

/** Most stderr kept for the error cause. */
const STDERR_LIMIT = 8192;
/** Longest a streaming `write` waits for ffmpeg to catch up, ms. */
const CATCH_UP_MS = 1000;

/** What one format needs from ffmpeg: its output options and how to count its frames. */
export interface FfmpegCodec {
  /** The response format, for messages. */
  readonly format: OutputFormat;
  /** Output options after the s16le input: codec, bit rate, muxer (`pipe:1` is added). */
  readonly outputArgs: readonly string[];
  /** Input samples per encoded frame. */
  readonly frameSamples: number;
  /**
   * Frames ffmpeg may still hold when it has caught up: input it reads in blocks and has not
   * read yet, the encoder's delay, the frame being filled.
   */
  readonly frameSlack: number;
  /** A fresh counter of complete frames in the output bytes. */
  counter(): FrameCounter;
}

/** Options of an ffmpeg encoder. */
export interface FfmpegEncoderOptions extends EncoderBaseOptions {
  /** Wait in `write` until ffmpeg has encoded what was written, so bytes flow with the input. */
  streaming?: boolean;
  /** ffmpeg binary to run instead of `ffmpegPath()` (tests). */
  ffmpeg?: string;
}

type Ffmpeg = ChildProcessByStdio<Writable, Readable, Readable>;

export abstract class FfmpegEncoder extends EncoderBase {
  private readonly codec: FfmpegCodec;
  private proc: Ffmpeg | null = null;
  private readonly out: Uint8Array[] = [];
  private stderr = '';
  private failure: unknown = null;
  private exited: Promise<number | null> | null = null;
  private readonly streaming: boolean;
  private readonly binary: string | undefined;
  private samplesIn = 0;
  private readonly frames: FrameCounter;
  private wake: (() => void) | null = null;

  constructor(codec: FfmpegCodec, opts: FfmpegEncoderOptions = {}) {
    super(opts);
    this.codec = codec;
    this.streaming = opts.streaming ?? false;
    this.binary = opts.ffmpeg;
    this.frames = codec.counter();
  }

  /** The child's process id while one has been started (diagnostics and tests). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  protected async encode(samples: Float32Array): Promise<Uint8Array> {
    const proc = this.start();
    if (this.failure !== null) throw await this.failed();
    if (samples.length > 0) {
      this.samplesIn += samples.length;
      await this.feed(proc, floatToS16le(samples));
      if (this.streaming) await this.catchUp(Math.floor(this.samplesIn / this.codec.frameSamples) - this.codec.frameSlack);
      if (this.failure !== null) throw await this.failed();
    }
    return this.takeOutput();
  }

  protected async finish(): Promise<Uint8Array> {
    const proc = this.start();
    if (this.failure !== null) throw await this.failed();
    proc.stdin.end();
    const code = await this.exited!;
    if (this.failure !== null || code !== 0) throw this.error(`ffmpeg exited with ${code}`);
    return this.takeOutput();
  }

  protected override release(): void {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    this.out.length = 0;
  }

  private start(): Ffmpeg {
    if (this.aborted) throw ApiError.cancelled();
    if (this.proc) return this.proc;
    const bin = this.binary ?? ffmpegPath();
    if (!bin) {
      throw ApiError.engineUnavailable(
        `The '${this.codec.format}' format needs ffmpeg: install it (e.g. \`apt-get install ffmpeg\`) or \`npm install @ffmpeg-installer/ffmpeg\`.`,
      );
    }
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
    // Tiny probe: the format is given, and probing would hold back the first ~2 s of output.
    args.push('-probesize', '32', '-analyzeduration', '0');
    args.push('-f', 's16le', '-ar', String(OUTPUT_SAMPLE_RATE), '-ac', '1', '-i', 'pipe:0');
    args.push(...this.codec.outputArgs, '-flush_packets', '1', 'pipe:1');
    const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout.on('data', (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
      this.out.push(bytes);
      this.frames.push(bytes);
      this.wake?.();
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      if (this.stderr.length < STDERR_LIMIT) this.stderr += chunk.toString('utf8').slice(0, STDERR_LIMIT - this.stderr.length);
    });
    // EPIPE on stdin when ffmpeg dies early is reported through exit/close; keep it from throwing.
    proc.stdin.on('error', (e) => {
      this.failure ??= e;
    });
    this.exited = new Promise((resolve) => {
      proc.on('error', (e) => {
        this.failure ??= e;
        resolve(null);
      });
      proc.on('close', (code) => resolve(code));
    });
    void this.exited.then(() => this.wake?.());
    return proc;
  }

  /** Write to stdin, waiting for it to drain when ffmpeg is behind (so memory stays bounded). */
  private async feed(proc: Ffmpeg, bytes: Uint8Array): Promise<void> {
    const flushed = proc.stdin.write(bytes);
    if (flushed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        proc.stdin.off('drain', done);
        proc.stdin.off('close', done);
        resolve();
      };
      proc.stdin.once('drain', done);
      proc.stdin.once('close', done);
    });
    if (this.aborted) throw ApiError.cancelled();
    if (this.failure !== null) throw await this.failed();
  }

  /** Wait until ffmpeg has emitted `frames` frames, it exits, or CATCH_UP_MS pass. */
  private async catchUp(frames: number): Promise<void> {
    const deadline = Date.now() + CATCH_UP_MS;
    while (this.frames.count < frames && !this.aborted && this.failure === null && this.proc?.exitCode === null) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private takeOutput(): Uint8Array {
    if (this.out.length === 0) return EMPTY;
    const bytes = concatBytes(this.out);
    this.out.length = 0;
    return bytes;
  }

  /**
   * The error for a failure seen while the process may still be going (EPIPE on stdin, a spawn
   * error): waits for the process to be gone, so that what it said on stderr is in the cause.
   */
  private async failed(): Promise<ApiError> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    const code = await this.exited;
    return this.error(`ffmpeg failed (exit code ${code})`);
  }

  private error(what: string): ApiError {
    if (this.aborted) return ApiError.cancelled();
    const cause = new Error(`${this.codec.format} encoding failed: ${what}${this.stderr ? `: ${this.stderr.trim()}` : ''}`, {
      cause: this.failure ?? undefined,
    });
    return ApiError.internal(cause);
  }
}

/**
 * Counts complete frames in a byte stream of self-delimiting frames (ADTS, MPEG audio) that
 * arrives in arbitrary pieces. `frameLength` reads a frame's total length (header included) from
 * its first `headerSize` bytes, or returns 0 when they are not a frame header.
 */
export class FrameCounter {
  /** Complete frames seen. */
  count = 0;
  private skip = 0; // bytes left of the current frame
  private header: number[] = []; // bytes of a header split across chunks
  private readonly headerSize: number;
  private readonly frameLength: (header: readonly number[]) => number;

  constructor(headerSize: number, frameLength: (header: readonly number[]) => number) {
    this.headerSize = headerSize;
    this.frameLength = frameLength;
  }

  push(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.count++;
        continue;
      }
      this.header.push(bytes[i++]!);
      if (this.header.length < this.headerSize) continue;
      const len = this.frameLength(this.header);
      this.header = [];
      if (len < this.headerSize) {
        this.count = Number.POSITIVE_INFINITY; // lost sync: stop waiting on frame counts
        return;
      }
      this.skip = len - this.headerSize;
      if (this.skip === 0) this.count++;
    }
  }
}
