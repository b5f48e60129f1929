/**
 * The word list: profanity (swearing, vulgar slang, slurs) in English text, deterministic, ~1 ms.
 *
 * Built on `obscenity` (MIT; its English dataset, leet-speak, confusable-character and
 * repeated-letter transformers) with Parley's corrections, all measured on the tricky table in
 * profanity.test.ts (../shared/contract/10_safety_and_operations.txt §3: obscenity alone missed
 * "f u c k" and flagged "Dick", "shiitake", "pussycat"):
 * - an allow-list of words and phrases that contain a listed word but are not profane (shiitake,
 *   pussycat, cumin, magna cum laude, retardant, Penistone…), and names: "Dick" written as a name
 *   (capital D, the rest lower case, a whole word) passes, "dick" / "DICK" / "Dickhead" do not;
 * - clinical and topical words are dropped from the list (sex, vagina, penis, anal, rape, porn,
 *   orgasm…): they are not profanity, and judging sexual or violent content is the classifier's
 *   and the judge's job, with severities — a word list never maps to those;
 * - obfuscations obscenity misses: letters spaced or dotted out ("f u c k", "s.h.i.t", "F-U-C-K"),
 *   self-censored stars ("sh*t", "f**k", "b*tch") and a few spellings (phuck, fuq, biatch).
 * Spans are widened to the whole word ("bullshit", "a$$hole") so masking hides the word.
 */
import { DataSet, englishDataset, englishRecommendedTransformers, pattern, RegExpMatcher } from 'obscenity';
import type { ProfanityMatch } from '../types.js';

/** Listed words that are not profanity (see above). Compared with obscenity's `originalWord`. */
const NOT_PROFANITY = new Set([
  'anal',
  'anus',
  'bestiality',
  'dildo',
  'ejaculate',
  'hooker',
  'incest',
  'masturbate',
  'negro',
  'orgasm',
  'orgy',
  'penis',
  'porn',
  'rape',
  'scat',
  'semen',
  'sex',
  'vagina',
]);

/** Whole words (lower case) that contain a listed word and are fine. */
const ALLOWED_WORDS = new Set([
  'shiitake',
  'shiitakes',
  'pussycat',
  'pussycats',
  'pussywillow',
  'pussywillows',
  'cumin',
  'cummings',
  'dickey',
  'dickinson',
  'dickson',
  'wankel',
  'chinking',
  'niggard',
  'niggardly',
  'penistone',
  'shitterton',
  'shittim',
  'retardant',
  'retardants',
  'vandyke',
  'cockpit',
  'cockpits',
  'bluetit',
  'titmouse',
]);

/** Phrases (lower case, single spaces) whose listed word is fine in context. */
const ALLOWED_PHRASES = ['pussy cat', 'pussy willow', 'cum laude', 'booby trap', 'booby traps', 'tit for tat', 'van dyke', 'moby dick'];

/** Words a listed word is spelled out of for star masks (`a**hole`), besides the list's own words. */
const EXTRA_STAR_WORDS = ['asshole', 'bullshit', 'motherfucker', 'dickhead', 'fucker', 'bitches'];

/** Characters obscenity reads as letters (leet) that may be part of a word. */
const WORD_CHAR = /[\p{L}\p{N}$@]/u;
/** Separators between spaced-out letters. */
const SPACED_RUN = /(?<![\p{L}\p{N}$@!])[\p{L}\p{N}$@!](?:[\s.\-_·]{1,3}[\p{L}\p{N}$@!]){2,}(?![\p{L}\p{N}$@])/gu;
/** A token with a star mask between letters. */
const STARRED = /(?<![\p{L}\p{N}*])\p{L}[\p{L}*]*\*[\p{L}*]*(?![\p{L}\p{N}*])/gu;

/** Finds profanity in text. Build once and reuse (building compiles ~100 patterns). */
export class ProfanityList {
  private readonly matcher: RegExpMatcher;
  private readonly dataset: DataSet<{ originalWord: string }>;
  private readonly starWords: string[];

  constructor() {
    const dataset = new DataSet<{ originalWord: string }>()
      .addAll(englishDataset)
      .removePhrasesIf((p) => NOT_PROFANITY.has(p.metadata?.originalWord ?? ''))
      .addPhrase((p) => p.setMetadata({ originalWord: 'fuck' }).addPattern(pattern`|phuck`).addPattern(pattern`|phuk`).addPattern(pattern`|fuq|`))
      .addPhrase((p) => p.setMetadata({ originalWord: 'bitch' }).addPattern(pattern`|biatch`));
    this.dataset = dataset;
    this.matcher = new RegExpMatcher({ ...dataset.build(), ...englishRecommendedTransformers });
    const words = new Set<string>(EXTRA_STAR_WORDS);
    dataset.removePhrasesIf((p) => {
      if (p.metadata?.originalWord) words.add(p.metadata.originalWord);
      return false;
    });
    // Longest first, so `a**hole` reads as asshole rather than ass.
    this.starWords = [...words].filter((w) => /^[a-z]+$/.test(w)).sort((a, b) => b.length - a.length);
  }

  /** Every profanity in `text`, in order, whole words, allow-listed ones left out. */
  find(text: string): ProfanityMatch[] {
    const found: ProfanityMatch[] = [];
    // obscenity reads `!` as a leet `i`, so `bullshit!` became `bullshiti` and was missed: an
    // exclamation mark that ends a word is punctuation (same length: offsets stay valid).
    const plain = text.replace(/!(?![\p{L}\p{N}])/gu, ' ');
    for (const m of this.matcher.getAllMatches(plain, true)) {
      const term = this.dataset.getPayloadWithPhraseMetadata(m).phraseMetadata?.originalWord ?? 'profanity';
      found.push({ ...wordAround(text, m.startIndex, m.endIndex + 1), term });
    }
    found.push(...this.spacedOut(text), ...this.starred(text));
    const allowed = allowedRanges(text);
    const kept = found.filter((m) => !allowed.some((r) => r.start <= m.start && m.end <= r.end) && !isName(text, m));
    return dedupe(kept);
  }

  /** Letters spaced or dotted out: each run is collapsed and matched on its own. */
  private spacedOut(text: string): ProfanityMatch[] {
    const out: ProfanityMatch[] = [];
    for (const run of text.matchAll(SPACED_RUN)) {
      const at: number[] = [];
      let collapsed = '';
      for (let i = 0; i < run[0].length; i++) {
        const c = run[0][i]!;
        if (WORD_CHAR.test(c) || c === '!') {
          at.push(run.index + i);
          collapsed += c;
        }
      }
      for (const m of this.matcher.getAllMatches(collapsed, true)) {
        const term = this.dataset.getPayloadWithPhraseMetadata(m).phraseMetadata?.originalWord ?? 'profanity';
        out.push({ start: at[m.startIndex]!, end: at[m.endIndex]! + 1, term });
      }
    }
    return out;
  }

  /** Self-censored words: `sh*t`, `f**k`, `a**hole`, `f*cking`. */
  private starred(text: string): ProfanityMatch[] {
    const out: ProfanityMatch[] = [];
    for (const token of text.matchAll(STARRED)) {
      const lower = token[0].toLowerCase();
      const term = this.starWords.find((w) => starMatches(lower, w));
      if (term) out.push({ start: token.index, end: token.index + token[0].length, term });
    }
    return out;
  }
}

/**
 * True when `token` spells `word` (then maybe a suffix of letters) with stars for some letters:
 * at least two real letters agree and the stars stand for at most half the word.
 */
function starMatches(token: string, word: string): boolean {
  if (token.length < word.length) return false;
  let letters = 0;
  let stars = 0;
  for (let i = 0; i < word.length; i++) {
    const c = token[i]!;
    if (c === '*') stars++;
    else if (c === word[i]) letters++;
    else return false;
  }
  if (stars === 0 || letters < 2 || stars * 2 > word.length) return false;
  return /^\p{L}*$/u.test(token.slice(word.length));
}

/** The whole word around a match: letters, digits and leet characters on both sides. */
function wordAround(text: string, start: number, end: number): { start: number; end: number } {
  let s = start;
  let e = end;
  while (s > 0 && WORD_CHAR.test(text[s - 1]!)) s--;
  while (e < text.length && WORD_CHAR.test(text[e]!)) e++;
  return { start: s, end: e };
}

/** "Dick" as a name: capital D, the rest lower case, a whole word. */
function isName(text: string, m: ProfanityMatch): boolean {
  return m.term === 'dick' && text.slice(m.start, m.end) === 'Dick';
}

/** Where allow-listed words and phrases are in `text`. */
function allowedRanges(text: string): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  for (const word of text.matchAll(/[\p{L}\p{N}$@]+/gu)) {
    if (ALLOWED_WORDS.has(word[0].toLowerCase())) ranges.push({ start: word.index, end: word.index + word[0].length });
  }
  const lower = text.toLowerCase();
  for (const phrase of ALLOWED_PHRASES) {
    const re = new RegExp(`(?<![\\p{L}])${phrase.replace(/ /g, '\\s+')}(?![\\p{L}])`, 'gu');
    for (const m of lower.matchAll(re)) ranges.push({ start: m.index, end: m.index + m[0].length });
  }
  return ranges;
}

/** One match per span (the same word can be found by several patterns), in text order. */
function dedupe(matches: ProfanityMatch[]): ProfanityMatch[] {
  const sorted = [...matches].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: ProfanityMatch[] = [];
  for (const m of sorted) {
    const last = out[out.length - 1];
    if (last && m.start < last.end) {
      last.end = Math.max(last.end, m.end);
      continue;
    }
    out.push({ ...m });
  }
  return out;
}

/** `text` with every character of the spans replaced by `mask` (same length: offsets stay valid). */
export function maskSpans(text: string, spans: ReadonlyArray<{ start: number; end: number }>, mask = '*'): string {
  if (spans.length === 0) return text;
  // UTF-16 units, so the span offsets apply unchanged; spaces inside a span ("f u c k") stay.
  const units = text.split('');
  for (const s of spans) for (let i = Math.max(0, s.start); i < s.end && i < units.length; i++) if (!/\s/.test(units[i]!)) units[i] = mask;
  return units.join('');
}
