/**
 * Band-limited resampling: a Kaiser-windowed sinc low-pass evaluated in polyphase form.
 *
 * Output sample k sits at input position k · from / to (first samples aligned). With the ratio
 * reduced to L/M (to = L·g, from = M·g), position k·M/L has integer part ⌊k·M/L⌋ and one of L
 * fractional phases, each with its own precomputed filter, so no kernel is evaluated per sample.
 * Odd rate pairs with more than MAX_PHASES phases use the nearest of MAX_PHASES phases
 * (timing error under 1/(2·MAX_PHASES) of an input sample).
 *
 * The cut-off sits at ROLLOFF × the lower Nyquist, so content above the new Nyquist is removed
 * when downsampling and images are removed when upsampling. Inputs outside the signal are zeros.
 *
 * One-shot and streaming share one code path, so the concatenated streaming output equals the
 * one-shot output sample for sample.
 */
import type { PcmAudio } from './types.js';

/** Zero crossings of the sinc kept on each side of the centre (filter length vs. transition width). */
const ZERO_CROSSINGS = 32;
/** Cut-off as a fraction of the lower Nyquist frequency; the transition band ends near Nyquist. */
const ROLLOFF = 0.91;
/** Kaiser β for about 90 dB of stop-band attenuation. */
const KAISER_BETA = 9;
/** Most phases precomputed; rate pairs needing more are approximated to the nearest phase. */
const MAX_PHASES = 1024;

/** Resample mono audio to `toRate` Hz; the result has round(n · toRate / fromRate) samples. */
export function resample(pcm: PcmAudio, toRate: number): PcmAudio {
  if (pcm.sampleRate === toRate) return { samples: pcm.samples.slice(), sampleRate: toRate };
  const r = new StreamingResampler(pcm.sampleRate, toRate);
  const head = r.push(pcm.samples);
  const tail = r.flush();
  const samples = new Float32Array(head.length + tail.length);
  samples.set(head);
  samples.set(tail, head.length);
  return { samples, sampleRate: toRate };
}

/** Number of output samples for `n` input samples: round(n · toRate / fromRate). */
export function resampledLength(n: number, fromRate: number, toRate: number): number {
  const g = gcd(fromRate, toRate);
  return Math.round((n * (toRate / g)) / (fromRate / g));
}

/**
 * A resampler fed chunk by chunk (speech arrives sentence by sentence). `push` returns the
 * output samples that are final already; `flush` ends the stream and returns the rest. The
 * concatenation of everything returned equals `resample()` of the concatenated input.
 */
export class StreamingResampler {
  /** Input rate, Hz. */
  readonly fromRate: number;
  /** Output rate, Hz. */
  readonly toRate: number;
  private readonly up: number; // L
  private readonly down: number; // M
  private readonly phases: number;
  private readonly half: number; // taps on each side: input indices i0 − half + 1 … i0 + half
  private readonly table: Float32Array; // phases × (2·half) taps
  private buf: Float32Array = new Float32Array(0);
  private bufStart = 0; // absolute input index of buf[0]
  private totalIn = 0;
  private nextOut = 0;
  private flushed = false;

  constructor(fromRate: number, toRate: number) {
    if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
      throw new RangeError(`sample rates must be positive integers, got ${fromRate} → ${toRate}`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    this.phases = Math.min(this.up, MAX_PHASES);
    // Cut-off in cycles per input sample.
    const fc = 0.5 * ROLLOFF * Math.min(1, toRate / fromRate);
    this.half = Math.ceil(ZERO_CROSSINGS / (2 * fc));
    this.table = buildTable(this.phases, this.half, fc);
  }

  /** Feed input samples; returns the output samples that no later input can change. */
  push(samples: Float32Array): Float32Array {
    if (this.flushed) throw new Error('StreamingResampler: push after flush');
    if (this.fromRate === this.toRate) {
      this.totalIn += samples.length;
      return samples.slice();
    }
    if (samples.length > 0) {
      const keep = this.buf;
      this.buf = new Float32Array(keep.length + samples.length);
      this.buf.set(keep);
      this.buf.set(samples, keep.length);
      this.totalIn += samples.length;
    }
    // Output k is final once input index ⌊k·M/L⌋ + half exists.
    // Largest usable centre index (one less when phase rounding may move the centre up by one).
    const lastIn = this.totalIn - 1 - this.half - (this.phases === this.up ? 0 : 1);
    const limit = lastIn < 0 ? 0 : Math.floor((lastIn * this.up) / this.down) + 1;
    return this.produce(limit);
  }

  /** End of input: returns the remaining output (the signal is taken as zero after its end). */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    if (this.fromRate === this.toRate) return new Float32Array(0);
    const total = Math.round((this.totalIn * this.up) / this.down);
    const out = this.produce(total);
    this.buf = new Float32Array(0);
    return out;
  }

  /** Compute outputs nextOut … limit−1, then drop input no longer needed. */
  private produce(limit: number): Float32Array {
    const count = Math.max(0, limit - this.nextOut);
    const out = new Float32Array(count);
    const { up, down, half, phases, table, buf, bufStart } = this;
    const taps = 2 * half;
    const bufLen = buf.length;
    for (let o = 0; o < count; o++) {
      const k = this.nextOut + o;
      const pos = k * down;
      let i0 = Math.floor(pos / up);
      let phase = pos - i0 * up;
      if (phases !== up) {
        phase = Math.round((phase * phases) / up);
        if (phase === phases) {
          phase = 0;
          i0++;
        }
      }
      const base = phase * taps;
      const first = i0 - half + 1 - bufStart; // buffer index of tap 0
      let acc = 0;
      if (first >= 0 && first + taps <= bufLen) {
        for (let t = 0; t < taps; t++) acc += table[base + t]! * buf[first + t]!;
      } else {
        // Near either end of the signal: missing inputs are zeros.
        for (let t = 0; t < taps; t++) {
          const j = first + t;
          if (j >= 0 && j < bufLen) acc += table[base + t]! * buf[j]!;
        }
      }
      out[o] = acc;
    }
    this.nextOut += count;
    // Keep input from the first tap of the next output on.
    const nextFirst = Math.floor((this.nextOut * down) / up) - half; // one spare for phase rounding
    const drop = Math.min(bufLen, Math.max(0, nextFirst - bufStart));
    if (drop > 0) {
      this.buf = buf.slice(drop);
      this.bufStart += drop;
    }
    return out;
  }
}

/** Filter taps for each phase p: h(t − p/phases) for t = −half+1 … half, each phase summing to 1. */
function buildTable(phases: number, half: number, fc: number): Float32Array {
  const taps = 2 * half;
  const table = new Float32Array(phases * taps);
  const i0Beta = besselI0(KAISER_BETA);
  const row = new Float64Array(taps);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const x = t - half + 1 - frac; // distance from the output position, input samples
      const u = x / half;
      const win = Math.abs(u) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - u * u)) / i0Beta;
      const arg = 2 * fc * x;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      row[t] = 2 * fc * sinc * win;
      sum += row[t]!;
    }
    // Unity gain at DC for every phase, so a constant stays constant.
    for (let t = 0; t < taps; t++) table[p * taps + t] = row[t]! / sum;
  }
  return table;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
