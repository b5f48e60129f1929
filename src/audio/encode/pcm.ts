/** Raw PCM: signed 16-bit little-endian, mono, 24 kHz, no header (OpenAI's `pcm` / `pcm16`). */
import { floatToS16le } from '../pcm.js';
import { EMPTY, EncoderBase } from './base.js';

export class PcmEncoder extends EncoderBase {
  readonly contentType = 'audio/pcm';

  protected encode(samples: Float32Array): Uint8Array {
    return samples.length === 0 ? EMPTY : floatToS16le(samples);
  }

  protected finish(): Uint8Array {
    return EMPTY;
  }
}
