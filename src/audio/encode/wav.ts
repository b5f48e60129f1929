/**
 * WAV: RIFF/WAVE, 16-bit PCM, mono, 24 kHz, 44-byte canonical header.
 * Streaming writes the header first with RIFF and data sizes of 0xFFFFFFFF ("until the end"),
 * as OpenAI streams WAV; otherwise the audio is held until `end` and the sizes are exact.
 */
import { concatBytes, floatToS16le } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE } from '../types.js';
import { EMPTY, EncoderBase, type EncoderBaseOptions } from './base.js';

/** Size field value meaning "unknown, read to the end of the stream". */
export const WAV_UNKNOWN_SIZE = 0xffffffff;

/** The 44-byte header of a mono 16-bit PCM WAV; `dataBytes` null writes the streaming sizes. */
export function wavHeader(dataBytes: number | null, sampleRate = OUTPUT_SAMPLE_RATE): Uint8Array {
  const h = new Uint8Array(44);
  const v = new DataView(h.buffer);
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < s.length; i++) h[at + i] = s.charCodeAt(i);
  };
  // RIFF sizes are 32-bit: a stream too long for them is marked unknown rather than wrapped.
  const exact = dataBytes !== null && 36 + dataBytes <= 0xffffffff;
  ascii(0, 'RIFF');
  v.setUint32(4, exact ? 36 + dataBytes : WAV_UNKNOWN_SIZE, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // channels
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true); // byte rate
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, exact ? dataBytes : WAV_UNKNOWN_SIZE, true);
  return h;
}

export class WavEncoder extends EncoderBase {
  readonly contentType = 'audio/wav';
  private readonly streaming: boolean;
  private headerSent = false;
  private readonly held: Uint8Array[] = [];

  constructor(opts: EncoderBaseOptions & { streaming?: boolean } = {}) {
    super(opts);
    this.streaming = opts.streaming ?? false;
  }

  protected encode(samples: Float32Array): Uint8Array {
    const data = floatToS16le(samples);
    if (!this.streaming) {
      if (data.length > 0) this.held.push(data);
      return EMPTY;
    }
    if (this.headerSent) return data;
    this.headerSent = true;
    return concatBytes([wavHeader(null), data]);
  }

  protected finish(): Uint8Array {
    if (this.streaming) return this.headerSent ? EMPTY : wavHeader(null);
    const size = this.held.reduce((n, c) => n + c.length, 0);
    return concatBytes([wavHeader(size), ...this.held]);
  }

  protected override release(): void {
    this.held.length = 0;
  }
}
