/** Mono PCM audio as floats in [-1, 1] at a given sample rate: the currency between engines. */
export interface PcmAudio {
  /** Samples, mono, nominally in [-1, 1]. */
  samples: Float32Array;
  /** Samples per second. */
  sampleRate: number;
}

/** The audio formats Parley can produce (OpenAI's `response_format` for speech; `pcm16` is chat's name for `pcm`). */
export type OutputFormat = 'wav' | 'pcm' | 'mp3' | 'opus' | 'flac' | 'aac';

/** Output sample rate of every format, as OpenAI's (24 kHz mono 16-bit). */
export const OUTPUT_SAMPLE_RATE = 24_000;

/**
 * A streaming encoder: PCM in (always OUTPUT_SAMPLE_RATE mono), encoded bytes out.
 * `write` may return bytes ready now (possibly empty); `end` flushes the rest.
 * An encoder is used by one response only and then dropped.
 */
export interface AudioEncoder {
  /** The MIME type for the Content-Type header. */
  readonly contentType: string;
  /** Encode more samples; returns whatever encoded bytes are ready. */
  write(samples: Float32Array): Promise<Uint8Array>;
  /** Flush and finish the stream; returns the last bytes. */
  end(): Promise<Uint8Array>;
  /** Release resources early (client went away). Safe to call more than once. */
  abort(): void;
}
