/**
 * The watermark itself: a keyed spread-spectrum mark on the short-time log-magnitude spectrum.
 *
 * Embedding: the audio (24 kHz) is cut into frames of {@link FRAME} samples every {@link HOP}
 * (sqrt-Hann analysis and synthesis windows, which overlap-add to the identity). Every cell (frame,
 * bin) of the 300–4000 Hz band gets its magnitude multiplied by e^{±strength}: the sign is a keyed
 * chip, times one payload bit for half the cells (the "payload" cells) and alone for the other half
 * (the "sync" cells). The pattern repeats every {@link BLOCK} frames (1.37 s), anchored at sample 0
 * of the speech, so any stretch of a few seconds holds every cell of it twice or more. The phase is
 * kept, and the gain follows the speech's own spectrum: the mark is loudest where the voice is and
 * absent in silence.
 *
 * Detection: the clip is resampled to 24 kHz and analysed at 4 frame offsets (a quarter hop apart,
 * so any crop is within 1/8 hop of one of them); each cell's log magnitude minus the mean of its
 * neighbours in time (which removes the voice's slow spectral envelope, the gain and the codec's
 * fixed colouring) is correlated with the sync chips at each of the {@link BLOCK} block phases.
 * The correlation is self-normalised — Σ c·F / √Σ F² — so on unmarked audio it is close to a
 * standard normal whatever the audio is; the best of the 4 × 32 trials is the score. The payload
 * bits are then read at the best alignment as soft values (the same normalised correlation over
 * each bit's cells).
 */
import crypto from 'node:crypto';
import { resample } from '../../audio/resample.js';
import { RealFft } from './fft.js';

/** The sample rate the mark lives at (Parley's output rate). */
export const MARK_RATE = 24_000;
/** Frame length, samples (85 ms). */
export const FRAME = 2048;
/** Hop, samples (43 ms). */
export const HOP = FRAME / 2;
/** Frames per repetition of the pattern (1.37 s). */
export const BLOCK = 32;
/** Payload bits (a truncated HMAC of the response id). */
export const PAYLOAD_BITS = 64;
/** Lowest and highest marked bin: 300 Hz and 4000 Hz (kept by 16 kHz resampling and speech codecs). */
const BIN_LO = Math.ceil((300 * FRAME) / MARK_RATE);
const BIN_HI = Math.floor((4000 * FRAME) / MARK_RATE);
const BINS = BIN_HI - BIN_LO + 1;
/** Frame offsets tried by the detector. */
const OFFSETS = [0, HOP / 4, HOP / 2, (3 * HOP) / 4];
/** Frames whose band energy is this far below the loudest frame are left out of detection (silence, codec noise). */
const FLOOR_DB = 45;
/** Windowed frame energy below which a frame is left unmarked (≈ −75 dBFS: silence between words and sentences). */
const SILENT_FRAME = 1e-4;
/** Default strength: ±0.1 neper (±0.87 dB) per cell. */
export const DEFAULT_STRENGTH = 0.1;

/** The keyed layout: per block frame and band bin, a chip (±1) and a role (−1 = sync, else the payload bit index). */
export interface MarkPattern {
  chip: Int8Array; // BLOCK × BINS
  role: Int16Array; // BLOCK × BINS
}

/** The pattern a key spreads the mark with (deterministic for the key). */
export function markPattern(key: Uint8Array): MarkPattern {
  const n = BLOCK * BINS;
  // Enough keyed bytes: HMAC-SHA256 in counter mode.
  const bytes = new Uint8Array(n * 4);
  for (let i = 0, filled = 0; filled < bytes.length; i++) {
    const block = crypto.createHmac('sha256', key).update(`parley-watermark-v1 pattern ${i}`).digest();
    bytes.set(block.subarray(0, Math.min(block.length, bytes.length - filled)), filled);
    filled += block.length;
  }
  const chip = new Int8Array(n);
  const role = new Int16Array(n);
  // Half the cells sync, half payload, in a keyed order; payload cells go round the bits so each gets the same share.
  const order = Array.from({ length: n }, (_, i) => i);
  const view = new DataView(bytes.buffer);
  for (let i = n - 1; i > 0; i--) {
    const j = view.getUint32(i * 4) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let r = 0; r < n; r++) {
    const cell = order[r]!;
    role[cell] = r % 2 === 0 ? -1 : ((r - 1) / 2) % PAYLOAD_BITS;
    chip[cell] = bytes[cell * 4]! & 1 ? 1 : -1;
  }
  return { chip, role };
}

/** The payload of a response: the first {@link PAYLOAD_BITS} bits of HMAC-SHA256(key, response id), as hex. */
export function responseTag(key: Uint8Array, responseId: string): string {
  return crypto
    .createHmac('sha256', key)
    .update(`parley-watermark-v1 tag ${responseId}`)
    .digest()
    .subarray(0, PAYLOAD_BITS / 8)
    .toString('hex');
}

function tagBits(tag: string): Int8Array {
  const bytes = Buffer.from(tag, 'hex');
  if (bytes.length * 8 !== PAYLOAD_BITS) throw new Error(`a tag has ${PAYLOAD_BITS / 4} hex digits`);
  const out = new Int8Array(PAYLOAD_BITS);
  for (let i = 0; i < PAYLOAD_BITS; i++) out[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1 ? 1 : -1;
  return out;
}

/** Periodic Hann's square root: analysis × synthesis = Hann, which overlap-adds to 1 at 50 % hop. */
const WINDOW = (() => {
  const w = new Float64Array(FRAME);
  for (let i = 0; i < FRAME; i++) w[i] = Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME));
  return w;
})();

/**
 * Marks speech as it is made, passage by passage (the speaking path's `transform`): each call gets
 * the next samples of one speech at 24 kHz and returns them marked, same length. The frame grid and
 * the pattern's phase are anchored at the speech's first sample, so passages join without a seam in
 * the pattern. Frames that straddle a passage's edge see zeros beyond it (passages begin and end in
 * the voice's own silence, where the mark is absent anyway).
 */
export class MarkEmbedder {
  private position = 0;
  private readonly gains: Float64Array; // BLOCK × BINS: e^{strength · sign}
  private readonly fft = new RealFft(FRAME);
  private readonly re = new Float64Array(FRAME / 2 + 1);
  private readonly im = new Float64Array(FRAME / 2 + 1);
  private readonly frame = new Float64Array(FRAME);

  constructor(pattern: MarkPattern, tag: string, strength = DEFAULT_STRENGTH) {
    const bits = tagBits(tag);
    this.gains = new Float64Array(BLOCK * BINS);
    for (let i = 0; i < this.gains.length; i++) {
      const role = pattern.role[i]!;
      const sign = pattern.chip[i]! * (role < 0 ? 1 : bits[role]!);
      this.gains[i] = Math.exp(strength * sign);
    }
  }

  /** The next samples of the speech, marked (a new array of the same length). */
  mark(samples: Float32Array): Float32Array {
    const start = this.position;
    const end = start + samples.length;
    this.position = end;
    const out = new Float64Array(samples.length);
    const { re, im, frame, fft } = this;
    // Frames j cover [j·HOP, j·HOP + FRAME); every one that overlaps this passage (j = −1 covers the first half-frame).
    const first = Math.floor((start - FRAME) / HOP) + 1;
    const last = Math.floor((end - 1) / HOP);
    for (let j = first; j <= last; j++) {
      const at = j * HOP;
      // The part of the frame inside this passage (the rest is zeros).
      const from = Math.max(0, start - at);
      const to = Math.min(FRAME, end - at);
      frame.fill(0);
      let energy = 0;
      for (let i = from; i < to; i++) {
        const v = samples[at + i - start]! * WINDOW[i]!;
        frame[i] = v;
        energy += v * v;
      }
      if (energy < SILENT_FRAME) {
        // Silence (or nearly): passed through unmarked, saving two transforms.
        for (let i = from; i < to; i++) out[at + i - start]! += frame[i]! * WINDOW[i]!;
        continue;
      }
      fft.forward(frame, re, im);
      const row = (((j % BLOCK) + BLOCK) % BLOCK) * BINS;
      for (let b = 0; b < BINS; b++) {
        const g = this.gains[row + b]!;
        re[BIN_LO + b]! *= g;
        im[BIN_LO + b]! *= g;
      }
      fft.inverse(re, im, frame);
      for (let i = from; i < to; i++) out[at + i - start]! += frame[i]! * WINDOW[i]!;
    }
    return Float32Array.from(out);
  }
}

/** What the detector found in a clip. */
export interface MarkDetection {
  /** The best sync correlation, in standard deviations of unmarked audio (≈ N(0,1) per trial). */
  score: number;
  /** Block frames × offsets tried (the look-elsewhere factor of `score`). */
  trials: number;
  /** Frames with enough signal to be read (0 = silence: nothing can be said). */
  frames: number;
  /** Soft payload bits at the best alignment (normalised correlations; > 0 means 1). */
  bits: Float64Array;
}

/** Log magnitudes of the band, per frame, at one frame offset; and each frame's band energy. */
function bandSpectra(samples: Float32Array, offset: number): { logMag: Float64Array[]; energy: Float64Array } {
  const fft = new RealFft(FRAME);
  const re = new Float64Array(FRAME / 2 + 1);
  const im = new Float64Array(FRAME / 2 + 1);
  const frame = new Float64Array(FRAME);
  const count = Math.max(0, Math.floor((samples.length - offset - FRAME) / HOP) + 1);
  const logMag: Float64Array[] = [];
  const energy = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    const at = offset + f * HOP;
    for (let i = 0; i < FRAME; i++) frame[i] = samples[at + i]! * WINDOW[i]!;
    fft.forward(frame, re, im);
    const row = new Float64Array(BINS);
    let e = 0;
    for (let b = 0; b < BINS; b++) {
      const p = re[BIN_LO + b]! ** 2 + im[BIN_LO + b]! ** 2;
      e += p;
      row[b] = 0.5 * Math.log(p + 1e-20);
    }
    energy[f] = e;
    logMag.push(row);
  }
  return { logMag, energy };
}

/** Detects the mark of `pattern` in mono audio at any sample rate (resampled to 24 kHz first). */
export function detectMark(pattern: MarkPattern, samples: Float32Array, sampleRate: number): MarkDetection {
  const audio = sampleRate === MARK_RATE ? samples : resample({ samples, sampleRate }, MARK_RATE).samples;
  let best: MarkDetection = { score: Number.NEGATIVE_INFINITY, trials: OFFSETS.length * BLOCK, frames: 0, bits: new Float64Array(PAYLOAD_BITS) };
  let bestAlign: { features: (Float64Array | undefined)[]; phase: number } | undefined;
  let usable = 0;
  for (const offset of OFFSETS) {
    const { logMag, energy } = bandSpectra(audio, offset);
    const loudest = energy.reduce((m, e) => Math.max(m, e), 0);
    // Too quiet to carry anything: digital silence, or a floor ~ −100 dBFS.
    const floor = Math.max(loudest * 10 ** (-FLOOR_DB / 10), 1e-6);
    const live = Array.from(energy, (e) => e >= floor);
    // Feature: each cell's log magnitude minus the mean of the frames either side (needs all three live).
    const features: (Float64Array | undefined)[] = logMag.map((row, f) => {
      if (f === 0 || f === logMag.length - 1 || !live[f - 1] || !live[f] || !live[f + 1]) return undefined;
      const prev = logMag[f - 1]!;
      const next = logMag[f + 1]!;
      const out = new Float64Array(BINS);
      for (let b = 0; b < BINS; b++) out[b] = row[b]! - 0.5 * (prev[b]! + next[b]!);
      return out;
    });
    usable = Math.max(usable, features.filter(Boolean).length);
    for (let phase = 0; phase < BLOCK; phase++) {
      let num = 0;
      let den = 0;
      for (let f = 0; f < features.length; f++) {
        const feature = features[f];
        if (!feature) continue;
        const row = ((f + phase) % BLOCK) * BINS;
        for (let b = 0; b < BINS; b++) {
          if (pattern.role[row + b]! >= 0) continue;
          const v = feature[b]!;
          num += pattern.chip[row + b]! * v;
          den += v * v;
        }
      }
      const score = den > 0 ? num / Math.sqrt(den) : 0;
      if (score > best.score) {
        best = { ...best, score };
        bestAlign = { features, phase };
      }
    }
  }
  if (!bestAlign || usable === 0) return { score: 0, trials: best.trials, frames: 0, bits: best.bits };
  const num = new Float64Array(PAYLOAD_BITS);
  const den = new Float64Array(PAYLOAD_BITS);
  const { features, phase } = bestAlign;
  for (let f = 0; f < features.length; f++) {
    const feature = features[f];
    if (!feature) continue;
    const row = ((f + phase) % BLOCK) * BINS;
    for (let b = 0; b < BINS; b++) {
      const bit = pattern.role[row + b]!;
      if (bit < 0) continue;
      const v = feature[b]!;
      num[bit]! += pattern.chip[row + b]! * v;
      den[bit]! += v * v;
    }
  }
  const bits = num.map((n, i) => (den[i]! > 0 ? n / Math.sqrt(den[i]!) : 0));
  return { score: best.score, trials: best.trials, frames: usable, bits };
}

/**
 * How well soft bits agree with a tag: Σ bit·sign / √n — ≈ N(0,1) for a tag that is not in the
 * audio (its signs are independent of the bits), large for the one that is.
 */
export function tagScore(bits: Float64Array, tag: string): number {
  const signs = tagBits(tag);
  let sum = 0;
  for (let i = 0; i < PAYLOAD_BITS; i++) sum += bits[i]! * signs[i]!;
  return sum / Math.sqrt(PAYLOAD_BITS);
}

/** Bits that disagree between soft bits and a tag. */
export function tagDistance(bits: Float64Array, tag: string): number {
  const signs = tagBits(tag);
  let d = 0;
  for (let i = 0; i < PAYLOAD_BITS; i++) if (bits[i]! * signs[i]! <= 0) d++;
  return d;
}

/** The watermark's signal-to-noise ratio, dB: the speech against what marking added to it. */
export function markSnrDb(original: Float32Array, marked: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < original.length; i++) {
    s += original[i]! ** 2;
    n += (marked[i]! - original[i]!) ** 2;
  }
  return 10 * Math.log10(s / Math.max(n, 1e-30));
}
