import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSpans, ProfanityList } from './profanity.js';

const list = new ProfanityList();
const found = (text: string): string[] => list.find(text).map((m) => text.slice(m.start, m.end));

/** Clean text with tricky substrings (Scunthorpe problem), names, clinical words. */
const PASS = [
  'Dick Van Dyke sang in the film.',
  'Have you read Moby Dick?',
  'Ask Dick about it.',
  'Add the shiitake mushrooms.',
  'What a sweet pussycat.',
  'A pussy willow by the pond.',
  'I grew up in Scunthorpe.',
  'We drove through Essex and Sussex to Middlesex.',
  'The assassin escaped.',
  'Two cocktails, please.',
  'My therapist said so.',
  'The analysis is done.',
  'He was hell-bent on winning.',
  'The pilot left the cockpit.',
  'She graduated magna cum laude.',
  'Add a pinch of cumin.',
  'It was flame-retardant.',
  'Tit for tat.',
  'Sex education starts at twelve.',
  'The vagina and the penis are organs.',
  'The classic passage was a massage of the text.',
  'Hancock and Hitchcock watched the peacock.',
  'Buttons and buttocks.',
  'U S A',
  'I a m here',
  'Compute 2*3*4 and x*y.',
  'Hello!',
];

/** Profanity as people write it, leet and obfuscated forms included: [text, whole words found]. */
const CATCH: Array<[string, string[]]> = [
  ['fuck you', ['fuck']],
  ['FUCK', ['FUCK']],
  ['you dick', ['dick']],
  ['DICK', ['DICK']],
  ['What a Dickhead!', ['Dickhead']],
  ['f u c k', ['f u c k']],
  ['F-U-C-K this', ['F-U-C-K']],
  ['s.h.i.t happens', ['s.h.i.t']],
  ['sh1t', ['sh1t']],
  ['fvck off', ['fvck']],
  ['sh*t', ['sh*t']],
  ['f**k', ['f**k']],
  ['what an a**hole', ['a**hole']],
  ['b*tch', ['b*tch']],
  ['f*cking hell', ['f*cking']],
  ['phuck', ['phuck']],
  ['fuq', ['fuq']],
  ['biatch', ['biatch']],
  ['bullshit!', ['bullshit']],
  ['a$$hole', ['a$$hole']],
  ['motherfucker', ['motherfucker']],
  ['fück', ['fück']],
  ['shit, fuck.', ['shit', 'fuck']],
  ['pussy', ['pussy']],
  ['FUUUUCK', ['FUUUUCK']],
];

describe('word list', () => {
  for (const text of PASS) {
    it(`passes ${JSON.stringify(text)}`, () => assert.deepEqual(found(text), []));
  }
  for (const [text, words] of CATCH) {
    it(`catches ${JSON.stringify(text)}`, () => assert.deepEqual(found(text), words));
  }

  it('reports the word each match stands for', () => {
    assert.deepEqual(
      list.find('f u c k and sh1t and a**hole').map((m) => m.term),
      ['fuck', 'shit', 'asshole'],
    );
  });

  it('gives offsets into the original text, so masking hides exactly the words', () => {
    const text = 'Well, f u c k that sh1t!';
    const masked = maskSpans(text, list.find(text));
    assert.equal(masked, 'Well, * * * * that ****!');
    assert.equal(masked.length, text.length);
  });

  it('is deterministic: the same text gives the same matches', () => {
    const text = 'shit and f**k and Dick';
    assert.deepEqual(list.find(text), new ProfanityList().find(text));
  });
});
