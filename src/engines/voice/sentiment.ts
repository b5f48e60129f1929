/**
 * Sentiment of the words with VADER (Hutto & Gilbert 2014, via npm `vader-sentiment`): a lexicon
 * and rules (negation, boosters, "but", caps, exclamation marks) that need no model and work on
 * ASR output without punctuation. Thresholds are VADER's: compound ≥ 0.05 positive, ≤ -0.05
 * negative. English only: other languages score null rather than a wrong guess (VADER's lexicon
 * reads German "die" as negative).
 *
 * The package is loaded on first use (`await import`), so importing this file costs nothing.
 */
import type { PolarityScores } from 'vader-sentiment';
import type { Sentiment, TextSentimentMeasures } from './types.js';

/** VADER's own thresholds on the compound score. */
export const POSITIVE_THRESHOLD = 0.05;
export const NEGATIVE_THRESHOLD = -0.05;

/** A word (or negated phrase) that moved the compound score, with how much. */
export interface SentimentWord {
  /** As said, e.g. `terrible` or `not good`. */
  phrase: string;
  /** Compound score with it minus without it. */
  effect: number;
}

/** VADER's scores of a transcript plus the words that drove them. */
export interface TextSentiment extends TextSentimentMeasures {
  /** Words with an effect, strongest first. */
  words: SentimentWord[];
}

type PolarityFn = (text: string) => PolarityScores;
let polarity: Promise<PolarityFn> | null = null;

/** VADER's `polarity_scores`, loaded once. */
function loadVader(): Promise<PolarityFn> {
  polarity ??= import('vader-sentiment').then((m) => {
    const sia = m.SentimentIntensityAnalyzer ?? m.default.SentimentIntensityAnalyzer;
    return (text: string) => sia.polarity_scores(text);
  });
  return polarity;
}

/** Words VADER treats as negating the next few words (its NEGATE list, the common part). */
const NEGATORS = new Set([
  'not',
  'no',
  'never',
  'none',
  'nobody',
  'nothing',
  'neither',
  'nor',
  'nowhere',
  'cannot',
  'without',
  'rarely',
  'seldom',
  'despite',
  'aint',
  'arent',
  'cant',
  'couldnt',
  'didnt',
  'doesnt',
  'dont',
  'hadnt',
  'hasnt',
  'havent',
  'isnt',
  'mightnt',
  'mustnt',
  'neednt',
  'shant',
  'shouldnt',
  'wasnt',
  'werent',
  'wont',
  'wouldnt',
]);

/** Most lexicon words examined one by one (the strongest); the rest still count in the score. */
const MAX_EXAMINED = 40;

/** The VADER label of a compound score. */
export function sentimentLabel(compound: number): Sentiment {
  if (compound >= POSITIVE_THRESHOLD) return 'positive';
  if (compound <= NEGATIVE_THRESHOLD) return 'negative';
  return 'neutral';
}

/** True when `language` (BCP-47) is absent or English. */
export function isEnglish(language: string | undefined): boolean {
  return !language || /^en(?:[-_]|$)/i.test(language.trim()) || /^english$/i.test(language.trim());
}

/**
 * VADER's scores of `text` and the words behind them: each lexicon word's effect is the compound
 * score minus the score without that word (so negation, boosters and "but" are accounted for; a
 * negated word is quoted with its negator, e.g. `not good`). Null for an empty text.
 */
export async function analyzeTextSentiment(text: string): Promise<TextSentiment | null> {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (!/[\p{L}\p{N}]/u.test(clean) && !/[:;=]-?[()DPp]/.test(clean)) return null;
  const score = await loadVader();
  const whole = score(clean);
  const tokens = clean.split(' ');
  const hits: Array<{ index: number; alone: number }> = [];
  for (let i = 0; i < tokens.length; i++) {
    const alone = score(tokens[i]!).compound;
    if (alone !== 0) hits.push({ index: i, alone });
  }
  hits.sort((a, b) => Math.abs(b.alone) - Math.abs(a.alone));
  const words: SentimentWord[] = [];
  for (const hit of hits.slice(0, MAX_EXAMINED)) {
    const without = tokens.filter((_, j) => j !== hit.index).join(' ');
    const effect = whole.compound - score(without).compound;
    if (Math.abs(effect) < 0.01) continue;
    words.push({ phrase: quotePhrase(tokens, hit.index, Math.sign(effect) !== Math.sign(hit.alone)), effect: Math.round(effect * 1e4) / 1e4 });
  }
  words.sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect));
  // A word said twice is listed once (its stronger occurrence).
  const seen = new Set<string>();
  const unique = words.filter((w) => {
    const key = `${w.phrase.toLowerCase()}|${Math.sign(w.effect)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { compound: whole.compound, pos: whole.pos, neg: whole.neg, neu: whole.neu, words: unique };
}

/** The word at `index` without punctuation; when `negated`, from its negator on ("not very good"). */
function quotePhrase(tokens: readonly string[], index: number, negated: boolean): string {
  const bare = (t: string) => t.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  if (negated) {
    for (let j = index - 1; j >= Math.max(0, index - 3); j--) {
      const w = bare(tokens[j]!).toLowerCase();
      if (NEGATORS.has(w.replace(/['’]/g, '')) || /n['’]t$/.test(w))
        return tokens
          .slice(j, index + 1)
          .map(bare)
          .join(' ');
    }
  }
  return bare(tokens[index]!) || tokens[index]!;
}
