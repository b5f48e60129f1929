/**
 * Output encoders, one per OpenAI `response_format`. Input is always mono float PCM at
 * OUTPUT_SAMPLE_RATE (24 kHz); resample before encoding.
 */
import { concatBytes } from '../pcm.js';
import type { AudioEncoder, OutputFormat } from '../types.js';
import { AacEncoder } from './aac.js';
import { FlacEncoder } from './flac.js';
import { Mp3Encoder } from './mp3.js';
import { OpusEncoder } from './opus.js';
import { PcmEncoder } from './pcm.js';
import { WavEncoder } from './wav.js';

/** Options of `createEncoder`. */
export interface EncoderOptions {
  /**
   * The bytes go to the client as they are produced (chunked response). WAV then writes its
   * header first with 0xFFFFFFFF sizes; without it WAV holds everything until `end` so its
   * header is exact. FLAC always holds everything until `end` (a complete STREAMINFO: it is the
   * archiving format). Other formats are unaffected, except that Ogg pages are closed at the end
   * of every `write` rather than when full, and AAC's `write` waits for ffmpeg to catch up.
   */
  streaming?: boolean;
  /**
   * Aborts the encoder when it fires (as `abort()`): pass the request's signal so that a child
   * process (AAC's ffmpeg) ends at once even if the owner never gets to call `abort` itself.
   */
  signal?: AbortSignal;
}

/** Content-Type of each format, as OpenAI sends them. */
export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

/** Every output format. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'];

/** A fresh encoder for one response. Heavy codecs (LAME, libFLAC, libopus, ffmpeg) load on first write. */
export function createEncoder(format: OutputFormat, opts: EncoderOptions = {}): AudioEncoder {
  switch (format) {
    case 'wav':
      return new WavEncoder(opts);
    case 'pcm':
      return new PcmEncoder(opts);
    case 'mp3':
      return new Mp3Encoder(opts);
    case 'opus':
      return new OpusEncoder(opts);
    case 'flac':
      return new FlacEncoder(opts);
    case 'aac':
      return new AacEncoder(opts);
    default: {
      const never: never = format;
      throw new RangeError(`unknown output format: ${String(never)}`);
    }
  }
}

/** Encode a whole clip (mono, 24 kHz) to a complete file of `format`. */
export async function encodeAll(format: OutputFormat, samples: Float32Array): Promise<Uint8Array> {
  const enc = createEncoder(format);
  try {
    const head = await enc.write(samples);
    const tail = await enc.end();
    return concatBytes([head, tail]);
  } catch (e) {
    enc.abort();
    throw e;
  }
}
