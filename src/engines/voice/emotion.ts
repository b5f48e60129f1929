/**
 * The emotion of a turn, acoustic + prosodic + lexical.
 *
 * - **Acoustic** (`source: 'acoustic'`): a recogniser with an emotion model (SenseVoice hears
 *   happy/sad/angry/neutral in the same pass as the words) reports it on the transcript or its
 *   segments. It leads: its label and confidence are kept as the model gave them.
 * - **Prosody** (`source: 'prosody'`): no emotion model. The label is derived from the two
 *   dimensions this analyzer measures — arousal from the voice, valence from the words — on the
 *   circumplex (Russell 1980): positive words → happy; negative words with an excited voice →
 *   angry, with a calm voice → sad; anything else → neutral. That is a weak proxy for a categorical
 *   emotion (excited + negative may as well be fear), so its confidence never exceeds 0.6, and it
 *   is 0 when there is no speech at all.
 *
 * Either way the other evidence is checked against the label's usual arousal and valence
 * (`EMOTION_PROFILE`): the prosody's arousal and the words' sentiment each `supports`,
 * `contradicts`, is `neutral` about, or is `absent` for the label, and `agreement` sums them up.
 * A recogniser hearing anger in a voice that says "that's great" is reported as such, not hidden.
 */
import type { HeardEmotion, HeardEmotionLabel, HeardEvent } from '../asr/types.js';
import { HEARD_EMOTIONS } from '../asr/types.js';
import { MIN_SPEECH_SEC } from './arousal.js';
import type { Arousal, EmotionAgreement, EmotionEvidence, Sentiment, VoiceEmotion, VoiceTranscript } from './types.js';

/** Usual valence (+1 pleasant, −1 unpleasant) and arousal (+1 excited, −1 calm) of each label; null: either. */
export const EMOTION_PROFILE: Record<HeardEmotionLabel, { valence: -1 | 0 | 1 | null; arousal: -1 | 0 | 1 | null }> = {
  neutral: { valence: 0, arousal: 0 },
  happy: { valence: 1, arousal: 1 },
  sad: { valence: -1, arousal: -1 },
  angry: { valence: -1, arousal: 1 },
  fearful: { valence: -1, arousal: 1 },
  disgusted: { valence: -1, arousal: null },
  surprised: { valence: null, arousal: 1 },
};

/** |VADER compound| from which words are clearly polar (and contradict a neutral label). */
export const STRONG_WORDS = 0.5;
/** |arousalScore| at which the voice counts as fully excited or calm for the prosody confidence. */
export const STRONG_AROUSAL = 0.6;
/** Range of a prosody-derived confidence: it never claims more than the proxy can support. */
export const PROSODY_CONFIDENCE = { floor: 0.2, cap: 0.6 } as const;

/** The facts of the turn the emotion is judged against. */
export interface EmotionFacts {
  sentiment: Sentiment;
  /** VADER compound, −1..1. */
  score: number;
  /** False without an (English) transcript: the words say nothing. */
  hasText: boolean;
  arousal: Arousal;
  arousalScore: number;
  /** Seconds of speech in the turn. */
  speechSec: number;
}

const clamp01 = (x: number) => Math.max(0, Math.min(1, Number.isFinite(x) ? x : 0));
const round2 = (x: number) => Math.round(x * 100) / 100;
const isLabel = (l: unknown): l is HeardEmotionLabel => (HEARD_EMOTIONS as readonly unknown[]).includes(l);

/**
 * The emotion the recogniser heard: the transcript's own, else the label carried by the most
 * speech time across its segments (confidence = that label's confidence-weighted share of the
 * segments that carry one). Undefined when the recogniser reported none.
 */
export function acousticEmotion(transcript: VoiceTranscript | undefined): HeardEmotion | undefined {
  if (!transcript) return undefined;
  if (transcript.emotion && isLabel(transcript.emotion.label)) {
    return { label: transcript.emotion.label, confidence: round2(clamp01(transcript.emotion.confidence)) };
  }
  const time = new Map<HeardEmotionLabel, { weight: number; weighted: number }>();
  let total = 0;
  for (const s of transcript.segments ?? []) {
    if (!s.emotion || !isLabel(s.emotion.label)) continue;
    // A zero-length segment still carries a judgement: count it as a tenth of a second.
    const weight = Math.max(0.1, s.end - s.start);
    const entry = time.get(s.emotion.label) ?? { weight: 0, weighted: 0 };
    entry.weight += weight;
    entry.weighted += weight * clamp01(s.emotion.confidence);
    time.set(s.emotion.label, entry);
    total += weight;
  }
  let best: [HeardEmotionLabel, { weight: number; weighted: number }] | undefined;
  for (const e of time) if (!best || e[1].weight > best[1].weight) best = e;
  return best ? { label: best[0], confidence: round2(best[1].weighted / total) } : undefined;
}

/**
 * The non-speech events the recogniser heard (the transcript's, else its segments'), in time
 * order: labels lower-cased, `speech` itself dropped, times in [0, duration] rounded to 10 ms.
 */
export function heardEvents(transcript: VoiceTranscript | undefined, durationSec: number): HeardEvent[] {
  if (!transcript) return [];
  const raw = transcript.events ?? (transcript.segments ?? []).flatMap((s) => s.events ?? []);
  const time = (t: number | undefined) => (t === undefined || !Number.isFinite(t) ? undefined : round2(Math.max(0, Math.min(durationSec, t))));
  const events: HeardEvent[] = [];
  for (const e of raw) {
    const label = String(e.label ?? '')
      .trim()
      .toLowerCase();
    if (label === '' || label === 'speech') continue;
    const start = time(e.start);
    const end = time(e.end);
    events.push({
      label,
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end: Math.max(end, start ?? 0) } : {}),
      ...(e.confidence !== undefined && Number.isFinite(e.confidence) ? { confidence: round2(clamp01(e.confidence)) } : {}),
    });
  }
  return events.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity));
}

/** The label arousal × sentiment points to, with an honest confidence (see the file header). */
export function prosodyEmotion(f: EmotionFacts): HeardEmotion {
  if (!(f.speechSec >= MIN_SPEECH_SEC)) return { label: 'neutral', confidence: 0 };
  const { floor, cap } = PROSODY_CONFIDENCE;
  const words = f.hasText ? clamp01(Math.abs(f.score) / STRONG_WORDS) : 0;
  const voice = clamp01(Math.abs(f.arousalScore) / STRONG_AROUSAL);
  const scaled = (strength: number) => round2(floor + (cap - floor) * clamp01(strength));
  if (f.hasText && f.sentiment === 'positive') {
    // Happy is a lively emotion: a calm voice makes it less sure (content, polite, or sarcastic).
    const liveliness = f.arousal === 'excited' ? 1 : f.arousal === 'neutral' ? 0.75 : 0.5;
    return { label: 'happy', confidence: scaled(words * liveliness) };
  }
  if (f.hasText && f.sentiment === 'negative' && f.arousal === 'excited') return { label: 'angry', confidence: scaled(Math.min(words, voice)) };
  if (f.hasText && f.sentiment === 'negative' && f.arousal === 'calm') return { label: 'sad', confidence: scaled(Math.min(words, voice)) };
  // Neutral: the surer, the less either dimension deviates.
  return { label: 'neutral', confidence: scaled(1 - Math.max(words, voice)) };
}

/** What the voice's arousal says about `label`. */
export function prosodyEvidence(label: HeardEmotionLabel, f: EmotionFacts): EmotionEvidence {
  if (!(f.speechSec >= MIN_SPEECH_SEC)) return 'absent';
  const expected = EMOTION_PROFILE[label].arousal;
  const heard = f.arousal === 'excited' ? 1 : f.arousal === 'calm' ? -1 : 0;
  if (expected === null) return 'neutral';
  if (expected === 0) return heard === 0 ? 'supports' : 'contradicts';
  if (heard === 0) return 'neutral';
  return heard === expected ? 'supports' : 'contradicts';
}

/** What the words' sentiment says about `label`. */
export function wordsEvidence(label: HeardEmotionLabel, f: EmotionFacts): EmotionEvidence {
  if (!f.hasText) return 'absent';
  const expected = EMOTION_PROFILE[label].valence;
  const heard = f.sentiment === 'positive' ? 1 : f.sentiment === 'negative' ? -1 : 0;
  if (expected === null) return 'neutral';
  if (expected === 0) {
    if (heard === 0) return 'supports';
    // Mildly polar words ("please", "well" are positive to VADER) do not contradict a neutral voice.
    return Math.abs(f.score) >= STRONG_WORDS ? 'contradicts' : 'neutral';
  }
  if (heard === 0) return 'neutral';
  return heard === expected ? 'supports' : 'contradicts';
}

/** The two lines of evidence taken together. */
export function agreementOf(evidence: { prosody: EmotionEvidence; words: EmotionEvidence }): EmotionAgreement {
  const all = [evidence.prosody, evidence.words];
  const supports = all.includes('supports');
  const contradicts = all.includes('contradicts');
  return supports && contradicts ? 'mixed' : supports ? 'agrees' : contradicts ? 'disagrees' : 'unknown';
}

/** The turn's emotion: the recogniser's when it heard one, else derived from prosody and words; with the evidence. */
export function judgeEmotion(heard: HeardEmotion | undefined, facts: EmotionFacts): VoiceEmotion {
  const source = heard ? 'acoustic' : 'prosody';
  const { label, confidence } = heard ?? prosodyEmotion(facts);
  const evidence = { prosody: prosodyEvidence(label, facts), words: wordsEvidence(label, facts) };
  return { label, confidence, source, agreement: agreementOf(evidence), evidence };
}
