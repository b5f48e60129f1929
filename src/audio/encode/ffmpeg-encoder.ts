/**
 * Encoding through an ffmpeg child process, shared by every format that uses one (AAC always,
 * MP3 when ffmpeg is there). s16le goes to ffmpeg's stdin; whatever it has written to stdout by
 * the time a `write` returns is passed on, the rest comes with `end`. When streaming, `write`
 * waits (at most CATCH_UP_MS) until ffmpeg has emitted the frames for what was written, counted
 * by a per-format `FrameCounter`, so bytes flow sentence by sentence. Failures become ApiErrors
 * whose message says nothing of the process; the details go in `cause`, for the log.
 *
 * `PreferFfmpegEncoder` picks, on first use, between an ffmpeg encoder and an in-process one:
 * ffmpeg when `ffmpegPath()` finds a binary whose build has the codec's encoder, else in-process.
 */
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ApiError } from '../../errors.js';
import { ffmpegPath } from '../ffmpeg.js';
import { concatBytes, floatToS16le } from '../pcm.js';
import { type AudioEncoder, OUTPUT_SAMPLE_RATE, type OutputFormat } from '../types.js';
import { EMPTY, EncoderBase } from './base.js';

/** Most stderr kept for the error cause. */
const STDERR_LIMIT = 8192;
/** Longest a streaming `write` waits for ffmpeg to catch up, ms. */
const CATCH_UP_MS = 1000;
/** Longest the one-off `ffmpeg -encoders` query may take, ms. */
const PROBE_TIMEOUT_MS = 10_000;

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
export interface FfmpegEncoderOptions {
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
    super();
    this.codec = codec;
    this.streaming = opts.streaming ?? false;
    this.binary = opts.ffmpeg;
    this.frames = codec.counter();
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

const encodersOf = new Map<string, Promise<ReadonlySet<string>>>();

/**
 * Names of the encoders the ffmpeg build at `bin` has (`ffmpeg -encoders`, ~5 ms), asked once
 * per binary and process; empty when the binary does not answer (asked again next time then).
 */
export function ffmpegEncoders(bin: string): Promise<ReadonlySet<string>> {
  let known = encodersOf.get(bin);
  if (!known) {
    known = new Promise((resolve) => {
      execFile(bin, ['-hide_banner', '-nostdin', '-encoders'], { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout) => {
        const names = new Set<string>();
        if (err) encodersOf.delete(bin);
        // Lines look like " A....D libmp3lame           libmp3lame MP3 (MPEG audio layer 3) (codec mp3)".
        else for (const m of stdout.matchAll(/^ [A-Z.]{6,} +(\S+)/gm)) names.add(m[1]!);
        resolve(names);
      });
    });
    encodersOf.set(bin, known);
  }
  return known;
}

/** Options of an encoder that prefers ffmpeg and falls back to an in-process codec. */
export interface PreferFfmpegOptions {
  /** As `createEncoder`'s. */
  streaming?: boolean;
  /** The ffmpeg binary: a path, `undefined` for `ffmpegPath()`, `null` to encode in-process only. */
  ffmpeg?: string | null;
}

/** Which encoder does the work. */
export type EncoderBackend = 'ffmpeg' | 'in-process';

/**
 * Delegates to an ffmpeg encoder when there is an ffmpeg with `ffmpegEncoderName` in its build,
 * else to an in-process encoder; the choice is made on the first `write` or `end`.
 */
export abstract class PreferFfmpegEncoder extends EncoderBase {
  /** ffmpeg's name for the encoder the ffmpeg path needs (e.g. `libmp3lame`). */
  protected abstract readonly ffmpegEncoderName: string;
  protected readonly options: PreferFfmpegOptions;
  private impl: AudioEncoder | null = null;
  private chosen: Promise<AudioEncoder> | null = null;
  private used: EncoderBackend | null = null;

  constructor(opts: PreferFfmpegOptions = {}) {
    super();
    this.options = opts;
  }

  /** The encoder doing the work: null until the first `write` or `end` has chosen it. */
  get backend(): EncoderBackend | null {
    return this.used;
  }

  /** The encoder used when ffmpeg at `bin` can do the work. */
  protected abstract viaFfmpeg(bin: string): AudioEncoder;
  /** The encoder used otherwise. */
  protected abstract inProcess(): AudioEncoder;

  protected async encode(samples: Float32Array): Promise<Uint8Array> {
    return (await this.choose()).write(samples);
  }

  protected async finish(): Promise<Uint8Array> {
    return (await this.choose()).end();
  }

  protected override release(): void {
    this.impl?.abort();
  }

  private choose(): Promise<AudioEncoder> {
    this.chosen ??= (async () => {
      const bin = this.options.ffmpeg === null ? null : (this.options.ffmpeg ?? ffmpegPath());
      const ffmpeg = bin !== null && (await ffmpegEncoders(bin)).has(this.ffmpegEncoderName);
      if (this.aborted) throw ApiError.cancelled();
      this.used = ffmpeg ? 'ffmpeg' : 'in-process';
      this.impl = ffmpeg ? this.viaFfmpeg(bin) : this.inProcess();
      return this.impl;
    })();
    return this.chosen;
  }
}
