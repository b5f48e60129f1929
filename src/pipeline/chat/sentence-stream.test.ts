import { test } from 'node:test';
import assert from 'node:assert/strict';
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
