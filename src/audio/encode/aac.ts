/**
 * AAC-LC in ADTS frames, through an ffmpeg child process (no usable in-process AAC encoder
 * exists for Node); the process handling is `FfmpegEncoder`'s.
 */
import { type FfmpegCodec, FfmpegEncoder, type FfmpegEncoderOptions, FrameCounter } from './ffmpeg-encoder.js';

/** Bit rate passed to ffmpeg's native AAC encoder. */
export const AAC_BITRATE = '64k';

/** Options of the AAC encoder. */
export type AacEncoderOptions = FfmpegEncoderOptions;

const AAC: FfmpegCodec = {
  format: 'aac',
  outputArgs: ['-c:a', 'aac', '-b:a', AAC_BITRATE, '-f', 'adts'],
  frameSamples: 1024, // AAC frame length
  frameSlack: 2, // encoder delay plus the frame being filled
  counter: () => new FrameCounter(6, adtsFrameLength),
};

export class AacEncoder extends FfmpegEncoder {
  readonly contentType = 'audio/aac';

  constructor(opts: AacEncoderOptions = {}) {
    super(AAC, opts);
  }
}

/** Length of the ADTS frame whose header starts with `h` (header included), 0 if not one. */
export function adtsFrameLength(h: readonly number[]): number {
  if (h[0] !== 0xff || (h[1]! & 0xf0) !== 0xf0) return 0;
  // 13-bit frame length (header included) in bytes 3–5 (ISO/IEC 13818-7, adts_variable_header).
  const len = ((h[3]! & 0x03) << 11) | (h[4]! << 3) | (h[5]! >> 5);
  return len < 7 ? 0 : len;
}
