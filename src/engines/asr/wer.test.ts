import assert from 'node:assert/strict';
import test from 'node:test';
import { corpusWer, normaliseForWer, numberToWords, wer, wordErrors } from './wer.js';

test('spells numbers from 0 to 99 as they are spoken', () => {
  assert.equal(numberToWords(0), 'zero');
  assert.equal(numberToWords(7), 'seven');
  assert.equal(numberToWords(13), 'thirteen');
  assert.equal(numberToWords(40), 'forty');
  assert.equal(numberToWords(42), 'forty two');
  assert.equal(numberToWords(99), 'ninety nine');
});

test('spells hundreds and thousands without "and"', () => {
  assert.equal(numberToWords(100), 'one hundred');
  assert.equal(numberToWords(305), 'three hundred five');
  assert.equal(numberToWords(2024), 'two thousand twenty four');
});

test('normalises case, punctuation, hyphens and quotes', () => {
  assert.deepEqual(normaliseForWer('Hello, World! "Ill-disposed"... isn\'t it?'), ['hello', 'world', 'ill', 'disposed', "isn't", 'it']);
});

test('treats digits and number words as the same words', () => {
  assert.deepEqual(normaliseForWer('Press 1 to mute, 2 to lock'), normaliseForWer('press one to mute two to lock'));
  assert.deepEqual(normaliseForWer('forty-two'), normaliseForWer('42'));
  assert.deepEqual(normaliseForWer('the 3rd and 21st'), ['the', 'third', 'and', 'twenty', 'first']);
  assert.deepEqual(normaliseForWer('3D audio'), ['three', 'd', 'audio']);
  assert.deepEqual(normaliseForWer('1,000 people'), ['one', 'thousand', 'people']);
});

test('spells out titles the way a dictionary writes them', () => {
  assert.deepEqual(normaliseForWer('Mr. John Dashwood'), ['mister', 'john', 'dashwood']);
  assert.equal(wer('and mister john dashwood', 'and mr john dashwood'), 0);
});

test('counts substitutions, deletions and insertions', () => {
  assert.deepEqual(wordErrors(['a', 'b', 'c'], ['a', 'x', 'c']), { substitutions: 1, deletions: 0, insertions: 0, referenceWords: 3 });
  assert.deepEqual(wordErrors(['a', 'b', 'c'], ['a', 'c']), { substitutions: 0, deletions: 1, insertions: 0, referenceWords: 3 });
  assert.deepEqual(wordErrors(['a', 'b'], ['a', 'b', 'c', 'd']), { substitutions: 0, deletions: 0, insertions: 2, referenceWords: 2 });
});

test('scores a perfect hypothesis 0 and an empty one 1', () => {
  assert.equal(wer('He was not an ill disposed young man.', 'he was not an ill-disposed young man'), 0);
  assert.equal(wer('he was not an ill disposed young man', ''), 1);
  assert.equal(wer('', ''), 0);
});

test('can exceed 1 when the hypothesis inserts many words', () => {
  assert.equal(wer('yes', 'yes no no no'), 3);
});

test('computes corpus WER over all words, not as a mean of rates', () => {
  const pairs = [
    { reference: 'one two three four', hypothesis: 'one two three four' },
    { reference: 'five', hypothesis: 'six' },
  ];
  assert.equal(corpusWer(pairs), 1 / 5);
});
