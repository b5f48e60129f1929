/**
 * MP3 (MPEG-2 Layer III, 24 kHz mono, CBR) in-process with lamejs, loaded on first use.
 * Frames are returned as soon as lamejs completes them (576 samples each at 24 kHz).
 */
import { concatBytes, floatToInt16 } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE } from '../types.js';
import { EMPTY, EncoderBase } from './base.js';

/** Bit rate, kbit/s: plenty for speech at 24 kHz (MPEG-2 allows 8–160). */
export const MP3_KBPS = 64;
/** Samples handed to lamejs per call; its output buffer is sized for about this much. */
const CHUNK = 1152;

interface Lame {
  encodeBuffer(left: Int16Array): Uint8Array;
  flush(): Uint8Array;
}

export class Mp3Encoder extends EncoderBase {
  readonly contentType = 'audio/mpeg';
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
