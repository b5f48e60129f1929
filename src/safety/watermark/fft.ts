/**
 * A radix-2 FFT of a real frame, for the watermark's short-time spectra. One instance per frame
 * length holds the twiddles and the bit-reversal table; `forward`/`inverse` work in place on
 * caller-owned buffers, so a frame costs no allocation. A real frame of length N is transformed as
 * a complex frame of length N/2 (even samples real, odd samples imaginary) and untangled, which
 * halves the work of a plain complex transform.
 */
export class RealFft {
  /** Frame length (a power of two ≥ 4). */
  readonly size: number;
  private readonly half: number;
  private readonly rev: Uint32Array;
  private readonly cosH: Float64Array; // twiddles of the half-length complex FFT
  private readonly sinH: Float64Array;
  private readonly cosN: Float64Array; // untangling twiddles e^{-2πik/N}
  private readonly sinN: Float64Array;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;

  constructor(size: number) {
    if (size < 4 || (size & (size - 1)) !== 0) throw new Error(`FFT size must be a power of two ≥ 4, got ${size}`);
    this.size = size;
    const h = size / 2;
    this.half = h;
    const bits = Math.log2(h);
    this.rev = new Uint32Array(h);
    for (let i = 0; i < h; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.cosH = new Float64Array(h / 2);
    this.sinH = new Float64Array(h / 2);
    for (let i = 0; i < h / 2; i++) {
      this.cosH[i] = Math.cos((2 * Math.PI * i) / h);
      this.sinH[i] = -Math.sin((2 * Math.PI * i) / h);
    }
    this.cosN = new Float64Array(h + 1);
    this.sinN = new Float64Array(h + 1);
    for (let k = 0; k <= h; k++) {
      this.cosN[k] = Math.cos((2 * Math.PI * k) / size);
      this.sinN[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.zr = new Float64Array(h);
    this.zi = new Float64Array(h);
  }

  /** Spectrum of `input` (length N): bins 0…N/2 into `re`/`im` (length ≥ N/2 + 1). */
  forward(input: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const h = this.half;
    const { zr, zi, rev } = this;
    for (let i = 0; i < h; i++) {
      const j = rev[i]!;
      zr[j] = input[2 * i]!;
      zi[j] = input[2 * i + 1]!;
    }
    this.complex(zr, zi, false);
    // Untangle: X[k] = E[k] + W^k O[k], E/O from Z[k] and conj(Z[h−k]).
    for (let k = 0; k <= h; k++) {
      const a = k % h;
      const b = (h - k) % h;
      const er = (zr[a]! + zr[b]!) / 2;
      const ei = (zi[a]! - zi[b]!) / 2;
      const or = (zi[a]! + zi[b]!) / 2;
      const oi = -(zr[a]! - zr[b]!) / 2;
      const c = this.cosN[k]!;
      const s = this.sinN[k]!;
      re[k] = er + (c * or - s * oi);
      im[k] = ei + (c * oi + s * or);
    }
  }

  /** Real frame (length N) from bins 0…N/2 in `re`/`im` (the inverse of {@link forward}, scaled by 1/N). */
  inverse(re: Float64Array, im: Float64Array, output: Float64Array | Float32Array): void {
    const h = this.half;
    const { zr, zi, rev } = this;
    // Re-tangle: Z[k] = E[k] + i·O[k] with E = (X[k] + conj X[h−k])/2, O = (X[k] − conj X[h−k])·W^{−k}/2.
    for (let k = 0; k < h; k++) {
      const xr = re[k]!;
      const xi = im[k]!;
      const yr = re[h - k]!;
      const yi = -im[h - k]!;
      const er = (xr + yr) / 2;
      const ei = (xi + yi) / 2;
      const dr = (xr - yr) / 2;
      const di = (xi - yi) / 2;
      const c = this.cosN[k]!;
      const s = -this.sinN[k]!; // W^{−k}
      const or = dr * c - di * s;
      const oi = dr * s + di * c;
      const j = rev[k]!;
      zr[j] = er - oi;
      zi[j] = ei + or;
    }
    this.complex(zr, zi, true);
    for (let i = 0; i < h; i++) {
      output[2 * i] = zr[i]! / h;
      output[2 * i + 1] = zi[i]! / h;
    }
  }

  /** In-place iterative complex FFT of bit-reversed input (inverse = conjugate twiddles, unscaled). */
  private complex(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const n = this.half;
    const sign = inverse ? -1 : 1;
    for (let len = 2; len <= n; len <<= 1) {
      const halfLen = len >> 1;
      const step = n / len;
      for (let start = 0; start < n; start += len) {
        for (let j = 0; j < halfLen; j++) {
          const wr = this.cosH[j * step]!;
          const wi = sign * this.sinH[j * step]!;
          const a = start + j;
          const b = a + halfLen;
          const tr = re[b]! * wr - im[b]! * wi;
          const ti = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a]! += tr;
          im[a]! += ti;
        }
      }
    }
  }
}
