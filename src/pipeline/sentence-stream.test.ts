import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRST_PIECE_MAX, firstPieceCut, nextPassage, planPassages, SentenceStream } from './sentence-stream.js';

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
  const s = new SentenceStream();
  const text = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen';
  const out = [...s.push(text)];
  assert.equal(out.length, 1);
  assert.ok(out[0]!.length > 20 && out[0]!.length <= FIRST_PIECE_MAX && !out[0]!.endsWith(' '), out[0]);
  assert.deepEqual([...out, ...s.end()].join(' '), text);
});

test('applies the same first-piece rule to a whole text as to the same text streamed', () => {
  const text = 'Parley turns text into speech on your own machine, with the voices you already know. Next one.';
  const whole = new SentenceStream();
  const all = [...whole.push(text), ...whole.end()];
  const streamed = new SentenceStream();
  const bits: string[] = [];
  for (const chunk of text.match(/.{1,4}/gs)!) bits.push(...streamed.push(chunk));
  bits.push(...streamed.end());
  assert.deepEqual(all, ['Parley turns text into speech on your own machine,', 'with the voices you already know.', 'Next one.']);
  assert.deepEqual(bits, all);
});

test('leaves a short first sentence whole, and never cuts when fast start is off', () => {
  assert.deepEqual(planPassages('Short, sweet. Next.'), ['Short, sweet.', 'Next.']);
  const s = new SentenceStream({ fastStart: false });
  assert.deepEqual(
    [...s.push('Parley turns text into speech on your own machine, with voices. Next.'), ...s.end()],
    ['Parley turns text into speech on your own machine, with voices.', 'Next.'],
  );
});

test('finds the first piece at a clause mark past the minimum, or at a word boundary', () => {
  assert.equal(firstPieceCut('Hi, there you are'), -1, 'a mark before 20 characters does not count');
  assert.equal(firstPieceCut('Well, the weather today is rather mild, with sun'), 'Well, the weather today is rather mild,'.length);
  assert.equal(firstPieceCut('no marks here at all'), -1, 'too short to cut without a mark');
  const long = 'a long sentence without any clause punctuation that goes on and on and on';
  const cut = firstPieceCut(long);
  assert.ok(cut > 20 && cut <= FIRST_PIECE_MAX && long[cut] === ' ', String(cut));
});

test('groups queued pieces into a passage within the limit, at least one piece', () => {
  assert.deepEqual(nextPassage(['Two.', 'Three.', 'Four is a bit longer than the others.'], 30), { text: 'Two. Three.', taken: 2 });
  assert.deepEqual(nextPassage(['A piece longer than the limit itself.'], 10), { text: 'A piece longer than the limit itself.', taken: 1 });
});

test('plans a whole text as a short first piece, a ramp, then full passages', () => {
  const sentence = (i: number) => `This is sentence number ${i}, which has some words in it.`;
  const text = Array.from({ length: 12 }, (_, i) => sentence(i + 1)).join(' ');
  const passages = planPassages(text);
  assert.equal(passages[0], 'This is sentence number 1,');
  assert.ok(passages[1]!.length <= 120 && passages.slice(2, -1).every((p) => p.length <= 240 && p.length > 120), JSON.stringify(passages));
  assert.equal(passages.join(' '), text);
});
