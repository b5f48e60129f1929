/**
 * MP3 (MPEG-2 Layer III, 24 kHz mono, CBR 64 kbit/s). `Mp3Encoder` runs LAME natively through an
 * ffmpeg child process when there is an ffmpeg built with libmp3lame (several times faster end
 * to end, spawn included), else lamejs in-process (pure JS, loaded on first use). Both write bare
 * frames (576 samples each at 24 kHz): no ID3 tag, no Xing/LAME header.
 */
import { concatBytes, floatToInt16 } from '../pcm.js';
import { type AudioEncoder, OUTPUT_SAMPLE_RATE } from '../types.js';
import { EMPTY, EncoderBase } from './base.js';
import { type FfmpegCodec, FfmpegEncoder, type FfmpegEncoderOptions, FrameCounter, PreferFfmpegEncoder, type PreferFfmpegOptions } from './ffmpeg-encoder.js';

/** Bit rate, kbit/s: plenty for speech at 24 kHz (MPEG-2 allows 8–160). */
export const MP3_KBPS = 64;
/** Samples per MPEG-2 Layer III frame. */
const FRAME = 576;
/** Samples handed to lamejs per call; its output buffer is sized for about this much. */
const CHUNK = 1152;
const CONTENT_TYPE = 'audio/mpeg';

/** Options of the MP3 encoder. */
export type Mp3EncoderOptions = PreferFfmpegOptions;

/** MP3 through ffmpeg when it has libmp3lame, else lamejs in-process; see `backend`. */
export class Mp3Encoder extends PreferFfmpegEncoder {
  readonly contentType = CONTENT_TYPE;
  protected readonly ffmpegEncoderName = 'libmp3lame';

  constructor(opts: Mp3EncoderOptions = {}) {
    super(opts);
  }

  protected viaFfmpeg(bin: string): AudioEncoder {
    return new FfmpegMp3Encoder({ streaming: this.options.streaming, ffmpeg: bin });
  }

  protected inProcess(): AudioEncoder {
    return new LameMp3Encoder();
  }
}

const MP3: FfmpegCodec = {
  format: 'mp3',
  // No Xing header (ffmpeg cannot go back to fill it in on a pipe) and no ID3v2 tag: bare
  // frames, as lamejs writes them.
  outputArgs: ['-c:a', 'libmp3lame', '-b:a', `${MP3_KBPS}k`, '-write_xing', '0', '-id3v2_version', '0', '-f', 'mp3'],
  frameSamples: FRAME,
  // Measured: with ffmpeg caught up, up to 5 frames are still missing (ffmpeg reads its input in
  // 1024-sample blocks, LAME delays by 576 + 528 samples and holds back a frame for its reservoir).
  frameSlack: 5,
  counter: () => new FrameCounter(4, mpegAudioFrameLength),
};

/** MP3 through ffmpeg's libmp3lame. */
export class FfmpegMp3Encoder extends FfmpegEncoder {
  readonly contentType = CONTENT_TYPE;

  constructor(opts: FfmpegEncoderOptions = {}) {
    super(MP3, opts);
  }
}

interface Lame {
  encodeBuffer(left: Int16Array): Uint8Array;
  flush(): Uint8Array;
}

/** MP3 in-process with lamejs. Frames are returned as soon as lamejs completes them. */
export class LameMp3Encoder extends EncoderBase {
  readonly contentType = CONTENT_TYPE;
  private lame: Lame | null = null;

  protected async encode(samples: Float32Array): Promise<Uint8Array> {
    if (samples.length === 0) return EMPTY;
    const lame = await this.load();
    const pcm = floatToInt16(samples);
    const out: Uint8Array[] = [];
    for (let at = 0; at < pcm.length; at += CHUNK) {
      const bytes = lame.encodeBuffer(pcm.subarray(at, at + CHUNK));
      // lamejs may return a view of its internal buffer: copy before the next call reuses it.
      if (bytes.length > 0) out.push(bytes.slice());
    }
    return out.length === 1 ? out[0]! : concatBytes(out);
  }

  protected async finish(): Promise<Uint8Array> {
    const lame = await this.load();
    return lame.flush().slice();
  }

  protected override release(): void {
    this.lame = null;
  }

  private async load(): Promise<Lame> {
    if (!this.lame) {
      const { Mp3Encoder: Lamejs } = await import('@breezystack/lamejs');
      this.lame ??= new Lamejs(1, OUTPUT_SAMPLE_RATE, MP3_KBPS);
    }
    return this.lame;
  }
}

/** kbit/s by bitrate index, Layer III: MPEG-1, then MPEG-2 and 2.5 (ISO/IEC 11172-3, 13818-3). */
const L3_KBPS = [
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
] as const;
/** Sample rates by index: MPEG-1, MPEG-2; MPEG-2.5 is MPEG-2's halved. */
const RATES = [
  [44_100, 48_000, 32_000],
  [22_050, 24_000, 16_000],
] as const;

/** Length of the Layer III frame whose 4-byte header is `h` (header included), 0 if not one. */
export function mpegAudioFrameLength(h: readonly number[]): number {
  if (h[0] !== 0xff || (h[1]! & 0xe0) !== 0xe0) return 0;
  const version = (h[1]! >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
  const layer = (h[1]! >> 1) & 3; // 1: Layer III
  const bitrateIndex = h[2]! >> 4;
  const rateIndex = (h[2]! >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const mpeg1 = version === 3;
  const kbps = L3_KBPS[mpeg1 ? 0 : 1][bitrateIndex]!;
  const rate = RATES[mpeg1 ? 0 : 1][rateIndex]! / (version === 0 ? 2 : 1);
  const padding = (h[2]! >> 1) & 1;
  return Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / rate) + padding;
}
