/**
 * Speech segments → recognition windows. Whisper-style recognisers take at most 30 s at a time,
 * and cutting in the middle of a sentence costs accuracy, so windows are cut inside pauses:
 * each window takes whole segments up to the limit and ends at the longest pause before it.
 * "Longest" saturates at `cleanPauseSec` (a pause that long is a sentence break; a longer one is
 * no better), and a fuller window wins ties, so the cut goes at the last clean break before the
 * limit, else at the longest short pause. A single speech run longer than the limit is cut hard
 * at the limit, and the next window starts `overlapSec` earlier so no word is lost at the seam
 * (`overlapSec` is reported, for de-duplicating the text).
 */
import type { PcmAudio } from '../../audio/types.js';
import type { SpeechSegment } from './types.js';

export interface PlanWindowsOptions {
  /** Longest window, seconds (default 30, Whisper's context). */
  maxWindowSec?: number;
  /** Overlap after a hard cut inside speech, seconds (default 1). */
  overlapSec?: number;
  /** Silence kept around a window's speech, seconds (default 0.2); never past the middle of a pause. */
  padSec?: number;
  /** A pause at least this long counts as a clean break; longer ones are not preferred (default 0.8). */
  cleanPauseSec?: number;
}

/** A stretch of audio to recognise in one go. */
export interface AudioWindow {
  /** Start, seconds from the start of the audio. */
  startSec: number;
  /** End, seconds; `endSec − startSec ≤ maxWindowSec`. */
  endSec: number;
  /** Seconds at the start shared with the previous window (> 0 only after a hard cut). */
  overlapSec: number;
  /** True when the window ends inside speech (a run longer than the limit). */
  cutInSpeech: boolean;
  /** The speech inside, clipped to the window, absolute times. */
  segments: SpeechSegment[];
}

/** Plan windows of at most `maxWindowSec` covering every segment. No segments → no windows. */
export function planWindows(segments: readonly SpeechSegment[], totalSec: number, options: PlanWindowsOptions = {}): AudioWindow[] {
  const max = options.maxWindowSec ?? 30;
  const overlap = options.overlapSec ?? 1;
  const pad = options.padSec ?? 0.2;
  const cleanPause = options.cleanPauseSec ?? 0.8;
  if (!(max > 0)) throw new RangeError(`maxWindowSec must be positive, got ${max}`);
  if (!(overlap >= 0 && overlap < max / 2)) throw new RangeError(`overlapSec must be in [0, maxWindowSec / 2), got ${overlap}`);
  const segs = normalize(segments, totalSec);

  // Pass 1: speech bounds of each window.
  const raw: Array<{ start: number; end: number; hardStart: boolean; hardEnd: boolean }> = [];
  let i = 0;
  let cursor = segs[0]?.startSec ?? 0; // > segs[i].startSec only after a hard cut inside segs[i]
  let hardStart = false;
  while (i < segs.length) {
    const start = Math.max(cursor, segs[i]!.startSec);
    const limit = start + max;
    if (segs[i]!.endSec > limit + 1e-9) {
      raw.push({ start, end: limit, hardStart, hardEnd: true });
      cursor = limit - overlap;
      hardStart = true;
      continue;
    }
    let j = i;
    while (j + 1 < segs.length && segs[j + 1]!.endSec <= limit + 1e-9) j++;
    let k = j;
    if (j < segs.length - 1) {
      // Cut in the pause after one of segs[i..j]: the longest (up to a clean break), then the latest.
      let bestScore = -Infinity;
      for (let m = i; m <= j; m++) {
        const gap = segs[m + 1]!.startSec - segs[m]!.endSec;
        const fill = (segs[m]!.endSec - start) / max;
        const score = Math.min(gap, cleanPause) + 0.1 * fill;
        if (score >= bestScore) {
          bestScore = score;
          k = m;
        }
      }
    }
    raw.push({ start, end: segs[k]!.endSec, hardStart, hardEnd: false });
    hardStart = false;
    i = k + 1;
    cursor = segs[i]?.startSec ?? 0;
  }

  // Pass 2: pad into the neighbouring silence, within the limit and never past a pause's middle.
  return raw.map((w, n) => {
    const prevEnd = n > 0 ? raw[n - 1]!.end : null;
    const nextStart = n + 1 < raw.length ? raw[n + 1]!.start : null;
    const room = Math.max(0, max - (w.end - w.start));
    const before = w.hardStart ? 0 : Math.min(pad, prevEnd === null ? w.start : Math.max(0, (w.start - prevEnd) / 2), room);
    const after = w.hardEnd ? 0 : Math.min(pad, nextStart === null ? totalSec - w.end : Math.max(0, (nextStart - w.end) / 2), room - before);
    const startSec = w.start - before;
    const endSec = w.end + after;
    return {
      startSec,
      endSec,
      overlapSec: w.hardStart && prevEnd !== null ? Math.max(0, prevEnd - startSec) : 0,
      cutInSpeech: w.hardEnd,
      segments: segs
        .filter((s) => s.endSec > startSec && s.startSec < endSec)
        .map((s) => ({ startSec: Math.max(s.startSec, startSec), endSec: Math.min(s.endSec, endSec) })),
    };
  });
}

/** The audio from the first speech to the last (with `padSec` of silence kept), and where it starts. */
export function trimSilence(pcm: PcmAudio, segments: readonly SpeechSegment[], options: { padSec?: number } = {}): { audio: PcmAudio; offsetSec: number } {
  const totalSec = pcm.samples.length / pcm.sampleRate;
  const segs = normalize(segments, totalSec);
  if (segs.length === 0) return { audio: { samples: pcm.samples.subarray(0, 0), sampleRate: pcm.sampleRate }, offsetSec: 0 };
  const pad = options.padSec ?? 0.1;
  const startSec = Math.max(0, segs[0]!.startSec - pad);
  const endSec = Math.min(totalSec, segs[segs.length - 1]!.endSec + pad);
  return { audio: sliceAudio(pcm, startSec, endSec), offsetSec: Math.floor(startSec * pcm.sampleRate) / pcm.sampleRate };
}

/** The samples between two times, without copying. */
export function sliceAudio(pcm: PcmAudio, startSec: number, endSec: number): PcmAudio {
  const a = Math.max(0, Math.floor(startSec * pcm.sampleRate));
  const b = Math.min(pcm.samples.length, Math.ceil(endSec * pcm.sampleRate));
  return { samples: pcm.samples.subarray(a, Math.max(a, b)), sampleRate: pcm.sampleRate };
}

/** Sorted, clamped to [0, totalSec], empty ones dropped, overlapping or touching ones merged. */
function normalize(segments: readonly SpeechSegment[], totalSec: number): SpeechSegment[] {
  const sorted = segments
    .map((s) => ({ startSec: Math.max(0, Math.min(s.startSec, totalSec)), endSec: Math.max(0, Math.min(s.endSec, totalSec)) }))
    .filter((s) => s.endSec > s.startSec)
    .sort((a, b) => a.startSec - b.startSec);
  const out: SpeechSegment[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.startSec <= last.endSec) last.endSec = Math.max(last.endSec, s.endSec);
    else out.push({ ...s });
  }
  return out;
}
