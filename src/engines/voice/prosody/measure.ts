/**
 * The acoustic measures of one turn: where the speech is, its pitch, loudness, speaking rate and
 * pauses. Pitch is tracked (YIN, `audio/pitch.ts`) on the speech parts only, a few seconds at a
 * time, yielding to the event loop in between so a long clip neither blocks the server nor
 * ignores its abort signal.
 */
import { trackPitchDetailed } from '../../../audio/pitch.js';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import type { SpeechSegment } from '../../vad/types.js';
import type { LoudnessMeasures, PauseMeasures, PitchMeasures, RateMeasures, VoiceMeasures, VoiceTranscript } from '../types.js';
import { detectSpeechByEnergy, frameLevelsDb, HOP_SEC, normaliseSegments, pausesBetween, percentile, SILENCE_DB, toDb } from './envelope.js';
import { countTextUnits, syllableNuclei } from './syllables.js';

/** Options of `measureProsody`. */
export interface MeasureOptions {
  /** Transcript, for the speaking rate. */
  transcript?: VoiceTranscript;
  /** VAD segments; when absent, speech is found from energy. */
  speech?: readonly SpeechSegment[];
  /** Pitch search range, Hz. */
  minHz?: number;
  /** Pitch search range, Hz. */
  maxHz?: number;
  /** Cancels the measurement. */
  signal?: AbortSignal;
}

/** Acoustic measures (everything of `VoiceMeasures` but the text sentiment). */
export interface ProsodyMeasures extends Omit<VoiceMeasures, 'text'> {
  /** The speech segments used (VAD's, normalised, or the energy detector's). */
  segments: SpeechSegment[];
}

/** Pitch is tracked on pieces of speech at most this long, yielding in between. */
const CHUNK_SEC = 4;
/** Less voiced speech than this gives no pitch statistics. */
const MIN_VOICED_SEC = 0.1;
/** Less speech than this gives no speaking rate. */
const MIN_RATE_SPEECH_SEC = 0.3;
/** A frame this far from the median of its neighbours is an octave error of the tracker, semitones. */
const JUMP_SEMITONES = 9;
/** Average syllables per English word in conversation, to turn syllable nuclei into words. */
const SYLLABLES_PER_WORD = 1.4;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Measure pitch, loudness, rate and pauses of `pcm`. Never throws on silence or empty audio. */
export async function measureProsody(pcm: PcmAudio, opts: MeasureOptions = {}): Promise<ProsodyMeasures> {
  const { samples, sampleRate } = pcm;
  if (!(sampleRate > 0)) throw ApiError.invalidRequest(null, `Audio sample rate must be positive, got ${sampleRate}.`);
  const checkAbort = () => {
    if (opts.signal?.aborted) throw ApiError.cancelled();
  };
  checkAbort();
  const durationSec = samples.length / sampleRate;
  const levels = frameLevelsDb(samples, sampleRate);
  const source = opts.speech ? 'vad' : 'energy';
  const segments = opts.speech ? normaliseSegments(opts.speech, durationSec) : detectSpeechByEnergy(levels, durationSec);
  const speechSec = segments.reduce((acc, s) => acc + (s.endSec - s.startSec), 0);

  // Grids on the 10 ms hop: is frame k inside speech / voiced?
  const gridLength = Math.ceil(durationSec / HOP_SEC) + 1;
  const speechGrid = new Uint8Array(gridLength);
  for (const s of segments) speechGrid.fill(1, Math.floor(s.startSec / HOP_SEC), Math.ceil(s.endSec / HOP_SEC) + 1);
  const voicedGrid = new Uint8Array(gridLength);

  // Pitch over the speech parts.
  const voiced: Array<{ t: number; hz: number }> = [];
  for (const seg of segments) {
    for (let t0 = seg.startSec; t0 < seg.endSec; t0 += CHUNK_SEC) {
      const a = Math.floor(t0 * sampleRate);
      const b = Math.min(samples.length, Math.ceil(Math.min(seg.endSec, t0 + CHUNK_SEC) * sampleRate));
      if (b <= a) continue;
      const track = trackPitchDetailed({ samples: samples.subarray(a, b), sampleRate }, { minHz: opts.minHz ?? 60, maxHz: opts.maxHz ?? 500 });
      for (let i = 0; i < track.f0.length; i++) {
        const hz = track.f0[i]!;
        if (hz > 0) voiced.push({ t: a / sampleRate + track.offsetSeconds + i * track.hopSeconds, hz });
      }
      await yieldToLoop();
      checkAbort();
    }
  }
  const kept = dropOctaveJumps(voiced);
  for (const v of kept) {
    const k = Math.round(v.t / HOP_SEC);
    if (k >= 0 && k < gridLength) voicedGrid[k] = 1;
  }
  const pitch = pitchStats(kept.map((v) => v.hz));

  const loudness = measureLoudness(samples, sampleRate, segments);
  const pauses: PauseMeasures = { ...pausesBetween(segments), source };

  let rate: RateMeasures | null = null;
  if (speechSec >= MIN_RATE_SPEECH_SEC) {
    const text = transcriptText(opts.transcript);
    const units = text ? countTextUnits(text) : null;
    if (units && units.words > 0) {
      rate = { wordsPerSec: units.words / speechSec, syllablesPerSec: units.syllables / speechSec, source: 'transcript' };
    } else {
      const at = (grid: Uint8Array, t: number, radius: number) => {
        const k = Math.round(t / HOP_SEC);
        for (let j = Math.max(0, k - radius); j <= Math.min(grid.length - 1, k + radius); j++) if (grid[j]) return true;
        return false;
      };
      const nuclei = syllableNuclei(
        samples,
        sampleRate,
        (t) => at(voicedGrid, t, 2),
        (t) => at(speechGrid, t, 0),
      );
      const syllablesPerSec = nuclei.length / speechSec;
      rate = { wordsPerSec: syllablesPerSec / SYLLABLES_PER_WORD, syllablesPerSec, source: 'syllable-estimate' };
    }
  }
  return { durationSec, speechSec, pitch, loudness, rate, pauses, segments };
}

/** The transcript's text, or its words joined when the text is empty. */
function transcriptText(t: VoiceTranscript | undefined): string {
  if (!t) return '';
  if (t.text.trim()) return t.text;
  return (t.words ?? []).map((w) => w.word).join(' ');
}

/**
 * Drops frames more than JUMP_SEMITONES away from the median of their voiced neighbours within
 * ±80 ms: YIN's octave (and fifth) errors are short excursions, real intonation moves smoothly.
 */
function dropOctaveJumps(frames: ReadonlyArray<{ t: number; hz: number }>): Array<{ t: number; hz: number }> {
  const out: Array<{ t: number; hz: number }> = [];
  const window: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    window.length = 0;
    for (let j = i - 8; j <= i + 8; j++) {
      const g = frames[j];
      if (g && Math.abs(g.t - f.t) <= 0.08) window.push(g.hz);
    }
    if (window.length < 3) {
      out.push(f);
      continue;
    }
    window.sort((a, b) => a - b);
    const local = percentile(window, 0.5);
    if (Math.abs(12 * Math.log2(f.hz / local)) <= JUMP_SEMITONES) out.push(f);
  }
  return out;
}

/** Statistics of voiced f0 values; null when under MIN_VOICED_SEC of them. */
function pitchStats(hz: number[]): PitchMeasures | null {
  if (hz.length * HOP_SEC < MIN_VOICED_SEC) return null;
  const sorted = hz.slice().sort((a, b) => a - b);
  const p10Hz = percentile(sorted, 0.1);
  const p90Hz = percentile(sorted, 0.9);
  return {
    medianHz: percentile(sorted, 0.5),
    minHz: sorted[0]!,
    maxHz: sorted[sorted.length - 1]!,
    p10Hz,
    p90Hz,
    rangeSemitones: 12 * Math.log2(p90Hz / p10Hz),
    voicedSec: hz.length * HOP_SEC,
  };
}

/** dBFS RMS of the clip and of its speech parts, and the peak. */
function measureLoudness(samples: Float32Array, sampleRate: number, segments: readonly SpeechSegment[]): LoudnessMeasures {
  let all = 0;
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    all += v * v;
    const a = Math.abs(v);
    if (a > peak) peak = a;
  }
  let speech = 0;
  let count = 0;
  for (const s of segments) {
    const a = Math.floor(s.startSec * sampleRate);
    const b = Math.min(samples.length, Math.ceil(s.endSec * sampleRate));
    for (let i = a; i < b; i++) speech += samples[i]! * samples[i]!;
    count += Math.max(0, b - a);
  }
  return {
    rmsDb: samples.length > 0 ? toDb(Math.sqrt(all / samples.length)) : SILENCE_DB,
    peakDb: toDb(peak),
    speechRmsDb: count > 0 ? toDb(Math.sqrt(speech / count)) : SILENCE_DB,
  };
}
