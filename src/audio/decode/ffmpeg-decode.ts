/**
 * flac, ogg (vorbis/opus/flac), webm/matroska, mp4/m4a, ADTS aac and exotic WAV codecs through an
 * ffmpeg child process. ffmpeg writes 32-bit float WAV to stdout with the source's own rate and
 * channels; we parse that header ourselves and average the channels as chunks arrive, so
 * memory is the input plus the mono output.
 *
 * Safety: the demuxer is named explicitly (`-f`, from our own sniffing) so ffmpeg never probes
 * its way into playlist or concat formats that open other files or URLs; protocols are limited to
 * pipe and file. The process is killed on timeout, on abort and when the output exceeds the
 * duration cap (a small file can expand to hours). stderr is kept for the log only.
 *
 * mp4/m4a go through a temporary file: their index (`moov`) usually sits after the audio, which
 * ffmpeg can only reach by seeking; from a pipe, files over a few MB fail ("partial file").
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../errors.js';
import { ffmpegPath } from '../ffmpeg.js';
import { DecodeFailure, TooLongFailure } from './failure.js';
import { MonoBuffer } from './mono-buffer.js';
import type { Container } from './types.js';
import { WavStreamDecoder } from './wav.js';

/** ffmpeg demuxer for each container we hand over. */
const DEMUXER: Record<Exclude<Container, 'mp3'>, string> = {
  wav: 'wav',
  flac: 'flac',
  ogg: 'ogg',
  webm: 'matroska',
  mp4: 'mov',
  aac: 'aac',
};
/** Bytes of stderr kept for the log. */
const STDERR_KEEP = 8 * 1024;

export interface FfmpegDecodeOptions {
  maxDurationSec: number;
  /** Resample to this rate inside ffmpeg (keeps long compressed uploads small as floats). */
  maxRate?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface DecodedByFfmpeg {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

export async function decodeWithFfmpeg(bytes: Uint8Array, container: Exclude<Container, 'mp3'>, opts: FfmpegDecodeOptions): Promise<DecodedByFfmpeg> {
  const binary = ffmpegPath();
  if (!binary) {
    throw ApiError.engineUnavailable(
      `Decoding ${container} audio needs ffmpeg: install it (e.g. \`apt-get install ffmpeg\`) or run \`npm ci\` to get @ffmpeg-installer/ffmpeg.`,
    );
  }
  if (opts.signal?.aborted) throw ApiError.cancelled();
  let tempDir: string | null = null;
  let input = 'pipe:0';
  if (container === 'mp4') {
    tempDir = await mkdtemp(join(tmpdir(), 'parley-decode-'));
    input = join(tempDir, 'input.mp4');
    await writeFile(input, bytes);
  }
  try {
    return await run(binary, bytes, DEMUXER[container], input, opts);
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

function run(binary: string, bytes: Uint8Array, demuxer: string, input: string, opts: FfmpegDecodeOptions): Promise<DecodedByFfmpeg> {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-protocol_whitelist',
    'file,pipe',
    '-f',
    demuxer,
    '-i',
    input,
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    ...(opts.maxRate ? ['-ar', String(opts.maxRate)] : []),
    '-c:a',
    'pcm_f32le',
    '-f',
    'wav',
    'pipe:1',
  ];
  // -nostdin only stops ffmpeg reading keys from stdin; with pipe:0 as input stdin still carries the file.
  if (input === 'pipe:0') args.splice(args.indexOf('-nostdin'), 1);

  return new Promise<DecodedByFfmpeg>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const wav = new WavStreamDecoder((format) => new MonoBuffer(0, Math.floor(opts.maxDurationSec * format.sampleRate), opts.maxDurationSec));
    let stderr = '';
    let settled = false;

    const finish = (error: unknown, value?: DecodedByFfmpeg) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (stderr.trim()) opts.log?.(`ffmpeg (${demuxer}): ${stderr.trim()}`);
      if (error) reject(error);
      else resolve(value!);
    };
    const onAbort = () => finish(ApiError.cancelled());
    const timer = setTimeout(() => finish(new DecodeFailure(`ffmpeg did not finish within ${opts.timeoutMs} ms`, { cause: stderr })), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(e.code === 'ENOENT' || e.code === 'EACCES' ? ApiError.engineUnavailable(`ffmpeg could not be started (${binary}).`, e) : e);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_KEEP);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (settled) return;
      try {
        wav.push(chunk);
      } catch (e) {
        finish(e instanceof TooLongFailure || e instanceof DecodeFailure ? e : new DecodeFailure('ffmpeg output unreadable', { cause: e }));
      }
    });
    child.on('close', (code) => {
      if (settled) return;
      const samples = wav.sink ? wav.sink.finish() : new Float32Array(0);
      if (code !== 0 || !wav.format) {
        finish(new DecodeFailure(`ffmpeg exited with ${code}`, { cause: stderr.trim() || undefined }));
      } else if (samples.length === 0 && stderr.trim()) {
        finish(new DecodeFailure('ffmpeg decoded no audio', { cause: stderr.trim() }));
      } else {
        finish(null, { samples, sampleRate: wav.format.sampleRate, channels: wav.format.channels });
      }
    });
    // ffmpeg may exit before reading all input (bad data): ignore EPIPE on stdin.
    child.stdin.on('error', () => {});
    if (input === 'pipe:0') child.stdin.end(bytes);
    else child.stdin.end();
  });
}
