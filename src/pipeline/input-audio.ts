import { type DecodedAudio, decodeAudio } from '../audio/decode/index.js';
import type { Limiter } from '../lib/limiter.js';
import { RECOGNITION_RATE } from './transcribe.js';

/** What to decode and within which bounds. */
export interface InputAudioOptions {
  /** The field the bytes came from, for errors (`file`, `audio`, `messages[0].content[1].input_audio.data`). */
  param: string;
  /** The format the client named (a hint; the bytes decide). */
  format?: string;
  /** Largest accepted input, bytes. */
  maxBytes?: number;
  /** Longest accepted decoded audio, seconds. */
  maxDurationSec?: number;
  signal?: AbortSignal;
}

/**
 * Decodes uploaded audio for understanding: mono, at most 16 kHz (compressed input is resampled
 * while it decodes, so memory stays a few times the upload), as one `decode` job of the engine
 * limiter — decoding a long file is engine-sized work and waits its turn like any other.
 */
export function decodeForRecognition(limiter: Limiter, bytes: Uint8Array, options: InputAudioOptions): Promise<DecodedAudio> {
  return limiter.run('decode', () => decodeAudio(bytes, { ...options, maxRate: RECOGNITION_RATE }), { signal: options.signal });
}
