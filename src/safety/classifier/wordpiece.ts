/**
 * BERT's tokenizer (BasicTokenizer + WordPiece, as `BertTokenizer` / tokenizers' `BertNormalizer`,
 * `BertPreTokenizer` and `WordPiece` do it), from a `vocab.txt`: one token per line, id = line.
 *
 * Written here because a classifier needs only this, and it is small: the alternative
 * (transformers.js) brings its own onnxruntime and a download-first model loader.
 * Steps: clean (drop control characters, every whitespace becomes a space) → pad CJK ideographs
 * with spaces → lower case and strip accents (uncased models) → split on whitespace and on every
 * punctuation character → greedy longest-match-first word pieces (`##` continues a word); a word
 * with no split, or longer than 100 characters, becomes `[UNK]`.
 */

/** What the tokenizer needs to know about the model. */
export interface WordPieceOptions {
  /** Lower-case and strip accents (uncased models). Default true. */
  lowerCase?: boolean;
  /** Longest word (in characters) split into pieces; longer ones become `[UNK]`. Default 100. */
  maxWordChars?: number;
}

/** An encoded window: `[CLS] pieces [SEP]`. */
export interface Encoding {
  ids: number[];
  /** The pieces, for tests and logs. */
  tokens: string[];
}

export class WordPieceTokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;
  readonly padId: number;
  private readonly lowerCase: boolean;
  private readonly maxWordChars: number;

  constructor(vocab: ReadonlyMap<string, number>, options: WordPieceOptions = {}) {
    this.vocab = vocab;
    const id = (t: string): number => {
      const v = vocab.get(t);
      if (v === undefined) throw new Error(`the vocabulary has no ${t} token`);
      return v;
    };
    this.clsId = id('[CLS]');
    this.sepId = id('[SEP]');
    this.unkId = id('[UNK]');
    this.padId = vocab.get('[PAD]') ?? 0;
    this.lowerCase = options.lowerCase ?? true;
    this.maxWordChars = options.maxWordChars ?? 100;
  }

  /** Parses a `vocab.txt` (one token per line; line number = id). */
  static fromVocabText(text: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    const vocab = new Map<string, number>();
    const lines = text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((token, i) => {
      if (!vocab.has(token)) vocab.set(token, i);
    });
    return new WordPieceTokenizer(vocab, options);
  }

  /** Words after cleaning, lower-casing and punctuation splitting. */
  basicTokens(text: string): string[] {
    let clean = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
      if (isWhitespace(ch)) clean += ' ';
      else if (isCjk(cp)) clean += ` ${ch} `;
      else clean += ch;
    }
    const out: string[] = [];
    for (let word of clean.split(' ')) {
      if (word === '') continue;
      if (this.lowerCase)
        word = word
          .toLowerCase()
          .normalize('NFD')
          .replace(/\p{Mn}/gu, '');
      let current = '';
      for (const ch of word) {
        if (isPunctuation(ch)) {
          if (current) out.push(current);
          out.push(ch);
          current = '';
        } else {
          current += ch;
        }
      }
      if (current) out.push(current);
    }
    return out;
  }

  /** Word pieces of one word (`[UNK]` when it cannot be split). */
  wordPieces(word: string): string[] {
    const chars = [...word];
    if (chars.length > this.maxWordChars) return ['[UNK]'];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let piece: string | undefined;
      while (start < end) {
        const candidate = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        if (this.vocab.has(candidate)) {
          piece = candidate;
          break;
        }
        end--;
      }
      if (piece === undefined) return ['[UNK]'];
      pieces.push(piece);
      start = end;
    }
    return pieces;
  }

  /** All word pieces of `text`. */
  tokenize(text: string): string[] {
    return this.basicTokens(text).flatMap((w) => this.wordPieces(w));
  }

  /**
   * `[CLS] … [SEP]` windows of at most `maxLength` ids covering the whole text (a classifier sees
   * 512 positions; a longer passage is read in overlapping windows, `stride` pieces apart).
   */
  encodeWindows(text: string, maxLength = 512, stride = 384): Encoding[] {
    const tokens = this.tokenize(text);
    const room = Math.max(1, maxLength - 2);
    const step = Math.max(1, Math.min(stride, room));
    const windows: Encoding[] = [];
    for (let start = 0; ; start += step) {
      const slice = tokens.slice(start, start + room);
      windows.push({
        tokens: ['[CLS]', ...slice, '[SEP]'],
        ids: [this.clsId, ...slice.map((t) => this.vocab.get(t) ?? this.unkId), this.sepId],
      });
      if (start + room >= tokens.length) break;
    }
    return windows;
  }
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /\p{Zs}/u.test(ch);
}

function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return /[\p{Cc}\p{Cf}]/u.test(ch);
}

/** ASCII non-alphanumerics count as punctuation (as in BERT), plus every Unicode P* character. */
function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(ch);
}

/** CJK Unified Ideographs and their extensions (BERT's `_is_chinese_char`). */
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
