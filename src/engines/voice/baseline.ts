/**
 * A running baseline of one speaker's voice across the turns of a conversation, so later turns
 * are judged against the speaker's own pitch, rate and level instead of population references
 * (see arousal.ts). The chat pipeline keeps one per conversation:
 *
 *   const analysis = await analyzer.analyze({ pcm, transcript, baseline });
 *   baseline = updateBaseline(baseline, analysis);
 *
 * Each turn counts by its voiced (pitch) or speech (rate, level) seconds, so a long calm turn
 * outweighs a short outburst. A speaker who is excited all along sets an excited baseline; the
 * absolute cues then matter less, which is the price of being speaker-neutral.
 */
import type { SpeakerBaseline, VoiceAnalysis } from './types.js';

/** Seconds of history kept: older turns fade so a baseline can follow a changing microphone. */
const HORIZON_SEC = 120;

/** The baseline after `analysis`'s turn; `previous` is not modified. Turns without voice change nothing. */
export function updateBaseline(previous: SpeakerBaseline | undefined, analysis: Pick<VoiceAnalysis, 'measures'>): SpeakerBaseline | undefined {
  const { pitch, rate, loudness, speechSec } = analysis.measures;
  if (!pitch || pitch.voicedSec <= 0) return previous;
  if (!previous) {
    return {
      medianHz: pitch.medianHz,
      voicedSec: pitch.voicedSec,
      ...(rate?.syllablesPerSec !== undefined && rate.source === 'transcript' ? { syllablesPerSec: rate.syllablesPerSec } : {}),
      ...(speechSec > 0 ? { speechRmsDb: loudness.speechRmsDb } : {}),
    };
  }
  const old = Math.min(previous.voicedSec, HORIZON_SEC);
  const w = pitch.voicedSec / (old + pitch.voicedSec);
  // Pitch averages on a log scale (semitones), levels in dB, rates as they are.
  const medianHz = Math.exp((1 - w) * Math.log(previous.medianHz) + w * Math.log(pitch.medianHz));
  const mix = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : (1 - w) * a + w * b);
  const syllablesPerSec = mix(previous.syllablesPerSec, rate?.source === 'transcript' ? rate.syllablesPerSec : undefined);
  const speechRmsDb = mix(previous.speechRmsDb, speechSec > 0 ? loudness.speechRmsDb : undefined);
  return {
    medianHz,
    voicedSec: old + pitch.voicedSec,
    ...(syllablesPerSec !== undefined ? { syllablesPerSec } : {}),
    ...(speechRmsDb !== undefined ? { speechRmsDb } : {}),
  };
}
