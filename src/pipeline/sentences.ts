/**
 * Splits text into sentences for speech synthesis, so the first sentence can be spoken while the
 * rest is still being synthesised. Uses Intl.Segmenter, then mends the cases it gets wrong for
 * speech: abbreviations ("Dr. Smith", "e.g. this") and numbers ("3.5", "No. 7") never end a
 * sentence. Very long sentences are cut at clause punctuation so no single piece is huge.
 */

const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'mt',
  'ft',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'cf',
  'al',
  'approx',
  'no',
  'nos',
  'vol',
  'fig',
  'figs',
  'p',
  'pp',
  'ch',
  'sec',
  'dept',
  'inc',
  'ltd',
  'co',
  'corp',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'mon',
  'tue',
  'wed',
  'thu',
  'fri',
  'sat',
  'sun',
  'a.m',
  'p.m',
  'u.s',
  'u.k',
  'gen',
  'gov',
  'sgt',
  'capt',
  'lt',
  'col',
  'rev',
  'hon',
  'est',
  'z.b',
  'bzw',
  'usw',
  'ca',
  'nr',
  'mme',
  'mlle',
]);

/** Longest piece (characters) before a sentence is cut at a clause boundary. */
const MAX_PIECE = 280;

function endsWithAbbreviation(piece: string): boolean {
  const m = /(?:^|[\s(["'])((?:[A-Za-zÀ-ÿ]\.){1,3}[A-Za-zÀ-ÿ]?|[A-Za-zÀ-ÿ]{1,6})\.\s*$/u.exec(piece);
  if (!m) return false;
  const word = m[1]!.toLowerCase().replace(/\.$/, '');
  if (ABBREVIATIONS.has(word)) return true;
  // Single capital letters ("J. R. R. Tolkien") and dotted initialisms ("U.S.A.").
  return /^[a-z]$/.test(word) || /^([a-z]\.)+[a-z]?$/.test(word);
}

function startsLikeContinuation(next: string): boolean {
  // "3.5" split after "3." or a sentence that starts lowercase is not a new sentence.
  return /^\s*[0-9]/.test(next) || /^\s*[a-zà-ÿ]/u.test(next);
}

function cutLong(sentence: string): string[] {
  if (sentence.length <= MAX_PIECE) return [sentence];
  const out: string[] = [];
  let rest = sentence;
  while (rest.length > MAX_PIECE) {
    const window = rest.slice(0, MAX_PIECE);
    let cut = Math.max(window.lastIndexOf('; '), window.lastIndexOf(', '), window.lastIndexOf(': '), window.lastIndexOf(' – '));
    if (cut < MAX_PIECE / 3) cut = window.lastIndexOf(' ');
    if (cut <= 0) cut = MAX_PIECE - 1;
    out.push(rest.slice(0, cut + 1).trim());
    rest = rest.slice(cut + 1);
  }
  if (rest.trim().length > 0) out.push(rest.trim());
  return out;
}

/** Splits `text` into speakable sentences, in order; whitespace-only pieces are dropped. */
export function splitSentences(text: string, locale = 'en'): string[] {
  const segmenter = new Intl.Segmenter(locale, { granularity: 'sentence' });
  const merged: string[] = [];
  for (const { segment } of segmenter.segment(text)) {
    const prev = merged[merged.length - 1];
    const joins = prev !== undefined && (endsWithAbbreviation(prev) || (/[0-9]\.\s*$/.test(prev) && startsLikeContinuation(segment)));
    if (prev !== undefined && joins) {
      merged[merged.length - 1] = prev + segment;
    } else {
      merged.push(segment);
    }
  }
  return merged
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s))
    .flatMap(cutLong);
}

/** True when `text` has something to speak (a letter or a digit), not only punctuation or symbols. */
export function hasSpeakableText(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}
