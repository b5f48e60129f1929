/**
 * Frame-level energy of a clip on a fixed 10 ms grid, and the energy-based speech detector used
 * when no VAD segments are given. Everything here is O(samples) and allocation-light.
 */
import type { SpeechSegment } from '../../vad/types.js';

/** Level used for digital silence, dBFS: keeps results finite (JSON has no -Infinity). */
export const SILENCE_DB = -120;

/** Hop of the energy grid, seconds. */
export const HOP_SEC = 0.01;

/** Window of one energy frame, seconds (centred on the hop). */
const WINDOW_SEC = 0.025;

/** Gaps between speech shorter than this are not pauses (stop closures, breaths between words). */
export const MIN_PAUSE_SEC = 0.25;

/** A linear RMS level → dBFS, floored at SILENCE_DB. */
export function toDb(linear: number): number {
  return linear > 0 ? Math.max(SILENCE_DB, 20 * Math.log10(linear)) : SILENCE_DB;
}

/**
 * Frame levels in dBFS on a 10 ms grid: frame k is centred at k·HOP_SEC, over a 25 ms window.
 * Computed from prefix sums of squares, so any window is O(1).
 */
export function frameLevelsDb(samples: Float32Array, sampleRate: number): Float32Array {
  const hop = HOP_SEC * sampleRate;
  const half = Math.max(1, Math.round((WINDOW_SEC * sampleRate) / 2));
  const frames = Math.ceil(samples.length / hop);
  const sq = new Float64Array(samples.length + 1);
  for (let i = 0; i < samples.length; i++) sq[i + 1] = sq[i]! + samples[i]! * samples[i]!;
  const out = new Float32Array(frames);
  for (let k = 0; k < frames; k++) {
    const c = Math.round(k * hop);
    const a = Math.max(0, c - half);
    const b = Math.min(samples.length, c + half);
    out[k] = b > a ? toDb(Math.sqrt((sq[b]! - sq[a]!) / (b - a))) : SILENCE_DB;
  }
  return out;
}

/** Linear-interpolated percentile of an ascending array, q in [0, 1]. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Tuning of the energy-based speech detector. */
export interface EnergySpeechOptions {
  /** Nothing quieter than this is speech, dBFS (default -55). */
  absoluteFloorDb?: number;
  /** Speech runs shorter than this are dropped as clicks, seconds (default 0.06). */
  minSpeechSec?: number;
  /** Silences shorter than this are bridged, seconds (default MIN_PAUSE_SEC). */
  minSilenceSec?: number;
}

/**
 * Speech segments from frame levels alone, for when no VAD ran. The threshold adapts to the clip:
 * between its noise floor (10th percentile of frame levels) and its speech level (95th
 * percentile), at least 6 dB over the floor, and never more than 40 dB under the speech level
 * (so a clip with no silence at all is mostly speech). Runs shorter than `minSpeechSec` are
 * dropped and gaps shorter than `minSilenceSec` are bridged, so every gap left is a pause.
 *
 * Less exact than Silero on noisy audio (it cannot tell speech from steady loud noise), but
 * needs no model and is right on the clean, close-talk audio a voice chat mostly gets.
 */
export function detectSpeechByEnergy(levelsDb: Float32Array, durationSec: number, opts: EnergySpeechOptions = {}): SpeechSegment[] {
  const absoluteFloor = opts.absoluteFloorDb ?? -55;
  const minSpeech = Math.round((opts.minSpeechSec ?? 0.06) / HOP_SEC);
  const minSilence = Math.round((opts.minSilenceSec ?? MIN_PAUSE_SEC) / HOP_SEC);
  if (levelsDb.length === 0) return [];
  const sorted = Float32Array.from(levelsDb).sort();
  const floor = percentile(sorted, 0.1);
  const loud = percentile(sorted, 0.95);
  if (loud < absoluteFloor) return [];
  const threshold = Math.max(absoluteFloor, floor + Math.max(6, 0.35 * (loud - floor)), loud - 40);

  // Runs of frames at or over the threshold.
  const runs: Array<[number, number]> = [];
  let start = -1;
  for (let k = 0; k <= levelsDb.length; k++) {
    const on = k < levelsDb.length && levelsDb[k]! >= threshold;
    if (on && start < 0) start = k;
    else if (!on && start >= 0) {
      runs.push([start, k]);
      start = -1;
    }
  }
  // Bridge short gaps first (a word's closures), then drop what is still too short to be speech.
  const merged: Array<[number, number]> = [];
  for (const r of runs) {
    const last = merged[merged.length - 1];
    if (last && r[0] - last[1] < minSilence) last[1] = r[1];
    else merged.push([r[0], r[1]]);
  }
  const half = HOP_SEC / 2;
  return merged
    .filter(([a, b]) => b - a >= minSpeech)
    .map(([a, b]) => ({ startSec: Math.max(0, a * HOP_SEC - half), endSec: Math.min(durationSec, (b - 1) * HOP_SEC + half) }));
}

/** Sorted, clipped to [0, durationSec], overlaps merged: VAD output from anywhere made safe. */
export function normaliseSegments(segments: readonly SpeechSegment[], durationSec: number): SpeechSegment[] {
  const clipped = segments
    .map((s) => ({ startSec: Math.max(0, s.startSec), endSec: Math.min(durationSec, s.endSec) }))
    .filter((s) => Number.isFinite(s.startSec) && Number.isFinite(s.endSec) && s.endSec > s.startSec)
    .sort((a, b) => a.startSec - b.startSec);
  const out: SpeechSegment[] = [];
  for (const s of clipped) {
    const last = out[out.length - 1];
    if (last && s.startSec <= last.endSec) last.endSec = Math.max(last.endSec, s.endSec);
    else out.push({ ...s });
  }
  return out;
}

/** Pauses = gaps of at least MIN_PAUSE_SEC between consecutive segments. */
export function pausesBetween(segments: readonly SpeechSegment[]): { count: number; totalSec: number; longestSec: number; ratio: number } {
  let count = 0;
  let totalSec = 0;
  let longestSec = 0;
  for (let i = 1; i < segments.length; i++) {
    const gap = segments[i]!.startSec - segments[i - 1]!.endSec;
    if (gap >= MIN_PAUSE_SEC) {
      count++;
      totalSec += gap;
      longestSec = Math.max(longestSec, gap);
    }
  }
  const span = segments.length > 0 ? segments[segments.length - 1]!.endSec - segments[0]!.startSec : 0;
  return { count, totalSec, longestSec, ratio: span > 0 ? totalSec / span : 0 };
}
