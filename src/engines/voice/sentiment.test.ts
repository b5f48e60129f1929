import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeTextSentiment, isEnglish, sentimentLabel } from './sentiment.js';

describe('text sentiment (VADER)', () => {
  test("labels follow VADER's thresholds: ≥ 0.05 positive, ≤ -0.05 negative", () => {
    assert.equal(sentimentLabel(0.05), 'positive');
    assert.equal(sentimentLabel(0.0499), 'neutral');
    assert.equal(sentimentLabel(0), 'neutral');
    assert.equal(sentimentLabel(-0.0499), 'neutral');
    assert.equal(sentimentLabel(-0.05), 'negative');
  });

  test('a happy sentence is positive and names the words that made it so', async () => {
    const s = await analyzeTextSentiment('I am so happy with how everything turned out today, thank you so much!');
    assert.ok(s && s.compound >= 0.5, JSON.stringify(s));
    assert.equal(s.words[0]?.phrase, 'happy');
    assert.ok(s.pos > s.neg);
  });

  test('an angry sentence is negative and names its negative words', async () => {
    const s = await analyzeTextSentiment('This is terrible, I hate how everything went wrong today.');
    assert.ok(s && s.compound <= -0.5, JSON.stringify(s));
    const phrases = s.words.map((w) => w.phrase);
    for (const w of ['hate', 'terrible']) assert.ok(phrases.includes(w), phrases.join());
    assert.ok(s.words.every((w) => w.effect < 0));
  });

  test('negation flips a word and the negated phrase is quoted whole', async () => {
    const notGood = await analyzeTextSentiment('the food was not good at all');
    assert.ok(notGood && notGood.compound < -0.05);
    assert.equal(notGood.words[0]?.phrase, 'not good');
    const notBad = await analyzeTextSentiment("the hotel wasn't bad");
    assert.ok(notBad && notBad.compound > 0.05);
    assert.equal(notBad.words[0]?.phrase, "wasn't bad");
  });

  test('lower-case ASR output without punctuation still scores', async () => {
    const s = await analyzeTextSentiment('i really love this it is wonderful');
    assert.ok(s && s.compound > 0.5);
  });

  test('a word said twice is listed once', async () => {
    const s = await analyzeTextSentiment('great, just great');
    assert.ok(s);
    assert.equal(s.words.filter((w) => w.phrase === 'great').length, 1);
  });

  test('empty or punctuation-only text has no sentiment', async () => {
    assert.equal(await analyzeTextSentiment(''), null);
    assert.equal(await analyzeTextSentiment('  ... ?! '), null);
  });

  test('only English (or an unknown language) is scored', () => {
    assert.ok(isEnglish(undefined));
    assert.ok(isEnglish('en'));
    assert.ok(isEnglish('en-GB'));
    assert.ok(isEnglish('english'));
    assert.ok(!isEnglish('de'));
    assert.ok(!isEnglish('eng-x')); // not a BCP-47 English tag
  });
});
