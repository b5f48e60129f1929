import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SentenceStream } from './sentence-stream.js';

test('releases a sentence only once text after it has arrived', () => {
  const s = new SentenceStream();
  assert.deepEqual(s.push('Hello there.'), []);
  assert.deepEqual(s.push(' How'), ['Hello there.']);
  assert.deepEqual(s.push(' are you? I am'), ['How are you?']);
  assert.deepEqual(s.end(), ['I am']);
});

test('does not cut after an abbreviation split across tokens', () => {
  const s = new SentenceStream();
  const out = [...s.push('Ask Dr.'), ...s.push(' Smith about it.'), ...s.push(' Then rest.'), ...s.end()];
  assert.deepEqual(out, ['Ask Dr. Smith about it.', 'Then rest.']);
});

test('gives the same sentences token by token as all at once', () => {
  const text = 'The price is 3.5 dollars. That is cheap! Is it? Yes, e.g. for you. Bye';
  const s = new SentenceStream();
  const out: string[] = [];
  for (const ch of text.match(/.{1,3}/gs)!) out.push(...s.push(ch));
  out.push(...s.end());
  assert.deepEqual(out, ['The price is 3.5 dollars.', 'That is cheap!', 'Is it?', 'Yes, e.g. for you.', 'Bye']);
});

test('lets the head of a long first sentence go ahead at a clause mark', () => {
  const s = new SentenceStream();
  assert.deepEqual(s.push('Well, the weather today is rather mild'), []);
  assert.deepEqual(s.push(', with some'), ['Well, the weather today is rather mild,']);
  assert.deepEqual(s.push(' sun later. Then rain.'), ['with some sun later.']);
  assert.deepEqual(s.end(), ['Then rain.']);
});

test('cuts a first sentence with no clause mark at a word once it is long', () => {
  const s = new SentenceStream({ firstPieceMax: 40 });
  const out = [...s.push('one two three four five six seven eight nine ten eleven')];
  assert.equal(out.length, 1);
  assert.ok(out[0]!.length >= 24 && !out[0]!.endsWith(' '), out[0]);
  assert.deepEqual([...out, ...s.end()].join(' '), 'one two three four five six seven eight nine ten eleven');
});
