/**
 * Which language a text is in, for choosing a TTS engine. franc-min (trigram statistics) is
 * wrong on short Latin-script text ("That sounds great!" → German, "Happy birthday!" → Uzbek),
 * so a Latin-script guess counts only on enough letters and when the expected language is
 * clearly behind; a non-Latin script decides at any length (Cyrillic, Han, kana, …).
 */

/** franc-min's ISO 639-3 codes → BCP-47 primary tags (codes without a two-letter tag are left out). */
const FRANC_TO_BCP47: Readonly<Record<string, string>> = {
  amh: 'am',
  arb: 'ar',
  azj: 'az',
  bel: 'be',
  ben: 'bn',
  bos: 'bs',
  bul: 'bg',
  ces: 'cs',
  cmn: 'zh',
  deu: 'de',
  ell: 'el',
  eng: 'en',
  fra: 'fr',
  guj: 'gu',
  hau: 'ha',
  hin: 'hi',
  hrv: 'hr',
  hun: 'hu',
  ibo: 'ig',
  ind: 'id',
  ita: 'it',
  jav: 'jv',
  jpn: 'ja',
  kan: 'kn',
  kaz: 'kk',
  kin: 'rw',
  kor: 'ko',
  lin: 'ln',
  mal: 'ml',
  mar: 'mr',
  mya: 'my',
  nld: 'nl',
  npi: 'ne',
  nya: 'ny',
  pan: 'pa',
  pbu: 'ps',
  pes: 'fa',
  plt: 'mg',
  pol: 'pl',
  por: 'pt',
  ron: 'ro',
  run: 'rn',
  rus: 'ru',
  sin: 'si',
  som: 'so',
  spa: 'es',
  srp: 'sr',
  sun: 'su',
  swe: 'sv',
  swh: 'sw',
  tam: 'ta',
  tel: 'te',
  tgl: 'tl',
  tha: 'th',
  tur: 'tr',
  ukr: 'uk',
  urd: 'ur',
  uzn: 'uz',
  vie: 'vi',
  yor: 'yo',
  zlm: 'ms',
  zul: 'zu',
};
const ONLY = Object.keys(FRANC_TO_BCP47);

/** The language a script implies when the text is too short for franc. */
const SCRIPT_DEFAULTS: readonly [RegExp, string][] = [
  [/\p{Script=Cyrillic}/u, 'ru'],
  [/\p{Script=Hangul}/u, 'ko'],
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'ja'],
  [/\p{Script=Han}/u, 'zh'],
  [/\p{Script=Arabic}/u, 'ar'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Thai}/u, 'th'],
  [/\p{Script=Devanagari}/u, 'hi'],
  [/\p{Script=Armenian}/u, 'hy'],
  [/\p{Script=Georgian}/u, 'ka'],
];

/** Options of {@link detectLanguage}. */
export interface DetectLanguageOptions {
  /** Languages the text is expected in (BCP-47 primary tags, e.g. the main engine's): kept unless clearly wrong. */
  expected?: readonly string[];
  /** Fewest letters before a Latin-script guess counts (default 30). */
  minLetters?: number;
  /**
   * A Latin-script guess counts only if the best expected language scores at most this much of
   * the winner's score (franc's scores are relative, the winner has 1; default 0.85).
   */
  maxExpectedScore?: number;
}

/** A detection result. */
export interface DetectedLanguage {
  /** BCP-47 primary tag, e.g. `de`. */
  language: string;
  /** How it was decided: by a non-Latin script, or by trigram statistics on enough text. */
  by: 'script' | 'statistics';
}

/**
 * The language of `text` when it can be told reliably and differs from what is expected;
 * undefined when the text is (or may well be) in an expected language, or is too short to say.
 */
export async function detectLanguage(text: string, options: DetectLanguageOptions = {}): Promise<DetectedLanguage | undefined> {
  const expected = new Set((options.expected ?? []).map((t) => t.toLowerCase()));
  const letters = [...text.matchAll(/\p{L}/gu)].length;
  if (letters === 0) return undefined;
  const latin = [...text.matchAll(/\p{Script=Latin}/gu)].length;
  const { francAll } = await import('franc-min');
  const ranked = francAll(text, { minLength: 3, only: ONLY });

  if (latin * 2 < letters) {
    // Mostly another script: the script decides; franc picks among the script's languages.
    const top = ranked[0];
    const byFranc = top && top[0] !== 'und' ? FRANC_TO_BCP47[top[0]] : undefined;
    const language = byFranc ?? SCRIPT_DEFAULTS.find(([re]) => re.test(text))?.[1];
    if (!language || expected.has(language)) return undefined;
    return { language, by: 'script' };
  }

  if (letters < (options.minLetters ?? 30)) return undefined;
  const top = ranked[0];
  if (!top || top[0] === 'und') return undefined;
  const language = FRANC_TO_BCP47[top[0]];
  if (!language || expected.has(language)) return undefined;
  const bestExpected = Math.max(0, ...ranked.filter(([code]) => expected.has(FRANC_TO_BCP47[code] ?? '')).map(([, score]) => score));
  if (bestExpected > (options.maxExpectedScore ?? 0.85)) return undefined;
  return { language, by: 'statistics' };
}
