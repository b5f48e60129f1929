/**
 * Input audio → mono floats at the source rate. The bytes decide the format (sniffed from magic
 * numbers); the client's `format` is only a hint that is logged when it disagrees. WAV and MP3 are
 * decoded in process; flac, ogg, webm, mp4/m4a and raw AAC need ffmpeg.
 *
 * Every failure is an ApiError: 400 `audio_too_large` (before any decoding), 400
 * `unsupported_format` for anything undecodable (the reason goes to `cause`, not the message),
 * 400 `audio_too_long`, 499 when aborted, 503 when ffmpeg is missing.
 */
import { ApiError, isApiError } from '../../errors.js';
import { DecodeFailure, TooLongFailure } from './failure.js';
import { decodeWithFfmpeg } from './ffmpeg-decode.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_DURATION_SEC, DEFAULT_TIMEOUT_MS, tooLargeError, tooLongError, unsupportedFormatError } from './limits.js';
import { decodeMp3 } from './mp3.js';
import { sniffContainer } from './sniff.js';
import type { Container, DecodeAudioOptions, DecodedAudio } from './types.js';
import { decodeWav, parseWavHeader } from './wav.js';

export { type DecodeBase64Options, decodeBase64Strict } from './base64.js';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_DURATION_SEC, DEFAULT_TIMEOUT_MS } from './limits.js';
export { sniffContainer } from './sniff.js';
export type { Container, DecodeAudioOptions, DecodedAudio } from './types.js';

/** What each client-side format name means as a container. */
const HINTS: Record<string, Container> = {
  wav: 'wav',
  wave: 'wav',
  mp3: 'mp3',
  mpeg: 'mp3',
  mpga: 'mp3',
  flac: 'flac',
  ogg: 'ogg',
  oga: 'ogg',
  opus: 'ogg',
  webm: 'webm',
  mkv: 'webm',
  mp4: 'mp4',
  m4a: 'mp4',
  aac: 'aac',
};

/** Decode any supported audio file to mono floats at its own sample rate. */
export async function decodeAudio(bytes: Uint8Array, opts: DecodeAudioOptions): Promise<DecodedAudio> {
  const { param } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDurationSec = opts.maxDurationSec ?? DEFAULT_MAX_DURATION_SEC;
  if (bytes.length > maxBytes) throw tooLargeError(param, bytes.length, maxBytes);
  if (opts.signal?.aborted) throw ApiError.cancelled();

  const container = sniffContainer(bytes);
  const hinted = opts.format ? HINTS[opts.format.toLowerCase()] : undefined;
  if (!container) {
    throw unsupportedFormatError(param, new DecodeFailure(`no known container in ${bytes.length} bytes (client said ${opts.format ?? 'nothing'})`));
  }
  if (hinted && hinted !== container) opts.log?.(`audio named ${opts.format} is really ${container}; decoding it as ${container}`);

  try {
    let decoded: { samples: Float32Array; sampleRate: number; channels: number; sourceRate?: number };
    const ffmpegOpts = { maxDurationSec, maxRate: opts.maxRate, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: opts.signal, log: opts.log };
    if (container === 'wav') {
      const layout = parseWavHeader(bytes, 'file')!;
      decoded =
        layout.format.encoding === 'foreign'
          ? await decodeWithFfmpeg(bytes, 'wav', ffmpegOpts)
          : decodeWav(bytes, layout, Math.floor(maxDurationSec * layout.format.sampleRate), maxDurationSec);
    } else if (container === 'mp3') {
      decoded = await decodeMp3(bytes, { maxDurationSec, maxRate: opts.maxRate, signal: opts.signal, log: opts.log });
    } else {
      decoded = await decodeWithFfmpeg(bytes, container, ffmpegOpts);
    }
    const { samples, sampleRate, channels } = decoded;
    const sourceRate = decoded.sourceRate ?? sampleRate;
    return { samples, sampleRate, channels, sourceRate, durationSec: samples.length / sampleRate, container };
  } catch (e) {
    if (isApiError(e)) throw e;
    if (e instanceof TooLongFailure) throw tooLongError(param, e.limitSec);
    // A RangeError can only come from reading past a buffer on input our checks let through: still the input's fault.
    if (e instanceof DecodeFailure || e instanceof RangeError) throw unsupportedFormatError(param, e);
    throw e; // a bug of ours: a 500 with the cause in the log
  }
}
