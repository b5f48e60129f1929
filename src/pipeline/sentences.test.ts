import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitSentences } from './sentences.js';

test('splits plain sentences in order', () => {
  assert.deepEqual(splitSentences('Hello there. How are you? I am fine!'), ['Hello there.', 'How are you?', 'I am fine!']);
});

test('does not split after common abbreviations', () => {
  assert.deepEqual(splitSentences('Dr. Smith met Mr. Jones at St. Mary. They talked.'), ['Dr. Smith met Mr. Jones at St. Mary.', 'They talked.']);
  assert.deepEqual(splitSentences('Bring fruit, e.g. apples or pears. Thanks.'), ['Bring fruit, e.g. apples or pears.', 'Thanks.']);
});

test('does not split numbers with decimals or after a number abbreviation', () => {
  assert.deepEqual(splitSentences('The price rose 3.5 percent to $12.99 today. Good.'), ['The price rose 3.5 percent to $12.99 today.', 'Good.']);
  assert.deepEqual(splitSentences('See No. 7 on the list. Done.'), ['See No. 7 on the list.', 'Done.']);
});

test('keeps initials together', () => {
  assert.deepEqual(splitSentences('J. R. R. Tolkien wrote it. The U.S.A. is large.'), ['J. R. R. Tolkien wrote it.', 'The U.S.A. is large.']);
});

test('drops whitespace and punctuation-only pieces', () => {
  assert.deepEqual(splitSentences('  ...   '), []);
  assert.deepEqual(splitSentences('One.\n\n\nTwo.'), ['One.', 'Two.']);
});

test('cuts a very long sentence at clause punctuation', () => {
  const long = `${Array.from({ length: 40 }, (_, i) => `clause number ${i}`).join(', ')}.`;
  const pieces = splitSentences(long);
  assert.ok(pieces.length > 1);
  for (const p of pieces) assert.ok(p.length <= 280, p);
  assert.equal(pieces.join(' ').replace(/\s+/g, ' '), long);
});

test('handles text without final punctuation and other languages', () => {
  assert.deepEqual(splitSentences('no punctuation here'), ['no punctuation here']);
  assert.deepEqual(splitSentences('Guten Tag. Wie geht es z.B. Ihnen? Gut.', 'de'), ['Guten Tag.', 'Wie geht es z.B. Ihnen?', 'Gut.']);
});
