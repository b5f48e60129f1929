/**
 * The arousal rule: how activated the voice sounds (calm … excited), from prosody alone.
 *
 * Arousal is the emotion dimension prosody carries best; across studies it raises f0 level, f0
 * variability, intensity and tempo together (Scherer 2003, "Vocal communication of emotion",
 * Speech Communication 40; Juslin & Laukka 2003, Psychological Bulletin 129(5)). Each of the four
 * cues becomes a z-like value in [-2, 2] (0 = typical, ±1 = clearly raised/lowered), and the
 * score is tanh of their weighted mean:
 *
 * | feature  | z (no baseline)                                     | z (with the speaker's baseline) | weight |
 * |----------|-----------------------------------------------------|---------------------------------|--------|
 * | rate     | ln(syllables/s ÷ 4.4) ÷ ln 1.25                     | ln(syll/s ÷ usual) ÷ ln 1.2     | 0.40 (×0.6 when estimated without a transcript) |
 * | pitch    | band(median) ÷ 4 + 0.5·fade·(st(median ÷ p10) − 3.5) ÷ 2.5 | st(median ÷ usual median) ÷ 3 | 0.25 |
 * | range    | (p10→p90 semitones − 7) ÷ 4, at least −1            | same                            | 0.20   |
 * | loudness | (speech dBFS + 20) ÷ 8                              | (dB − usual dB) ÷ 4             | 0.15   |
 *
 * Why these weights: speaking rate has population norms that hold across speakers and genders
 * (and, in syllables per second, across sentences with long or short words), so it weighs most.
 * Pitch level is the strongest cue in the literature but speaker-dependent: without the speaker's
 * baseline it is judged (a) absolutely, only outside a broad gender-agnostic band of 90–220 Hz
 * (`band` = semitones beyond the band: a 70 Hz voice is low for anyone, 280 Hz high for adult
 * speech; inside the band a raised male and a calm female voice cannot be told apart), and (b)
 * relative to the speaker's own floor in this turn: the median sits ~3.5 st above the 10th
 * percentile in neutral speech and rises from it when aroused. (b) counts half, faded in
 * (`fade`) between 0.3 s and 1 s of voiced speech, because a short turn's p10 is just the low
 * point of a word. Range (p10→p90, octave errors removed) is speaker-neutral but doubles as a cue
 * of emphasis or questions, so it weighs less; a narrow range counts at most −1 because monotony
 * is weak evidence of calm (read speech, synthetic voices and cold anger are all flat). Loudness
 * depends on the microphone's gain, so it weighs least unless a baseline from the same
 * conversation is given. Missing features (no pitch in a whisper) drop out and the weights of the
 * others are renormalised.
 *
 * A whole-contour pitch shift (a TTS voice at pitch ×1.5, a man speaking up) is invisible to (b)
 * and, inside the band, to (a): without a baseline, "fast and high" is recognised by its rate,
 * with a baseline by its pitch too.
 *
 * Labels: arousalScore = tanh(weighted mean); ≥ 0.3 excited, ≤ −0.3 calm, else neutral. The
 * thresholds are deliberately wider than VADER's: telling a language model "excited" when the
 * speaker was merely lively is worse than saying nothing.
 */
import type { Arousal, ArousalContribution, SpeakerBaseline, VoiceMeasures } from './types.js';

/** Typical articulation rate (pauses of 0.25 s or more excluded), syllables per second. */
export const REFERENCE_SYLLABLES_PER_SEC = 4.4;
/** Rate factor that counts as one unit (×1.25 faster = +1). */
export const RATE_STEP = 1.25;
/** Against the speaker's own usual rate a smaller change counts (×1.2 = +1). */
export const BASELINE_RATE_STEP = 1.2;
/** Absolute pitch band (Hz) inside which the median's absolute height says nothing. */
export const PITCH_BAND_HZ = { low: 90, high: 220 } as const;
/** Semitones outside the band per unit of z. */
export const PITCH_BAND_STEP_ST = 4;
/** Median above the speaker's p10 floor in neutral speech, semitones, and the unit. */
export const ELEVATION_REFERENCE_ST = 3.5;
export const ELEVATION_STEP_ST = 2.5;
/** Typical p10→p90 range of neutral speech, semitones, and the unit. */
export const RANGE_REFERENCE_ST = 7;
export const RANGE_STEP_ST = 4;
/** A narrow range counts at most this far towards calm (see above: monotony is weak evidence). */
export const RANGE_MIN_Z = -1;
/** Typical speech level, dBFS RMS, and the unit. */
export const LOUDNESS_REFERENCE_DB = -20;
export const LOUDNESS_STEP_DB = 8;
/** The weights (see the table above). */
export const AROUSAL_WEIGHTS = { rate: 0.4, pitch: 0.25, range: 0.2, loudness: 0.15 } as const;
/** Label thresholds on arousalScore. */
export const EXCITED_THRESHOLD = 0.3;
export const CALM_THRESHOLD = -0.3;
/** A baseline built on less voiced speech than this is ignored, seconds. */
export const MIN_BASELINE_VOICED_SEC = 3;
/** Less speech than this gives a neutral arousal with no terms, seconds. */
export const MIN_SPEECH_SEC = 0.3;

/** The arousal label, its score and the per-feature terms. */
export interface ArousalResult {
  arousal: Arousal;
  arousalScore: number;
  terms: ArousalContribution[];
}

const clampZ = (z: number) => Math.max(-2, Math.min(2, z));
const semitones = (a: number, b: number) => 12 * Math.log2(a / b);

/** Apply the rule to measured (or synthetic) values. Pure: no audio needed. */
export function computeArousal(m: Pick<VoiceMeasures, 'speechSec' | 'pitch' | 'loudness' | 'rate'>, baseline?: SpeakerBaseline): ArousalResult {
  if (!(m.speechSec >= MIN_SPEECH_SEC)) return { arousal: 'neutral', arousalScore: 0, terms: [] };
  const base = baseline && baseline.voicedSec >= MIN_BASELINE_VOICED_SEC && baseline.medianHz > 0 ? baseline : undefined;
  const terms: ArousalContribution[] = [];

  if (m.rate) {
    const sps = m.rate.syllablesPerSec ?? m.rate.wordsPerSec * 1.4;
    if (sps > 0) {
      const z = base?.syllablesPerSec
        ? Math.log(sps / base.syllablesPerSec) / Math.log(BASELINE_RATE_STEP)
        : Math.log(sps / REFERENCE_SYLLABLES_PER_SEC) / Math.log(RATE_STEP);
      terms.push({ feature: 'rate', z: clampZ(z), weight: AROUSAL_WEIGHTS.rate * (m.rate.source === 'syllable-estimate' ? 0.6 : 1) });
    } else {
      terms.push({ feature: 'rate', z: -2, weight: AROUSAL_WEIGHTS.rate * 0.6 }); // speech but no syllable found: very slow or mumbled
    }
  }

  if (m.pitch) {
    const p = m.pitch;
    let z: number;
    if (base) {
      z = semitones(p.medianHz, base.medianHz) / 3;
    } else {
      const { low, high } = PITCH_BAND_HZ;
      const band = p.medianHz > high ? semitones(p.medianHz, high) : p.medianHz < low ? semitones(p.medianHz, low) : 0;
      const fade = Math.max(0, Math.min(1, (p.voicedSec - 0.3) / 0.7));
      const elevation = (semitones(p.medianHz, p.p10Hz) - ELEVATION_REFERENCE_ST) / ELEVATION_STEP_ST;
      z = band / PITCH_BAND_STEP_ST + 0.5 * fade * elevation;
    }
    terms.push({ feature: 'pitch', z: clampZ(z), weight: AROUSAL_WEIGHTS.pitch });
    if (p.voicedSec >= 0.3) {
      const z = (p.rangeSemitones - RANGE_REFERENCE_ST) / RANGE_STEP_ST;
      terms.push({ feature: 'range', z: Math.max(RANGE_MIN_Z, clampZ(z)), weight: AROUSAL_WEIGHTS.range });
    }
  }

  const db = m.loudness.speechRmsDb;
  if (db > -100) {
    const z = base?.speechRmsDb !== undefined ? (db - base.speechRmsDb) / 4 : (db - LOUDNESS_REFERENCE_DB) / LOUDNESS_STEP_DB;
    terms.push({ feature: 'loudness', z: clampZ(z), weight: AROUSAL_WEIGHTS.loudness });
  }

  const totalWeight = terms.reduce((a, t) => a + t.weight, 0);
  if (totalWeight === 0) return { arousal: 'neutral', arousalScore: 0, terms };
  const mean = terms.reduce((a, t) => a + t.weight * t.z, 0) / totalWeight;
  const arousalScore = round(Math.tanh(mean), 3);
  const arousal: Arousal = arousalScore >= EXCITED_THRESHOLD ? 'excited' : arousalScore <= CALM_THRESHOLD ? 'calm' : 'neutral';
  return { arousal, arousalScore, terms: terms.map((t) => ({ ...t, z: round(t.z, 3), weight: round(t.weight / totalWeight, 3) })) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
