/**
 * From measures to the analysis: the labels, the emotion and the cues, in one pure function the
 * analyzer and the tests share (so a test on synthetic measures checks exactly what the analyzer
 * would say about them).
 */
import { computeArousal } from './arousal.js';
import { buildCues } from './cues.js';
import { judgeEmotion } from './emotion.js';
import { sentimentLabel } from './sentiment.js';
import type { HeardEmotion, HeardEvent, SpeakerBaseline, VoiceAnalysis, VoiceMeasures } from './types.js';

export interface AnalysisExtras {
  /** The speaker's usual voice (see baseline.ts). */
  baseline?: SpeakerBaseline | undefined;
  /** The emotion the recogniser heard (see emotion.ts `acousticEmotion`), when it has an emotion model. */
  heard?: HeardEmotion | undefined;
  /** Non-speech events the recogniser heard, already normalised (emotion.ts `heardEvents`). */
  events?: HeardEvent[];
}

/** The analysis of a turn whose `measures` are known. */
export function analysisFromMeasures(measures: VoiceMeasures, extras: AnalysisExtras = {}): VoiceAnalysis {
  const { arousal, arousalScore, terms } = computeArousal(measures, extras.baseline);
  const score = measures.text?.compound ?? 0;
  const sentiment = sentimentLabel(score);
  // The recogniser's emotion model leads when it has one; prosody and words support or contradict it.
  const emotion = judgeEmotion(extras.heard, { sentiment, score, hasText: measures.text !== null, arousal, arousalScore, speechSec: measures.speechSec });
  const events = extras.events ?? [];
  const cues = buildCues({ sentiment, measures, arousalTerms: terms, arousal, emotion, events }).map((c) => c.phrase);
  return { sentiment, score, arousal, arousalScore, emotion, events, cues, measures, arousalTerms: terms };
}
