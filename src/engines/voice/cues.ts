/**
 * Cues: the few things worth saying about a turn, each as a short phrase for people and logs
 * ("fast speech") and a detail with its number for the language model ("fast speech 3.9 words/s").
 * One function decides both, so `cues` and `describeForModel` never disagree.
 */
import type { Arousal, ArousalContribution, HeardEvent, Sentiment, VoiceEmotion, VoiceMeasures } from './types.js';

/** One cue. */
export interface Cue {
  /** Short phrase, e.g. `raised pitch`, `negative words: 'terrible'`. */
  phrase: string;
  /** With the measured value, e.g. `high pitch 231 Hz`, for `describeForModel`. */
  detail: string;
  /** Which part of the description it belongs to. */
  group: 'emotion' | 'disagreement' | 'events' | 'sentiment' | 'arousal' | 'pauses' | 'speech';
}

/** |z| of an arousal term from which it is named as a cue. */
export const CUE_Z = 1;
/** Loudness is named from z ≥ 1.25 (−10 dBFS without a baseline) and z ≤ −1.5 (−32 dBFS). */
export const LOUD_Z = 1.25;
export const QUIET_Z = -1.5;
/** A pause from this long is a "long pause", seconds. */
export const LONG_PAUSE_SEC = 1;
/** Pauses over this share of the speaking time (with 2 or more of them) are "many pauses". */
export const MANY_PAUSES_RATIO = 0.3;
/** Speech shorter than this is "no speech", seconds. */
export const NO_SPEECH_SEC = 0.3;

const fmt1 = (x: number) => (Math.round(x * 10) / 10).toFixed(1);
const quote = (s: string) => `'${s.replace(/'/g, '’')}'`;

/**
 * The emotion for the model: `angry (acoustic 0.82; words positive — they disagree)`. The note on
 * the other evidence is written for a recogniser's label only: a prosody-derived label is made
 * from that evidence, so it agrees by construction (`sad (prosody 0.41)`).
 */
export function emotionDetail(e: VoiceEmotion, facts: { sentiment: Sentiment; arousal: Arousal }): string {
  const head = `${e.label} (${e.source} ${e.confidence.toFixed(2)}`;
  if (e.source !== 'acoustic') return `${head})`;
  const said = { prosody: `prosody ${facts.arousal}`, words: `words ${facts.sentiment}` };
  const lines = ['prosody', 'words'] as const;
  const supporting = lines.filter((l) => e.evidence[l] === 'supports');
  const contradicting = lines.filter((l) => e.evidence[l] === 'contradicts');
  let note: string | undefined;
  if (contradicting.length > 0 && supporting.length === 0) note = `${contradicting.map((l) => said[l]).join(', ')} — they disagree`;
  else if (contradicting.length > 0) note = `${supporting[0]} ${supporting[0] === 'words' ? 'agree' : 'agrees'} but ${said[contradicting[0]!]}`;
  else if (supporting.length === 2) note = 'prosody and words agree';
  else if (supporting.length === 1) note = `${supporting[0]} ${supporting[0] === 'words' ? 'agree' : 'agrees'}`;
  return note ? `${head}; ${note})` : `${head})`;
}

/** An event for the model: `laughter at 3.2 s`, `music 0.0–12.5 s`, or just `applause` when untimed. */
export function eventDetail(e: HeardEvent): string {
  if (e.start === undefined) return e.label;
  if (e.end !== undefined && e.end - e.start >= 1) return `${e.label} ${fmt1(e.start)}–${fmt1(e.end)} s`;
  return `${e.label} at ${fmt1(e.start)} s`;
}

/** What `buildCues` reads from an analysis; `emotion` and `events` are optional (older callers). */
export interface CueInput {
  sentiment: Sentiment;
  measures: VoiceMeasures;
  arousalTerms: readonly ArousalContribution[];
  arousal?: Arousal;
  emotion?: VoiceEmotion;
  events?: readonly HeardEvent[];
}

/**
 * The cues of an analysis, in order: the recogniser's emotion and what contradicts it ("words
 * positive, voice angry"), events, sentiment words, arousal cues (strongest first), pauses. A
 * prosody-derived emotion adds no cue: the cues it was derived from are already there.
 */
export function buildCues(a: CueInput): Cue[] {
  const m = a.measures;
  const cues: Cue[] = [];

  const e = a.emotion;
  if (e?.source === 'acoustic') {
    const facts = { sentiment: a.sentiment, arousal: a.arousal ?? 'neutral' };
    cues.push({ phrase: `sounds ${e.label}`, detail: emotionDetail(e, facts), group: 'emotion' });
    if (e.evidence.words === 'contradicts') {
      const phrase = `words ${a.sentiment}, voice ${e.label}`;
      cues.push({ phrase, detail: phrase, group: 'disagreement' });
    }
    if (e.evidence.prosody === 'contradicts') {
      const phrase = `prosody ${facts.arousal}, voice ${e.label}`;
      cues.push({ phrase, detail: phrase, group: 'disagreement' });
    }
  }
  for (const event of a.events ?? []) cues.push({ phrase: event.label, detail: eventDetail(event), group: 'events' });

  if (a.sentiment !== 'neutral' && m.text) {
    const sign = a.sentiment === 'positive' ? 1 : -1;
    const words = m.text.words
      .filter((w) => Math.sign(w.effect) === sign)
      .slice(0, 3)
      .map((w) => quote(w.phrase));
    if (words.length > 0) cues.push({ phrase: `${a.sentiment} words: ${words.join(', ')}`, detail: words.join(', '), group: 'sentiment' });
  }

  if (m.speechSec < NO_SPEECH_SEC) {
    cues.push({ phrase: 'no speech', detail: 'no speech', group: 'speech' });
    return cues;
  }

  const arousal: Array<Cue & { strength: number }> = [];
  for (const t of a.arousalTerms) {
    const up = t.z > 0;
    const strength = Math.abs(t.z);
    if (t.feature === 'loudness') {
      if (t.z >= LOUD_Z || t.z <= QUIET_Z) {
        const word = up ? 'loud' : 'quiet';
        arousal.push({ phrase: word, detail: `${word} ${Math.round(m.loudness.speechRmsDb)} dBFS`, group: 'arousal', strength });
      }
      continue;
    }
    if (strength < CUE_Z) continue;
    if (t.feature === 'pitch' && m.pitch) {
      const hz = Math.round(m.pitch.medianHz);
      arousal.push(
        up
          ? { phrase: 'raised pitch', detail: `high pitch ${hz} Hz`, group: 'arousal', strength }
          : { phrase: 'low pitch', detail: `low pitch ${hz} Hz`, group: 'arousal', strength },
      );
    } else if (t.feature === 'range' && m.pitch) {
      const st = Math.round(m.pitch.rangeSemitones);
      arousal.push(
        up
          ? { phrase: 'wide pitch range', detail: `wide range ${st} st`, group: 'arousal', strength }
          : { phrase: 'flat pitch', detail: `flat pitch ${st} st`, group: 'arousal', strength },
      );
    } else if (t.feature === 'rate' && m.rate) {
      const wps = `${fmt1(m.rate.wordsPerSec)} words/s${m.rate.source === 'syllable-estimate' ? ' (est.)' : ''}`;
      arousal.push(
        up
          ? { phrase: 'fast speech', detail: `fast speech ${wps}`, group: 'arousal', strength }
          : { phrase: 'slow speech', detail: `slow speech ${wps}`, group: 'arousal', strength },
      );
    }
  }
  arousal.sort((x, y) => y.strength - x.strength);
  for (const { strength: _, ...cue } of arousal) cues.push(cue);

  const p = m.pauses;
  if (p.count >= 2 && p.ratio >= MANY_PAUSES_RATIO) {
    cues.push({
      phrase: 'many pauses',
      detail: `${p.count} pauses, ${Math.round(p.ratio * 100)}% of the time, longest ${fmt1(p.longestSec)} s`,
      group: 'pauses',
    });
  } else if (p.longestSec >= LONG_PAUSE_SEC) {
    const several = p.count >= 2 && p.totalSec / p.count >= LONG_PAUSE_SEC;
    cues.push(
      several
        ? { phrase: 'long pauses', detail: `${p.count} long pauses, ${fmt1(p.totalSec)} s in all`, group: 'pauses' }
        : { phrase: 'long pause', detail: `long pause ${fmt1(p.longestSec)} s`, group: 'pauses' },
    );
  }
  return cues;
}
