/**
 * Word error rate: (substitutions + deletions + insertions) / words in the reference, after
 * both sides are normalised so that spelling conventions do not count as errors — lower case,
 * no punctuation, hyphens as spaces, numbers as words ("42" = "forty two", "3rd" = "third"),
 * common titles spelled out ("mr" = "mister"). Used to score recognisers on real speech.
 */

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ORDINAL_ONES: Record<string, string> = {
  one: 'first',
  two: 'second',
  three: 'third',
  five: 'fifth',
  eight: 'eighth',
  nine: 'ninth',
  twelve: 'twelfth',
};

/** Spoken titles and symbols, written the way a recogniser's dictionary spells them. */
const EXPANSIONS: Record<string, string> = {
  mr: 'mister',
  mrs: 'missus',
  dr: 'doctor',
  '%': 'percent',
  '&': 'and',
};

/** 0 ≤ n < 1,000,000 in words ("one hundred twenty three"); larger numbers digit by digit. */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`not a whole number: ${n}`);
  if (n >= 1_000_000)
    return String(n)
      .split('')
      .map((d) => ONES[Number(d)]!)
      .join(' ');
  if (n < 20) return ONES[n]!;
  if (n < 100) return TENS[Math.floor(n / 10)]! + (n % 10 ? ` ${ONES[n % 10]}` : '');
  if (n < 1000) return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${numberToWords(n % 100)}` : ''}`;
  return `${numberToWords(Math.floor(n / 1000))} thousand${n % 1000 ? ` ${numberToWords(n % 1000)}` : ''}`;
}

/** "twenty three" → "twenty third". */
function ordinalWords(words: string): string {
  const parts = words.split(' ');
  const last = parts.pop()!;
  const ord = ORDINAL_ONES[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return [...parts, ord].join(' ');
}

/** The words of `text` after normalisation (see the file comment). */
export function normaliseForWer(text: string): string[] {
  let s = text.toLowerCase().normalize('NFKC');
  s = s.replace(/[‘’ʼ]/g, "'");
  // Keep symbols that are spoken, as words.
  s = s.replace(/%/g, ' % ').replace(/&/g, ' & ');
  // 1,000 → 1000 before commas go; 3.5 stays two numbers ("three point five" is rare in tests).
  s = s.replace(/(\d),(?=\d{3}\b)/g, '$1');
  s = s.replace(/(\d)\.(\d)/g, '$1 point $2');
  // Hyphens, dashes, slashes and other punctuation separate words; apostrophes inside words stay.
  s = s.replace(/[^\p{L}\p{N}'%&\s]/gu, ' ');
  s = s.replace(/(^|\s)'+|'+(?=\s|$)/g, ' ');
  const out: string[] = [];
  for (const token of s.split(/\s+/)) {
    if (!token) continue;
    const ordinal = /^(\d+)(st|nd|rd|th)$/.exec(token);
    if (ordinal) {
      out.push(...ordinalWords(numberToWords(Number(ordinal[1]))).split(' '));
      continue;
    }
    // Digits glued to letters ("3d", "mp3") split into number and letters.
    const pieces = token.match(/\d+|[^\d]+/g) ?? [];
    for (const piece of pieces) {
      if (/^\d+$/.test(piece)) out.push(...numberToWords(Number(piece)).split(' '));
      else out.push(...(EXPANSIONS[piece] ?? piece).split(' '));
    }
  }
  return out;
}

/** Word-level edit counts between a reference and a hypothesis (already normalised). */
export interface WordErrors {
  substitutions: number;
  deletions: number;
  insertions: number;
  /** Words in the reference. */
  referenceWords: number;
}

/** Levenshtein alignment over words. */
export function wordErrors(reference: readonly string[], hypothesis: readonly string[]): WordErrors {
  const n = reference.length;
  const m = hypothesis.length;
  // cost[j] for the current row, with the operation counts that got there.
  type Cell = { cost: number; s: number; d: number; i: number };
  let prev: Cell[] = Array.from({ length: m + 1 }, (_, j) => ({ cost: j, s: 0, d: 0, i: j }));
  for (let r = 1; r <= n; r++) {
    const row: Cell[] = [{ cost: r, s: 0, d: r, i: 0 }];
    for (let j = 1; j <= m; j++) {
      const same = reference[r - 1] === hypothesis[j - 1];
      const diag = prev[j - 1]!;
      const up = prev[j]!;
      const left = row[j - 1]!;
      const sub = { cost: diag.cost + (same ? 0 : 1), s: diag.s + (same ? 0 : 1), d: diag.d, i: diag.i };
      const del = { cost: up.cost + 1, s: up.s, d: up.d + 1, i: up.i };
      const ins = { cost: left.cost + 1, s: left.s, d: left.d, i: left.i + 1 };
      row.push(sub.cost <= del.cost && sub.cost <= ins.cost ? sub : del.cost <= ins.cost ? del : ins);
    }
    prev = row;
  }
  const last = prev[m]!;
  return { substitutions: last.s, deletions: last.d, insertions: last.i, referenceWords: n };
}

/** WER of one hypothesis against one reference (raw texts; both are normalised). */
export function wer(reference: string, hypothesis: string): number {
  return rate(wordErrors(normaliseForWer(reference), normaliseForWer(hypothesis)));
}

/** Corpus WER: all errors over all reference words (not the mean of per-utterance rates). */
export function corpusWer(pairs: ReadonlyArray<{ reference: string; hypothesis: string }>): number {
  const total: WordErrors = { substitutions: 0, deletions: 0, insertions: 0, referenceWords: 0 };
  for (const { reference, hypothesis } of pairs) {
    const e = wordErrors(normaliseForWer(reference), normaliseForWer(hypothesis));
    total.substitutions += e.substitutions;
    total.deletions += e.deletions;
    total.insertions += e.insertions;
    total.referenceWords += e.referenceWords;
  }
  return rate(total);
}

/** errors / reference words; an empty reference scores 0 when the hypothesis is empty too, else 1. */
export function rate(e: WordErrors): number {
  const errors = e.substitutions + e.deletions + e.insertions;
  if (e.referenceWords === 0) return errors === 0 ? 0 : 1;
  return errors / e.referenceWords;
}
