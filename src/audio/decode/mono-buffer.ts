import { TooLongFailure } from './failure.js';

/**
 * A growing Float32Array for decoded mono samples with a hard cap, so a small file that
 * expands to hours of audio fails early instead of exhausting memory. Decoders that know the
 * exact length allocate it once; the others give an estimate and the buffer doubles from there.
 */
export class MonoBuffer {
  private buf: Float32Array;
  /** Samples written so far. */
  length = 0;

  constructor(
    estimate: number,
    /** Most samples allowed; exceeding it throws TooLongFailure. */
    readonly maxSamples: number,
    /** The cap in seconds, for the error. */
    private readonly limitSec: number,
  ) {
    this.buf = new Float32Array(Math.max(0, Math.min(Math.ceil(estimate), maxSamples)));
  }

  /** Space for `n` more samples; returns the array to write into at `this.length`. */
  reserve(n: number): Float32Array {
    const need = this.length + n;
    if (need > this.maxSamples) throw new TooLongFailure(this.limitSec);
    if (need > this.buf.length) {
      const grown = new Float32Array(Math.min(this.maxSamples, Math.max(need, Math.ceil(this.buf.length * 1.5), 4096)));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    return this.buf;
  }

  /** The samples; copied only when more than a tenth of the allocation would be wasted. */
  finish(): Float32Array {
    const out = this.length >= this.buf.length * 0.9 ? this.buf.subarray(0, this.length) : this.buf.slice(0, this.length);
    this.buf = new Float32Array(0);
    return out;
  }
}
