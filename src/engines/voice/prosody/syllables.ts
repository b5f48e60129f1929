/**
 * Counting syllables two ways: from text (a spelling heuristic, for the speaking rate when the
 * transcript is known) and from sound (syllable nuclei as voiced intensity peaks, after de Jong &
 * Wempe 2009, "Praat script to detect syllable nuclei and measure speech rate automatically",
 * Behavior Research Methods 41(2)), for when there is no transcript.
 */
import { frameLevelsDb, HOP_SEC, percentile } from './envelope.js';

/** CJK scripts: one character ≈ one syllable, and words are not separated by spaces. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
/** Vowel letters of Latin, Greek and Cyrillic alphabets (with their accented forms). */
const VOWEL_GROUPS = /[aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœāēīōūąęėįųαεηιοωυάέήίόώύаеёиоуыэюяіїє]+/giu;

/** Words and syllables in a transcript. CJK: words ≈ characters / 1.5. */
export function countTextUnits(text: string): { words: number; syllables: number } {
  let words = 0;
  let syllables = 0;
  for (const token of text.split(/\s+/)) {
    const cjk = token.match(CJK)?.length ?? 0;
    if (cjk > 0) {
      syllables += cjk;
      words += cjk / 1.5;
    }
    const rest = token.replace(CJK, '');
    if (!/[\p{L}\p{N}]/u.test(rest)) continue;
    words++;
    syllables += wordSyllables(rest);
  }
  return { words, syllables };
}

/**
 * Syllables of one (mostly English) word: vowel groups, minus a silent final `e` ("make") or
 * `-ed` after a consonant other than t/d ("moved"); digits count one each; at least one.
 */
export function wordSyllables(word: string): number {
  const w = word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '');
  const digits = w.match(/\p{N}/gu)?.length ?? 0;
  const letters = w.replace(/[\p{N}']/gu, '');
  if (letters.length === 0) return Math.max(1, digits);
  let n = letters.match(VOWEL_GROUPS)?.length ?? 0;
  if (n > 1 && /[^aeiouyl]e$/.test(letters))
    n--; // make, these (but not "able", "free")
  else if (n > 1 && /[^aeiouytd]ed$/.test(letters)) n--; // moved, looked (but not "wanted")
  return Math.max(1, n) + digits;
}

/** Second-order IIR section (RBJ cookbook), applied in place. */
function biquad(x: Float32Array, b0: number, b1: number, b2: number, a1: number, a2: number): void {
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i]!;
    const y0 = b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x[i] = y0;
    x2 = x1;
    x1 = x0;
    y2 = y1;
    y1 = y0;
  }
}

/** Butterworth-Q high-pass or low-pass at `hz` (RBJ cookbook), in place. */
function filter(x: Float32Array, sampleRate: number, hz: number, kind: 'high' | 'low'): void {
  if (hz >= sampleRate / 2) return;
  const w = (2 * Math.PI * hz) / sampleRate;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  const b1 = kind === 'low' ? 1 - cos : -(1 + cos);
  const b0 = kind === 'low' ? b1 / 2 : -b1 / 2;
  biquad(x, b0 / a0, b1 / a0, b0 / a0, (-2 * cos) / a0, (1 - alpha) / a0);
}

/**
 * Syllable nuclei: peaks of the 300–2500 Hz intensity (where vowels carry their energy), smoothed
 * over ~50 ms, that are (1) inside speech, (2) at most 25 dB under the clip's loud speech, (3)
 * voiced, and (4) preceded by a dip of at least 2 dB since the last nucleus (else the two peaks
 * are one syllable). Returns the nucleus times, seconds.
 *
 * @param voicedAt whether a voiced pitch frame lies near time t (seconds).
 * @param inSpeech whether time t (seconds) is inside speech.
 */
export function syllableNuclei(samples: Float32Array, sampleRate: number, voicedAt: (t: number) => boolean, inSpeech: (t: number) => boolean): number[] {
  const band = Float32Array.from(samples);
  filter(band, sampleRate, 300, 'high');
  filter(band, sampleRate, 2500, 'low');
  const raw = frameLevelsDb(band, sampleRate);
  const n = raw.length;
  const env = new Float32Array(n);
  const kernel = [1, 2, 3, 2, 1];
  for (let k = 0; k < n; k++) {
    let acc = 0;
    let wsum = 0;
    for (let j = -2; j <= 2; j++) {
      const v = raw[k + j];
      if (v === undefined) continue;
      acc += kernel[j + 2]! * v;
      wsum += kernel[j + 2]!;
    }
    env[k] = acc / wsum;
  }
  const speechLevels: number[] = [];
  for (let k = 0; k < n; k++) if (inSpeech(k * HOP_SEC)) speechLevels.push(env[k]!);
  if (speechLevels.length === 0) return [];
  speechLevels.sort((a, b) => a - b);
  const threshold = percentile(speechLevels, 0.99) - 25;

  const nuclei: number[] = [];
  let lastPeak = -1;
  let dipSince = Infinity; // lowest level since the last accepted nucleus
  for (let k = 1; k < n - 1; k++) {
    const v = env[k]!;
    dipSince = Math.min(dipSince, v);
    if (!(v >= env[k - 1]! && v > env[k + 1]!)) continue;
    const t = k * HOP_SEC;
    if (v < threshold || !inSpeech(t) || !voicedAt(t)) continue;
    if (lastPeak >= 0 && v - dipSince < 2) {
      // Not separated from the previous nucleus by a dip: the same syllable; keep the higher peak.
      if (v > env[lastPeak]!) {
        lastPeak = k;
        nuclei[nuclei.length - 1] = t;
        dipSince = v;
      }
      continue;
    }
    nuclei.push(t);
    lastPeak = k;
    dipSince = v;
  }
  return nuclei;
}
