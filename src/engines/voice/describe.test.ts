import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analysisFromMeasures } from './analysis.js';
import { describeForModel } from './describe.js';
import { SILENCE } from './test-measures.js';
import type { VoiceAnalysis, VoiceMeasures } from './types.js';

/** An analysis built the way the analyzer builds it, from synthetic measures. */
function analysisOf(measures: VoiceMeasures): VoiceAnalysis {
  return analysisFromMeasures(measures);
}

const upset: VoiceMeasures = {
  durationSec: 6,
  speechSec: 4.2,
  pitch: { medianHz: 292, minHz: 180, maxHz: 420, p10Hz: 210, p90Hz: 400, rangeSemitones: 11.2, voicedSec: 2.5 },
  loudness: { rmsDb: -18, peakDb: -3, speechRmsDb: -14 },
  rate: { wordsPerSec: 3.9, syllablesPerSec: 7, source: 'transcript' },
  pauses: { count: 1, totalSec: 1.4, longestSec: 1.4, ratio: 0.25, source: 'vad' },
  text: {
    compound: -0.872,
    pos: 0,
    neg: 0.62,
    neu: 0.38,
    words: [
      { phrase: 'hate', effect: -0.14 },
      { phrase: 'terrible', effect: -0.09 },
    ],
  },
};

describe('cues and the line the language model sees', () => {
  test('an upset, fast, high voice with a long pause reads as in the README, strongest cue first', () => {
    const a = analysisOf(upset);
    assert.equal(a.sentiment, 'negative');
    assert.equal(a.arousal, 'excited');
    // No emotion model: negative words in an excited voice read as angry, from prosody, at the cap.
    assert.deepEqual([a.emotion.label, a.emotion.source, a.emotion.confidence], ['angry', 'prosody', 0.6]);
    assert.equal(
      describeForModel(a),
      `[voice: angry (prosody 0.60); negative sentiment (-0.87): 'hate', 'terrible'; excited voice (${a.arousalScore.toFixed(2)}): ` +
        'fast speech 3.9 words/s, high pitch 292 Hz, wide range 11 st; long pause 1.4 s]',
    );
    assert.deepEqual(a.cues, ["negative words: 'hate', 'terrible'", 'fast speech', 'raised pitch', 'wide pitch range', 'long pause']);
  });

  test('silence says "no speech" and nothing else', () => {
    const a = analysisOf(SILENCE);
    assert.equal(describeForModel(a), '[voice: no speech]');
    assert.deepEqual(a.cues, ['no speech']);
    assert.equal(a.arousal, 'neutral');
  });

  test('a neutral voice carries its basic numbers instead of cues', () => {
    const a = analysisOf({
      ...upset,
      pitch: { medianHz: 118, minHz: 90, maxHz: 160, p10Hz: 96, p90Hz: 144, rangeSemitones: 7, voicedSec: 2 },
      loudness: { rmsDb: -24, peakDb: -6, speechRmsDb: -20 },
      rate: { wordsPerSec: 3.1, syllablesPerSec: 4.4, source: 'transcript' },
      pauses: { count: 0, totalSec: 0, longestSec: 0, ratio: 0, source: 'vad' },
      text: { compound: 0, pos: 0, neg: 0, neu: 1, words: [] },
    });
    assert.equal(describeForModel(a), '[voice: neutral sentiment (0.00); neutral voice (0.00): 3.1 words/s, pitch 118 Hz]');
    assert.deepEqual(a.cues, []);
  });

  test('without a transcript the sentiment part is left out and an estimated rate is marked', () => {
    const a = analysisOf({ ...upset, text: null, rate: { wordsPerSec: 4.6, syllablesPerSec: 7, source: 'syllable-estimate' } });
    assert.equal(a.emotion.label, 'neutral'); // an excited voice alone names no emotion
    assert.match(describeForModel(a), /^\[voice: excited voice \(0\.\d\d\): fast speech 4\.6 words\/s \(est\.\), high pitch 292 Hz, /);
  });

  test('many pauses, quiet and slow speech are named', () => {
    const a = analysisOf({
      ...upset,
      pitch: { medianHz: 100, minHz: 85, maxHz: 120, p10Hz: 92, p90Hz: 112, rangeSemitones: 3.4, voicedSec: 2 },
      loudness: { rmsDb: -42, peakDb: -25, speechRmsDb: -36 },
      rate: { wordsPerSec: 1.6, syllablesPerSec: 2.4, source: 'transcript' },
      pauses: { count: 4, totalSec: 3.2, longestSec: 1.1, ratio: 0.4, source: 'vad' },
      text: null,
    });
    assert.equal(a.arousal, 'calm');
    assert.deepEqual(a.cues, ['slow speech', 'quiet', 'many pauses']);
    assert.match(
      describeForModel(a),
      /^\[voice: calm voice \(-0\.\d\d\): slow speech 1\.6 words\/s, quiet -36 dBFS; 4 pauses, 40% of the time, longest 1\.1 s\]$/,
    );
  });

  test('the description is one line and the analysis is plain JSON', () => {
    const a = analysisOf(upset);
    assert.ok(!describeForModel(a).includes('\n'));
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  });
});
