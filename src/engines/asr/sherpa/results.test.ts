import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitWindows } from './recognizer.js';
import { cleanText, emotionOf, eventOf, languageOf, mergeEvents, overallEmotion, wordsOf } from './results.js';

const result = (fields: Partial<Parameters<typeof wordsOf>[0]>) => ({ text: '', timestamps: [], tokens: [], ...fields });

describe('sherpa results', () => {
  test('maps SenseVoice tags to emotions, events and languages, and ignores the rest', () => {
    assert.equal(emotionOf(result({ emotion: '<|HAPPY|>' })), 'happy');
    assert.equal(emotionOf(result({ emotion: '<|EMO_UNKNOWN|>' })), undefined);
    assert.equal(emotionOf(result({ emotion: '' })), undefined);
    assert.equal(eventOf(result({ event: '<|BGM|>' })), 'music');
    assert.equal(eventOf(result({ event: '<|Cough|>' })), 'coughing');
    assert.equal(eventOf(result({ event: '<|Speech|>' })), undefined);
    assert.equal(languageOf(result({ lang: '<|yue|>' })), 'yue');
    assert.equal(languageOf(result({ lang: '<|nospeech|>' })), undefined);
  });

  test('strips stray tags and spaces from the text', () => {
    assert.equal(cleanText(' <|en|>hello  <|Laughter|> there '), 'hello there');
  });

  test('joins word pieces, starts a word at a leading space or a CJK character, and offsets times', () => {
    const words = wordsOf(result({ tokens: [' hel', 'lo', ' world', '你', '好'], timestamps: [0, 0.06, 0.3, 0.6, 0.66] }), {
      offset: 30,
      limit: 40,
      tokenSeconds: 0.06,
    });
    assert.deepEqual(words, [
      { word: 'hello', start: 30, end: 30.12 },
      { word: 'world', start: 30.3, end: 30.36 },
      { word: '你', start: 30.6, end: 30.66 },
      { word: '好', start: 30.66, end: 30.72 },
    ]);
  });

  test('uses TDT durations as token lengths when present', () => {
    const words = wordsOf(result({ tokens: [' a', ' b'], timestamps: [0, 0.4], durations: [0.32, 0] }), { offset: 0, limit: 10, tokenSeconds: 0.08 });
    assert.deepEqual(words, [
      { word: 'a', start: 0, end: 0.32 },
      { word: 'b', start: 0.4, end: 0.48 },
    ]);
  });

  test('picks the emotion heard longest, with its share of the time as confidence', () => {
    assert.deepEqual(
      overallEmotion([
        { label: 'happy', seconds: 10 },
        { label: 'sad', seconds: 30 },
        { label: 'happy', seconds: 5 },
      ]),
      { label: 'sad', confidence: 0.667 },
    );
    assert.equal(overallEmotion([]), undefined);
  });

  test('merges events of adjacent windows', () => {
    assert.deepEqual(
      mergeEvents([
        { label: 'music', start: 0, end: 30 },
        { label: 'music', start: 30, end: 45 },
        { label: 'laughter', start: 45, end: 50 },
      ]),
      [
        { label: 'music', start: 0, end: 45 },
        { label: 'laughter', start: 45, end: 50 },
      ],
    );
  });

  test('cuts long audio into windows of at most 30 s at the quietest moment near the limit', () => {
    const rate = 100;
    const samples = new Float32Array(75 * rate).fill(0.5);
    samples.fill(0, 28 * rate, 28 * rate + 10); // a pause at 28.0–28.1 s: cut at its end
    const windows = splitWindows(samples, rate, 30);
    assert.deepEqual(
      windows.map((w) => [w.start, w.samples.length / rate]),
      [
        [0, 28.1],
        [28.1, 30],
        [58.1, 16.9],
      ],
    );
    assert.equal(splitWindows(new Float32Array(0), rate, 30).length, 1);
  });
});
