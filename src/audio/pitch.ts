/**
 * Fundamental-frequency (f0) tracking with YIN (de Cheveigné & Kawahara, JASA 2002,
 * "YIN, a fundamental frequency estimator for speech and music"), written here from the paper.
 *
 * Speed: speech f0 lies well below 1 kHz, so the signal is first low-passed and decimated to
 * about 8 kHz, where the O(window · maxLag) difference function is ~9× cheaper than at 24 kHz.
 * The lag found there is then refined on the full-rate signal over a few lags only, so precision
 * is that of the original rate.
 */
import type { PcmAudio } from './types.js';

/** Options of the pitch tracker; every field has a default suited to speech. */
export interface PitchTrackOptions {
  /** Lowest f0 searched, Hz (default 60). */
  minHz?: number;
  /** Highest f0 searched, Hz (default 400). */
  maxHz?: number;
  /** Integration window of the difference function, ms (default 30). */
  frameMs?: number;
  /** Step between successive estimates, ms (default 10). */
  hopMs?: number;
  /** YIN absolute threshold: the first dip of the normalised difference below it wins (default 0.15). */
  threshold?: number;
  /** A frame whose best normalised difference is above this is unvoiced (default 0.3). */
  voicingThreshold?: number;
  /** Frames quieter than this RMS level in dBFS are silent, hence unvoiced (default -55). */
  silenceDb?: number;
  /** Voiced runs shorter than this many frames are dropped as spurious (default 3). */
  minVoicedFrames?: number;
}

/** A pitch track with the per-frame details a voice analyser may want. */
export interface PitchTrack {
  /** f0 in Hz per frame, 0 where unvoiced or silent. */
  f0: Float32Array;
  /** Periodicity per frame in [0, 1]: 1 − the YIN aperiodicity at the chosen lag (0 when silent). */
  periodicity: Float32Array;
  /** Frame RMS level per frame, linear. */
  rms: Float32Array;
  /** Seconds between frames. */
  hopSeconds: number;
  /** Time of frame 0's centre, seconds; frame i is centred at offsetSeconds + i · hopSeconds. */
  offsetSeconds: number;
}

/** Statistics of f0 over the voiced frames of a clip, Hz. */
export interface PitchRange {
  /** Lowest voiced f0. */
  min: number;
  /** Highest voiced f0. */
  max: number;
  /** Median voiced f0. */
  median: number;
  /** 10th percentile of voiced f0. */
  p10: number;
  /** 90th percentile of voiced f0. */
  p90: number;
}

const DEFAULTS: Required<PitchTrackOptions> = {
  minHz: 60,
  maxHz: 400,
  frameMs: 30,
  hopMs: 10,
  threshold: 0.15,
  voicingThreshold: 0.3,
  silenceDb: -55,
  minVoicedFrames: 3,
};

/** f0 per hop in Hz, 0 where unvoiced or silent. */
export function trackPitch(pcm: PcmAudio, opts?: PitchTrackOptions): Float32Array {
  return trackPitchDetailed(pcm, opts).f0;
}

/** Median f0 over voiced frames, or null when the clip has (almost) no voiced speech. */
export function medianPitch(pcm: PcmAudio, opts?: PitchTrackOptions): number | null {
  return pitchRange(pcm, opts)?.median ?? null;
}

/** f0 statistics over voiced frames, or null when the clip has (almost) no voiced speech. */
export function pitchRange(pcm: PcmAudio, opts?: PitchTrackOptions): PitchRange | null {
  const o = { ...DEFAULTS, ...opts };
  const track = trackPitchDetailed(pcm, opts);
  const silence = dbToLinear(o.silenceDb);
  let active = 0;
  const voiced: number[] = [];
  for (let i = 0; i < track.f0.length; i++) {
    if ((track.rms[i] ?? 0) >= silence) active++;
    const f = track.f0[i] ?? 0;
    if (f > 0) voiced.push(f);
  }
  // Demand a few voiced frames and a fair share of the non-silent ones, so that noise or
  // whisper with a stray periodic-looking frame does not yield a "pitch".
  if (voiced.length < Math.max(3, o.minVoicedFrames) || voiced.length < 0.1 * active) return null;
  voiced.sort((a, b) => a - b);
  return {
    min: voiced[0]!,
    max: voiced[voiced.length - 1]!,
    median: percentile(voiced, 0.5),
    p10: percentile(voiced, 0.1),
    p90: percentile(voiced, 0.9),
  };
}

/** The full pitch track: f0, periodicity and level per frame, with the frame timing. */
export function trackPitchDetailed(pcm: PcmAudio, opts?: PitchTrackOptions): PitchTrack {
  const o = { ...DEFAULTS, ...opts };
  const sr = pcm.sampleRate;
  if (!(sr > 0)) throw new RangeError(`sampleRate must be positive, got ${sr}`);
  if (!(o.minHz > 0 && o.maxHz > o.minHz)) throw new RangeError('need 0 < minHz < maxHz');
  if (!(o.hopMs > 0 && o.frameMs > 0)) throw new RangeError('frameMs and hopMs must be positive');

  // Decimate to about 8 kHz (but keep at least 6 samples per period of maxHz).
  const factor = Math.max(1, Math.floor(sr / Math.max(8000, 6 * o.maxHz)));
  const x = factor > 1 ? decimate(pcm.samples, factor) : pcm.samples;
  const srD = sr / factor;

  const w = Math.max(2, Math.round((o.frameMs / 1000) * srD));
  const tauMin = Math.max(2, Math.floor(srD / o.maxHz));
  const tauMax = Math.max(tauMin + 1, Math.ceil(srD / o.minHz));
  const span = w + tauMax + 1; // samples one analysis needs (lags up to tauMax, plus one for interpolation)
  const hopSec = o.hopMs / 1000;
  const frames = x.length >= span ? 1 + Math.floor((x.length - span) / (hopSec * srD) + 1e-9) : 0;

  const f0 = new Float32Array(frames);
  const periodicity = new Float32Array(frames);
  const rms = new Float32Array(frames);
  if (frames === 0) return { f0, periodicity, rms, hopSeconds: hopSec, offsetSeconds: 0 };

  // Prefix sums of squares give every window energy in O(1).
  const sq = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) sq[i + 1] = sq[i]! + x[i]! * x[i]!;
  const energy = (start: number, len: number): number => sq[start + len]! - sq[start]!;

  const silence = dbToLinear(o.silenceDb);
  const d = new Float64Array(tauMax + 2);
  const cmnd = new Float64Array(tauMax + 2);

  for (let f = 0; f < frames; f++) {
    const s = Math.round(f * hopSec * srD);
    const e0 = energy(s, w);
    const level = Math.sqrt(e0 / w);
    rms[f] = level;
    if (level < silence) continue;

    // Difference function d(τ) = e(s) + e(s+τ) − 2·r(τ) (eq. 7), and its cumulative-mean
    // normalisation d'(τ) = d(τ)·τ / Σ_{j≤τ} d(j) (eq. 8).
    let running = 0;
    cmnd[0] = 1;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      let r = 0;
      const b = s + tau;
      for (let j = 0; j < w; j++) r += x[s + j]! * x[b + j]!;
      const v = Math.max(0, e0 + energy(b, w) - 2 * r);
      d[tau] = v;
      running += v;
      cmnd[tau] = running > 0 ? (v * tau) / running : 1;
    }

    // Absolute threshold (step 4): the first dip below the threshold, followed down to its
    // minimum; failing that, the global minimum.
    let best = -1;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (cmnd[tau]! < o.threshold) {
        while (tau + 1 <= tauMax && cmnd[tau + 1]! < cmnd[tau]!) tau++;
        best = tau;
        break;
      }
    }
    if (best < 0) {
      best = tauMin;
      for (let tau = tauMin + 1; tau <= tauMax; tau++) if (cmnd[tau]! < cmnd[best]!) best = tau;
    }
    const aperiodicity = cmnd[best]!;
    periodicity[f] = Math.max(0, Math.min(1, 1 - aperiodicity));
    if (aperiodicity > o.voicingThreshold) continue;

    // Parabolic interpolation (step 5), then refinement at the full rate.
    let lag = best + parabolicOffset(cmnd[best - 1]!, cmnd[best]!, cmnd[best + 1]!);
    if (factor > 1) lag = refineLag(pcm.samples, Math.round(s * factor), w * factor, lag * factor, factor) / factor;
    const hz = srD / lag;
    if (hz >= o.minHz * 0.97 && hz <= o.maxHz * 1.03) f0[f] = hz;
  }

  dropShortRuns(f0, o.minVoicedFrames);
  // The frame's window [s, s + w + lag] is centred at roughly s + (w + lag) / 2; report the
  // centre of the typical span.
  const offsetSeconds = (w + tauMax / 2) / 2 / srD;
  return { f0, periodicity, rms, hopSeconds: hopSec, offsetSeconds };
}

/** Minimum of the full-rate difference function near `approx` (in full-rate samples). */
function refineLag(x: Float32Array, start: number, w: number, approx: number, radius: number): number {
  const lo = Math.max(1, Math.floor(approx) - radius);
  const hi = Math.ceil(approx) + radius;
  if (start + hi + 1 + w > x.length) return approx;
  const n = hi - lo + 1;
  const d = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const b = start + lo + k;
    let acc = 0;
    for (let j = 0; j < w; j++) {
      const diff = x[start + j]! - x[b + j]!;
      acc += diff * diff;
    }
    d[k] = acc;
  }
  let m = 0;
  for (let k = 1; k < n; k++) if (d[k]! < d[m]!) m = k;
  // A minimum on the edge means the coarse estimate was off; trust it rather than the edge.
  if (m === 0 || m === n - 1) return approx;
  return lo + m + parabolicOffset(d[m - 1]!, d[m]!, d[m + 1]!);
}

/** Offset in (−0.5, 0.5) of the vertex of the parabola through three equally spaced points. */
function parabolicOffset(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  if (!(den > 0)) return 0;
  const off = (0.5 * (a - c)) / den;
  return Math.max(-0.5, Math.min(0.5, off));
}

/** Low-pass (windowed sinc, Blackman) and keep every `factor`-th sample. */
function decimate(x: Float32Array, factor: number): Float32Array {
  const half = 8 * factor;
  const taps = new Float64Array(2 * half + 1);
  const fc = 0.45 / factor; // cutoff as a fraction of the input rate, below the new Nyquist (0.5/factor)
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const sinc = k === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * k) / (Math.PI * k);
    const t = (k + half) / (2 * half);
    const win = 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
    taps[k + half] = sinc * win;
    sum += sinc * win;
  }
  for (let k = 0; k < taps.length; k++) taps[k]! /= sum;

  const n = Math.floor(x.length / factor);
  const y = new Float32Array(n);
  for (let m = 0; m < n; m++) {
    const c = m * factor;
    let acc = 0;
    const k0 = Math.max(-half, -c);
    const k1 = Math.min(half, x.length - 1 - c);
    for (let k = k0; k <= k1; k++) acc += taps[k + half]! * x[c + k]!;
    y[m] = acc;
  }
  return y;
}

/** Zero voiced runs shorter than `minRun` frames. */
function dropShortRuns(f0: Float32Array, minRun: number): void {
  if (minRun <= 1) return;
  let i = 0;
  while (i < f0.length) {
    if (f0[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < f0.length && f0[j] !== 0) j++;
    if (j - i < minRun) f0.fill(0, i, j);
    i = j;
  }
}

/** Linear-interpolated percentile of an ascending array, q in [0, 1]. */
function percentile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function dbToLinear(db: number): number {
  return 10 ** (db / 20);
}
