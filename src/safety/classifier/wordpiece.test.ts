import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WordPieceTokenizer } from './wordpiece.js';

const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'un',
  '##aff',
  '##able',
  'hello',
  'world',
  '!',
  ',',
  '.',
  '?',
  "'",
  'cafe',
  '##s',
  'the',
  'run',
  '##ning',
  '##n',
  'i',
  'don',
  't',
  '中',
  '国',
  'naive',
  'a',
  '##b',
  'ab',
  '##c',
];
const tok = WordPieceTokenizer.fromVocabText(`${VOCAB.join('\n')}\n`);

describe('WordPiece tokenizer', () => {
  it('splits words into the longest pieces first, continuing pieces marked ##', () => {
    assert.deepEqual(tok.tokenize('unaffable'), ['un', '##aff', '##able']);
    assert.deepEqual(tok.tokenize('running'), ['run', '##ning']);
    assert.deepEqual(tok.tokenize('abc'), ['ab', '##c']);
  });

  it('lower-cases, strips accents and splits off every punctuation mark', () => {
    assert.deepEqual(tok.tokenize('Hello, CAFÉS!'), ['hello', ',', 'cafe', '##s', '!']);
    assert.deepEqual(tok.tokenize("I don't"), ['i', 'don', "'", 't']);
    assert.deepEqual(tok.tokenize('Naïve?'), ['naive', '?']);
  });

  it('makes a word it cannot split entirely [UNK], and a word over 100 characters too', () => {
    assert.deepEqual(tok.tokenize('hello zzz world'), ['hello', '[UNK]', 'world']);
    assert.deepEqual(tok.tokenize('a'.repeat(101)), ['[UNK]']);
  });

  it('pads CJK ideographs with spaces and drops control characters', () => {
    assert.deepEqual(tok.tokenize('中国'), ['中', '国']);
    assert.deepEqual(tok.tokenize('hel\u0000lo\u200b world\tthe\nrun'), ['hello', 'world', 'the', 'run']);
  });

  it('wraps windows in [CLS] … [SEP] and covers a long text with overlapping windows', () => {
    const one = tok.encodeWindows('hello world');
    assert.deepEqual(one, [{ tokens: ['[CLS]', 'hello', 'world', '[SEP]'], ids: [2, 8, 9, 3] }]);
    const words = Array.from({ length: 25 }, (_, i) => (i % 2 ? 'world' : 'hello')).join(' ');
    const windows = tok.encodeWindows(words, 12, 8);
    assert.ok(windows.every((w) => w.ids.length <= 12 && w.ids[0] === 2 && w.ids.at(-1) === 3));
    assert.deepEqual(
      windows.map((w) => w.ids.length - 2),
      [10, 10, 9],
    );
  });

  it('tokenizes like transformers.js BertTokenizer on the same vocabulary', async (t) => {
    let transformers: typeof import('@huggingface/transformers');
    try {
      transformers = await import('@huggingface/transformers');
    } catch {
      t.skip('@huggingface/transformers is not installed: the cross-check needs it');
      return;
    }
    const tokenizerJson = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [0, 1, 2, 3, 4].map((id) => ({
        id,
        content: VOCAB[id],
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [],
        special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(VOCAB.map((v, i) => [v, i])),
      },
    };
    const reference = new transformers.BertTokenizer(tokenizerJson, { do_lower_case: true, model_max_length: 512, unk_token: '[UNK]' });
    const texts = [
      'Hello, unaffable Cafés! running the world',
      "I don't know?! NAÏVE abc ab",
      '中国 hello中国world',
      'tabs\tand\nnewlines   and  spaces',
      'emoji 🙂 and ümlauts ÀÉÎÕÜ',
      '...,,,!!!???',
      `${'a'.repeat(100)} ${'a'.repeat(101)}`,
    ];
    for (const text of texts) assert.deepEqual(tok.encodeWindows(text)[0]!.ids, reference.encode(text), text);
  });
});
