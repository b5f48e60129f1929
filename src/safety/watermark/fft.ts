/**
 * A radix-2 FFT of a real frame, for the watermark's short-time spectra. One instance per frame
 * length holds the twiddles and the bit-reversal table; `forward`/`inverse` work in place on
 * caller-owned buffers, so a frame costs no allocation. A real frame of length N is transformed as
 * a complex frame of length N/2 (even samples real, odd samples imaginary) and untangled, which
 * halves the work of a plain complex transform.
 */
export class RealFft {
  /** Frame length (a power of two ≥ 8). */
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
    if (size < 8 || (size & (size - 1)) !== 0) throw new Error(`FFT size must be a power of two ≥ 8, got ${size}`);
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
      const a = k === h ? 0 : k;
      const b = k === 0 ? 0 : h - k;
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

  /**
   * In-place iterative complex FFT of bit-reversed input (inverse = conjugate twiddles, unscaled).
   * The first two stages (twiddles 1 and ∓i) are done together without multiplications; later
   * stages go two at a time, reading their twiddles with a stride from one table.
   */
  private complex(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const n = this.half;
    const sign = inverse ? -1 : 1;
    // Stages 1 and 2 as one radix-4 pass: butterflies of length 4 with twiddles 1, −i·sign.
    for (let a = 0; a < n; a += 4) {
      const r0 = re[a]!;
      const i0 = im[a]!;
      const r1 = re[a + 1]!;
      const i1 = im[a + 1]!;
      const r2 = re[a + 2]!;
      const i2 = im[a + 2]!;
      const r3 = re[a + 3]!;
      const i3 = im[a + 3]!;
      const s0r = r0 + r1;
      const s0i = i0 + i1;
      const d0r = r0 - r1;
      const d0i = i0 - i1;
      const s1r = r2 + r3;
      const s1i = i2 + i3;
      const d1r = r2 - r3;
      const d1i = i2 - i3;
      // d1 · (−i·sign): (x + iy)(−i·sign) = sign·(y − ix)
      const tr = sign * d1i;
      const ti = -sign * d1r;
      re[a] = s0r + s1r;
      im[a] = s0i + s1i;
      re[a + 2] = s0r - s1r;
      im[a + 2] = s0i - s1i;
      re[a + 1] = d0r + tr;
      im[a + 1] = d0i + ti;
      re[a + 3] = d0r - tr;
      im[a + 3] = d0i - ti;
    }
    const cos = this.cosH;
    const sin = this.sinH;
    // Then two radix-2 stages per pass (blocks of L → 2L → 4L), one load and store per element for
    // both; a last single stage when the stage count is odd.
    let L = 4;
    for (; 4 * L <= n; L <<= 2) {
      const step1 = n / (2 * L);
      const step2 = n / (4 * L);
      for (let j = 0; j < L; j++) {
        const w1r = cos[j * step1]!;
        const w1i = sign * sin[j * step1]!;
        const w2r = cos[j * step2]!;
        const w2i = sign * sin[j * step2]!;
        for (let a = j; a < n; a += 4 * L) {
          const b = a + L;
          const c = b + L;
          const d = c + L;
          // Stage 1: (a, b) and (c, d) with w1.
          const br = re[b]! * w1r - im[b]! * w1i;
          const bi = re[b]! * w1i + im[b]! * w1r;
          const dr = re[d]! * w1r - im[d]! * w1i;
          const di = re[d]! * w1i + im[d]! * w1r;
          const y0r = re[a]! + br;
          const y0i = im[a]! + bi;
          const y1r = re[a]! - br;
          const y1i = im[a]! - bi;
          const y2r = re[c]! + dr;
          const y2i = im[c]! + di;
          const y3r = re[c]! - dr;
          const y3i = im[c]! - di;
          // Stage 2: (y0, y2) with w2, (y1, y3) with w2 · (−i·sign).
          const t2r = y2r * w2r - y2i * w2i;
          const t2i = y2r * w2i + y2i * w2r;
          const u3r = y3r * w2r - y3i * w2i;
          const u3i = y3r * w2i + y3i * w2r;
          const t3r = sign * u3i;
          const t3i = -sign * u3r;
          re[a] = y0r + t2r;
          im[a] = y0i + t2i;
          re[c] = y0r - t2r;
          im[c] = y0i - t2i;
          re[b] = y1r + t3r;
          im[b] = y1i + t3i;
          re[d] = y1r - t3r;
          im[d] = y1i - t3i;
        }
      }
    }
    if (2 * L <= n) {
      const step = n / (2 * L);
      for (let j = 0; j < L; j++) {
        const wr = cos[j * step]!;
        const wi = sign * sin[j * step]!;
        for (let a = j; a < n; a += 2 * L) {
          const b = a + L;
          const tr = re[b]! * wr - im[b]! * wi;
          const ti = re[b]! * wi + im[b]! * wr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[a] = ar + tr;
          im[a] = ai + ti;
        }
      }
    }
  }
}
