/**
 * The emotion of a turn: acoustic (the recogniser's) or derived from prosody × words, with the
 * evidence for and against it, and the line the language model sees. A table of synthetic turns
 * gives exact labels, sources, agreement and lines; the real analyzer is then run on a recording
 * with and without a recogniser's emotion.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readWav16, SPEECH_FIXTURES } from '../asr/test-support.js';
import { analysisFromMeasures } from './analysis.js';
import { describeForModel } from './describe.js';
import { acousticEmotion, agreementOf, heardEvents, PROSODY_CONFIDENCE } from './emotion.js';
import { createProsodyAnalyzer } from './prosody/index.js';
import { SILENCE } from './test-measures.js';
import type { HeardEmotion, HeardEvent, TextSentimentMeasures, VoiceMeasures } from './types.js';

const words = (compound: number, ...phrases: string[]): TextSentimentMeasures => ({
  compound,
  pos: compound > 0 ? 0.5 : 0,
  neg: compound < 0 ? 0.5 : 0,
  neu: 0.5,
  words: phrases.map((phrase) => ({ phrase, effect: compound / phrases.length })),
});
const NEGATIVE = words(-0.87, 'hate', 'terrible');
const POSITIVE = words(0.8, 'great', 'love');
const NEUTRAL = words(0, ...[]);

/** Fast, high, wide: arousal 0.91 (excited). */
const EXCITED: VoiceMeasures = {
  durationSec: 6,
  speechSec: 4.2,
  pitch: { medianHz: 292, minHz: 180, maxHz: 420, p10Hz: 210, p90Hz: 400, rangeSemitones: 11.2, voicedSec: 2.5 },
  loudness: { rmsDb: -18, peakDb: -3, speechRmsDb: -14 },
  rate: { wordsPerSec: 3.9, syllablesPerSec: 7, source: 'transcript' },
  pauses: { count: 0, totalSec: 0, longestSec: 0, ratio: 0, source: 'vad' },
  text: null,
};
/** Typical in every way: arousal 0.00. */
const LEVEL: VoiceMeasures = {
  ...EXCITED,
  pitch: { medianHz: 118, minHz: 90, maxHz: 160, p10Hz: 96, p90Hz: 144, rangeSemitones: 7, voicedSec: 2 },
  loudness: { rmsDb: -24, peakDb: -6, speechRmsDb: -20 },
  rate: { wordsPerSec: 3.1, syllablesPerSec: 4.4, source: 'transcript' },
};
/** Slow, low, flat and quiet: calm. */
const CALM: VoiceMeasures = {
  ...EXCITED,
  pitch: { medianHz: 100, minHz: 85, maxHz: 120, p10Hz: 92, p90Hz: 112, rangeSemitones: 3.4, voicedSec: 2 },
  loudness: { rmsDb: -42, peakDb: -25, speechRmsDb: -36 },
  rate: { wordsPerSec: 1.6, syllablesPerSec: 2.4, source: 'transcript' },
};

interface Case {
  name: string;
  voice: VoiceMeasures;
  text: TextSentimentMeasures | null;
  heard?: HeardEmotion;
  events?: HeardEvent[];
  expect: {
    label: string;
    source: 'acoustic' | 'prosody';
    confidence?: number;
    agreement: string;
    evidence: { prosody: string; words: string };
    /** The line, with `{a}` for the arousal score. */
    line: string;
    /** Cues that must be present, in this order, at the start of `cues`. */
    cues?: string[];
  };
}

const CASES: Case[] = [
  // Without an emotion model: derived from arousal × sentiment, never above 0.6.
  {
    name: 'no emotion model, excited voice, negative words → angry from prosody, both agree',
    voice: EXCITED,
    text: NEGATIVE,
    expect: {
      label: 'angry',
      source: 'prosody',
      confidence: 0.6,
      agreement: 'agrees',
      evidence: { prosody: 'supports', words: 'supports' },
      line: "[voice: angry (prosody 0.60); negative sentiment (-0.87): 'hate', 'terrible'; excited voice ({a}): fast speech 3.9 words/s, high pitch 292 Hz, wide range 11 st]",
      cues: ["negative words: 'hate', 'terrible'"],
    },
  },
  {
    name: 'no emotion model, calm voice, negative words → sad from prosody',
    voice: CALM,
    text: NEGATIVE,
    expect: {
      label: 'sad',
      source: 'prosody',
      agreement: 'agrees',
      evidence: { prosody: 'supports', words: 'supports' },
      line: "[voice: sad (prosody {c}); negative sentiment (-0.87): 'hate', 'terrible'; calm voice ({a}): slow speech 1.6 words/s, quiet -36 dBFS]",
    },
  },
  {
    name: 'no emotion model, excited voice, positive words → happy from prosody',
    voice: EXCITED,
    text: POSITIVE,
    expect: {
      label: 'happy',
      source: 'prosody',
      confidence: 0.6,
      agreement: 'agrees',
      evidence: { prosody: 'supports', words: 'supports' },
      line: "[voice: happy (prosody 0.60); positive sentiment (0.80): 'great', 'love'; excited voice ({a}): fast speech 3.9 words/s, high pitch 292 Hz, wide range 11 st]",
    },
  },
  {
    name: 'no emotion model, calm voice, positive words → happy but less sure, and the calm voice is reported against it',
    voice: CALM,
    text: POSITIVE,
    expect: {
      label: 'happy',
      source: 'prosody',
      confidence: 0.4,
      agreement: 'mixed',
      evidence: { prosody: 'contradicts', words: 'supports' },
      line: "[voice: happy (prosody 0.40); positive sentiment (0.80): 'great', 'love'; calm voice ({a}): slow speech 1.6 words/s, quiet -36 dBFS]",
    },
  },
  {
    name: 'no emotion model, level voice, neutral words → neutral, left out of the line',
    voice: LEVEL,
    text: NEUTRAL,
    expect: {
      label: 'neutral',
      source: 'prosody',
      confidence: 0.6,
      agreement: 'agrees',
      evidence: { prosody: 'supports', words: 'supports' },
      line: '[voice: neutral sentiment (0.00); neutral voice (0.00): 3.1 words/s, pitch 118 Hz]',
      cues: [],
    },
  },
  {
    name: 'no emotion model, negative words in a level voice → neutral at the floor confidence, words against it',
    voice: LEVEL,
    text: NEGATIVE,
    expect: {
      label: 'neutral',
      source: 'prosody',
      confidence: PROSODY_CONFIDENCE.floor,
      agreement: 'mixed',
      evidence: { prosody: 'supports', words: 'contradicts' },
      line: "[voice: negative sentiment (-0.87): 'hate', 'terrible'; neutral voice (0.00): 3.1 words/s, pitch 118 Hz]",
    },
  },
  {
    name: 'silence without an emotion model → neutral with confidence 0, nothing to judge it by',
    voice: SILENCE,
    text: null,
    expect: {
      label: 'neutral',
      source: 'prosody',
      confidence: 0,
      agreement: 'unknown',
      evidence: { prosody: 'absent', words: 'absent' },
      line: '[voice: no speech]',
    },
  },
  // With an emotion model: its label and confidence lead; prosody and words support or contradict.
  {
    name: 'recogniser hears anger, the voice is excited and the words negative → they agree',
    voice: EXCITED,
    text: NEGATIVE,
    heard: { label: 'angry', confidence: 0.82 },
    expect: {
      label: 'angry',
      source: 'acoustic',
      confidence: 0.82,
      agreement: 'agrees',
      evidence: { prosody: 'supports', words: 'supports' },
      line: "[voice: angry (acoustic 0.82; prosody and words agree); negative sentiment (-0.87): 'hate', 'terrible'; excited voice ({a}): fast speech 3.9 words/s, high pitch 292 Hz, wide range 11 st]",
      cues: ['sounds angry', "negative words: 'hate', 'terrible'"],
    },
  },
  {
    name: 'recogniser hears anger in positive words said in a level voice, with laughter → the words disagree, reported',
    voice: LEVEL,
    text: POSITIVE,
    heard: { label: 'angry', confidence: 0.82 },
    events: [{ label: 'laughter', start: 3.2, end: 3.6 }],
    expect: {
      label: 'angry',
      source: 'acoustic',
      confidence: 0.82,
      agreement: 'disagrees',
      evidence: { prosody: 'neutral', words: 'contradicts' },
      line: "[voice: angry (acoustic 0.82; words positive — they disagree); laughter at 3.2 s; positive sentiment (0.80): 'great', 'love'; neutral voice (0.00): 3.1 words/s, pitch 118 Hz]",
      cues: ['sounds angry', 'words positive, voice angry', 'laughter'],
    },
  },
  {
    name: 'recogniser hears anger in an excited voice saying positive words → mixed',
    voice: EXCITED,
    text: POSITIVE,
    heard: { label: 'angry', confidence: 0.7 },
    expect: {
      label: 'angry',
      source: 'acoustic',
      agreement: 'mixed',
      evidence: { prosody: 'supports', words: 'contradicts' },
      line: "[voice: angry (acoustic 0.70; prosody agrees but words positive); positive sentiment (0.80): 'great', 'love'; excited voice ({a}): fast speech 3.9 words/s, high pitch 292 Hz, wide range 11 st]",
      cues: ['sounds angry', 'words positive, voice angry'],
    },
  },
  {
    name: 'recogniser hears anger in a calm voice saying positive words → both disagree',
    voice: CALM,
    text: POSITIVE,
    heard: { label: 'angry', confidence: 0.55 },
    expect: {
      label: 'angry',
      source: 'acoustic',
      agreement: 'disagrees',
      evidence: { prosody: 'contradicts', words: 'contradicts' },
      line: "[voice: angry (acoustic 0.55; prosody calm, words positive — they disagree); positive sentiment (0.80): 'great', 'love'; calm voice ({a}): slow speech 1.6 words/s, quiet -36 dBFS]",
      cues: ['sounds angry', 'words positive, voice angry', 'prosody calm, voice angry'],
    },
  },
  {
    name: 'recogniser hears sadness in a calm voice, no transcript → prosody agrees, words absent',
    voice: CALM,
    text: null,
    heard: { label: 'sad', confidence: 0.64 },
    expect: {
      label: 'sad',
      source: 'acoustic',
      agreement: 'agrees',
      evidence: { prosody: 'supports', words: 'absent' },
      line: '[voice: sad (acoustic 0.64; prosody agrees); calm voice ({a}): slow speech 1.6 words/s, quiet -36 dBFS]',
    },
  },
  {
    name: 'recogniser hears a neutral voice over clearly negative words → the words are reported against it',
    voice: LEVEL,
    text: NEGATIVE,
    heard: { label: 'neutral', confidence: 0.9 },
    expect: {
      label: 'neutral',
      source: 'acoustic',
      agreement: 'mixed',
      evidence: { prosody: 'supports', words: 'contradicts' },
      line: "[voice: neutral (acoustic 0.90; prosody agrees but words negative); negative sentiment (-0.87): 'hate', 'terrible'; neutral voice (0.00): 3.1 words/s, pitch 118 Hz]",
    },
  },
  {
    name: 'recogniser hears happiness with neutral words and a level voice → nothing to agree or disagree',
    voice: LEVEL,
    text: NEUTRAL,
    heard: { label: 'happy', confidence: 0.66 },
    events: [
      { label: 'music', start: 0, end: 5.5 },
      { label: 'applause' },
      { label: 'laughter', start: 1 },
      { label: 'coughing', start: 2 },
      { label: 'crying', start: 4 },
      { label: 'sneezing', start: 5 },
    ],
    expect: {
      label: 'happy',
      source: 'acoustic',
      agreement: 'unknown',
      evidence: { prosody: 'neutral', words: 'neutral' },
      line: '[voice: happy (acoustic 0.66); music 0.0–5.5 s, laughter at 1.0 s, coughing at 2.0 s, crying at 4.0 s, +2 more; neutral sentiment (0.00); neutral voice (0.00): 3.1 words/s, pitch 118 Hz]',
    },
  },
  {
    name: 'recogniser hears surprise in silence → its label stands, nothing to judge it by',
    voice: SILENCE,
    text: null,
    heard: { label: 'surprised', confidence: 0.5 },
    expect: {
      label: 'surprised',
      source: 'acoustic',
      agreement: 'unknown',
      evidence: { prosody: 'absent', words: 'absent' },
      line: '[voice: surprised (acoustic 0.50); no speech]',
    },
  },
];

describe('the emotion of a turn, case by case', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const a = analysisFromMeasures(
        { ...c.voice, text: c.text },
        { heard: c.heard, events: c.events ? heardEvents({ text: '', events: c.events }, c.voice.durationSec) : [] },
      );
      assert.equal(a.emotion.label, c.expect.label);
      assert.equal(a.emotion.source, c.expect.source);
      if (c.expect.confidence !== undefined) assert.equal(a.emotion.confidence, c.expect.confidence);
      assert.ok(a.emotion.confidence >= 0 && a.emotion.confidence <= 1);
      if (a.emotion.source === 'prosody') assert.ok(a.emotion.confidence <= PROSODY_CONFIDENCE.cap);
      assert.equal(a.emotion.agreement, c.expect.agreement);
      assert.deepEqual(a.emotion.evidence, c.expect.evidence);
      const line = c.expect.line.replace('{a}', a.arousalScore.toFixed(2)).replace('{c}', a.emotion.confidence.toFixed(2));
      assert.equal(describeForModel(a), line);
      if (c.expect.cues) assert.deepEqual(a.cues.slice(0, c.expect.cues.length), c.expect.cues, a.cues.join(' | '));
      assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
    });
  }

  test('agreement sums up the two lines of evidence', () => {
    assert.equal(agreementOf({ prosody: 'supports', words: 'absent' }), 'agrees');
    assert.equal(agreementOf({ prosody: 'contradicts', words: 'neutral' }), 'disagrees');
    assert.equal(agreementOf({ prosody: 'supports', words: 'contradicts' }), 'mixed');
    assert.equal(agreementOf({ prosody: 'neutral', words: 'absent' }), 'unknown');
  });
});

describe("the recogniser's emotion and events", () => {
  test("takes the transcript's own emotion, clamped and rounded", () => {
    assert.deepEqual(acousticEmotion({ text: 'x', emotion: { label: 'sad', confidence: 0.8333 } }), { label: 'sad', confidence: 0.83 });
    assert.deepEqual(acousticEmotion({ text: 'x', emotion: { label: 'happy', confidence: 1.7 } }), { label: 'happy', confidence: 1 });
    assert.equal(acousticEmotion({ text: 'x' }), undefined);
    assert.equal(acousticEmotion(undefined), undefined);
  });

  test('else the label carried by the most speech time across the segments, confidence-weighted', () => {
    const heard = acousticEmotion({
      text: 'a b c',
      segments: [
        { start: 0, end: 1, text: 'a', emotion: { label: 'happy', confidence: 0.9 } },
        { start: 1, end: 4, text: 'b', emotion: { label: 'angry', confidence: 0.8 } },
        { start: 4, end: 5, text: 'c', emotion: { label: 'happy', confidence: 0.9 } },
        { start: 5, end: 6, text: 'd' },
      ],
    });
    // angry: 3 s of 5 s with an emotion, at 0.8 → 0.48
    assert.deepEqual(heard, { label: 'angry', confidence: 0.48 });
  });

  test('events: lower-cased, speech dropped, clamped into the audio, in time order; else from the segments', () => {
    assert.deepEqual(
      heardEvents(
        {
          text: '',
          events: [
            { label: 'Applause', start: 9, end: 14, confidence: 0.912 },
            { label: 'Speech', start: 0, end: 9 },
            { label: 'Laughter', start: 3.2049 },
            { label: 'BGM' },
          ],
        },
        12,
      ),
      [{ label: 'laughter', start: 3.2 }, { label: 'applause', start: 9, end: 12, confidence: 0.91 }, { label: 'bgm' }],
    );
    assert.deepEqual(heardEvents({ text: 'a', segments: [{ start: 0, end: 2, text: 'a', events: [{ label: 'crying', start: 0.5 }] }] }, 2), [
      { label: 'crying', start: 0.5 },
    ]);
    assert.deepEqual(heardEvents(undefined, 2), []);
  });
});

describe('the analyzer on a real recording', () => {
  const speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0890.wav'));
  const text = 'unless to be rather cold hearted and rather selfish is to be ill disposed';

  test('without an emotion model the emotion comes from prosody and there are no events', async () => {
    const a = await createProsodyAnalyzer().analyze({ pcm: speech, transcript: { text } });
    assert.equal(a.emotion.source, 'prosody');
    assert.ok(a.emotion.confidence > 0 && a.emotion.confidence <= PROSODY_CONFIDENCE.cap);
    assert.deepEqual(a.events, []);
  });

  test("with a recogniser's emotion and events, they lead and reach the line", async () => {
    const a = await createProsodyAnalyzer().analyze({
      pcm: speech,
      transcript: { text, language: 'en', emotion: { label: 'happy', confidence: 0.77 }, events: [{ label: 'laughter', start: 1.5, end: 1.9 }] },
    });
    assert.deepEqual(
      { label: a.emotion.label, confidence: a.emotion.confidence, source: a.emotion.source },
      { label: 'happy', confidence: 0.77, source: 'acoustic' },
    );
    // The words are negative to VADER ("selfish", "ill"): they contradict a happy voice.
    assert.equal(a.sentiment, 'negative');
    assert.equal(a.emotion.evidence.words, 'contradicts');
    assert.deepEqual(a.events, [{ label: 'laughter', start: 1.5, end: 1.9 }]);
    assert.ok(a.cues.includes('words negative, voice happy'), a.cues.join(' | '));
    assert.match(describeForModel(a), /^\[voice: happy \(acoustic 0\.77; .*words negative.*\); laughter at 1\.5 s; negative sentiment/);
  });
});
