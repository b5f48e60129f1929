/**
 * Synthetic signals and measurements for audio tests (tones, noise, dominant frequency, level).
 * Test support only; nothing in the server imports it.
 */

/** A sum of harmonics of `f0` (amplitudes in `harmonics`, 1st = fundamental), peak ≈ `amp`. */
export function tone(f0: number, sampleRate: number, seconds: number, amp = 0.5, harmonics: readonly number[] = [1]): Float32Array {
  const n = Math.round(seconds * sampleRate);
  const out = new Float32Array(n);
  const norm = harmonics.reduce((a, b) => a + Math.abs(b), 0);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let h = 0; h < harmonics.length; h++) v += harmonics[h]! * Math.sin((2 * Math.PI * f0 * (h + 1) * i) / sampleRate + h);
    out[i] = (amp * v) / norm;
  }
  return out;
}

/** Deterministic white noise, uniform in [−amp, amp] (xorshift32). */
export function whiteNoise(n: number, amp = 0.3, seed = 12345): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = amp * ((s / 0xffffffff) * 2 - 1);
  }
  return out;
}

/** Frequency of the strongest spectral peak (Hann window, parabolic peak interpolation), Hz. */
export function dominantFrequency(samples: Float32Array, sampleRate: number): number {
  const { mags, size } = spectrum(samples);
  let best = 1;
  for (let k = 2; k < mags.length - 1; k++) if (mags[k]! > mags[best]!) best = k;
  const a = Math.log(mags[best - 1]! + 1e-30);
  const b = Math.log(mags[best]! + 1e-30);
  const c = Math.log(mags[best + 1]! + 1e-30);
  const den = a - 2 * b + c;
  const off = den < 0 ? (0.5 * (a - c)) / den : 0;
  return ((best + off) * sampleRate) / size;
}

/** Amplitude of the sinusoid at `freq` (least-squares fit of sin + cos), over the whole signal. */
export function amplitudeAt(samples: Float32Array, sampleRate: number, freq: number): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < samples.length; i++) {
    const ph = (2 * Math.PI * freq * i) / sampleRate;
    s += samples[i]! * Math.sin(ph);
    c += samples[i]! * Math.cos(ph);
  }
  return (2 * Math.hypot(s, c)) / samples.length;
}

/** Root-mean-square level. */
export function rms(samples: Float32Array): number {
  let acc = 0;
  for (const v of samples) acc += v * v;
  return samples.length === 0 ? 0 : Math.sqrt(acc / samples.length);
}

/** Magnitude spectrum of the Hann-windowed signal, zero-padded to a power of two (≤ 2^16 samples used). */
function spectrum(samples: Float32Array): { mags: Float64Array; size: number } {
  const n = Math.min(samples.length, 1 << 16);
  let size = 1;
  while (size < n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = samples[i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  fft(re, im);
  const mags = new Float64Array(size / 2 + 1);
  for (let k = 0; k < mags.length; k++) mags[k] = Math.hypot(re[k]!, im[k]!);
  return { mags, size };
}

/** In-place iterative radix-2 FFT. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}
