/**
 * AAC-LC in ADTS frames, through an ffmpeg child process (no usable in-process AAC encoder
 * exists for Node). s16le goes to ffmpeg's stdin; whatever it has written to stdout by the time a
 * `write` returns is passed on, the rest comes with `end`. Failures become ApiErrors whose
 * message says nothing of the process; the details go in `cause`, for the log.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ApiError } from '../../http/errors.js';
import { ffmpegPath } from '../ffmpeg.js';
import { concatBytes, floatToS16le } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE } from '../types.js';
import { EMPTY, EncoderBase } from './base.js';

/** Bit rate passed to ffmpeg's native AAC encoder. */
export const AAC_BITRATE = '64k';
/** Most stderr kept for the error cause. */
const STDERR_LIMIT = 8192;
/** AAC frame length, samples. */
const AAC_FRAME = 1024;
/** Frames ffmpeg may hold back (encoder delay plus the frame being filled). */
const FRAME_SLACK = 2;
/** Longest a streaming `write` waits for ffmpeg to catch up, ms. */
const CATCH_UP_MS = 1000;

/** Options of the AAC encoder. */
export interface AacEncoderOptions {
  /** Wait in `write` until ffmpeg has encoded what was written, so bytes flow with the input. */
  streaming?: boolean;
  /** ffmpeg binary to run instead of `ffmpegPath()` (tests). */
  ffmpeg?: string;
}

type Ffmpeg = ChildProcessByStdio<Writable, Readable, Readable>;

export class AacEncoder extends EncoderBase {
  readonly contentType = 'audio/aac';
  private proc: Ffmpeg | null = null;
  private readonly out: Uint8Array[] = [];
  private stderr = '';
  private failure: unknown = null;
  private exited: Promise<number | null> | null = null;
  private readonly streaming: boolean;
  private readonly binary: string | undefined;
  private samplesIn = 0;
  private readonly frames = new AdtsFrameCounter();
  private wake: (() => void) | null = null;

  constructor(opts: AacEncoderOptions = {}) {
    super();
    this.streaming = opts.streaming ?? false;
    this.binary = opts.ffmpeg;
  }

  protected async encode(samples: Float32Array): Promise<Uint8Array> {
    const proc = this.start();
    if (samples.length > 0) {
      this.samplesIn += samples.length;
      await this.feed(proc, floatToS16le(samples));
      if (this.streaming) await this.catchUp(Math.floor(this.samplesIn / AAC_FRAME) - FRAME_SLACK);
    }
    return this.takeOutput();
  }

  protected async finish(): Promise<Uint8Array> {
    const proc = this.start();
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
    if (this.proc) {
      if (this.failure !== null) throw this.error('ffmpeg failed');
      return this.proc;
    }
    const bin = this.binary ?? ffmpegPath();
    if (!bin) {
      throw ApiError.engineUnavailable(
        "The 'aac' format needs ffmpeg: install it (e.g. `apt-get install ffmpeg`) or `npm install @ffmpeg-installer/ffmpeg`.",
      );
    }
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
    // Tiny probe: the format is given, and probing would hold back the first ~2 s of output.
    args.push('-probesize', '32', '-analyzeduration', '0');
    args.push('-f', 's16le', '-ar', String(OUTPUT_SAMPLE_RATE), '-ac', '1', '-i', 'pipe:0');
    args.push('-c:a', 'aac', '-b:a', AAC_BITRATE, '-flush_packets', '1', '-f', 'adts', 'pipe:1');
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
    if (this.failure !== null) throw this.error('ffmpeg failed');
  }

  /** Wait until ffmpeg has emitted `frames` ADTS frames, it exits, or CATCH_UP_MS pass. */
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

  private error(what: string): ApiError {
    if (this.aborted) return ApiError.cancelled();
    const cause = new Error(`AAC encoding failed: ${what}${this.stderr ? `: ${this.stderr.trim()}` : ''}`, {
      cause: this.failure ?? undefined,
    });
    return ApiError.internal(cause);
  }
}

/** Counts complete ADTS frames in a byte stream that arrives in arbitrary pieces. */
class AdtsFrameCounter {
  /** Complete frames seen. */
  count = 0;
  private skip = 0; // bytes left of the current frame
  private header: number[] = []; // bytes of a header split across chunks

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
      if (this.header.length < 6) continue;
      const h = this.header;
      // 13-bit frame length (header included) in bytes 3–5 (ISO/IEC 13818-7, adts_variable_header).
      const len = ((h[3]! & 0x03) << 11) | (h[4]! << 3) | (h[5]! >> 5);
      this.header = [];
      if (h[0] !== 0xff || (h[1]! & 0xf0) !== 0xf0 || len < 7) {
        this.count = Number.POSITIVE_INFINITY; // lost sync: stop waiting on frame counts
        return;
      }
      this.skip = len - 6;
    }
  }
}
