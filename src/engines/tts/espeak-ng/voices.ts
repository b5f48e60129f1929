/**
 * espeak-ng's voices: parsing its inventory, choosing a voice for a language, the OpenAI voice
 * map, and the pitch/rate parameter scales. Pure functions and data: cheap to import.
 *
 * An espeak-ng voice id here is `<language voice>[+<variant>]`, e.g. `de`, `en-us+f3`,
 * `en-gb-x-rp+m1`: a language voice (pronunciation rules, from `espeak-ng --voices`) and optionally
 * a variant (timbre and pitch range, the files of `espeak-ng-data/voices/!v`).
 */
import type { VoiceRendering } from '../types.js';

/** A language voice of espeak-ng (one row of `espeak-ng --voices`). */
export interface EspeakLanguageVoice {
  /** Our id: espeak's language column, or the file's base name when that is taken (`yue-latn-jyutping`). */
  id: string;
  /** Language tag (BCP-47-ish, as espeak spells it). */
  language: string;
  /** espeak's name, e.g. `German`, `English_(Great_Britain)`. */
  name: string;
  /** The voice file, relative to espeak-ng-data/lang, passed to `-v`. */
  file: string;
  /** Other language tags this voice serves, with espeak's priority (lower = preferred). */
  aliases: { tag: string; priority: number }[];
}

/** A voice variant (`espeak-ng-data/voices/!v/<id>`). */
export interface EspeakVariant {
  /** File name, used after `+` (`f3`, `m1`, `Annie`). */
  id: string;
  /** The `name` line of the file. */
  name: string;
  /** The `gender` line of the file, when present. */
  gender?: 'female' | 'male';
}

/** Output sample rate of espeak-ng, Hz. */
export const ESPEAK_SAMPLE_RATE = 22_050;
/** espeak-ng's default speaking rate, words per minute (`-s`). */
export const ESPEAK_DEFAULT_WPM = 175;
/** Range of `-s` in this build (no sonic: faster than 450 wpm is clamped to 450 by espeak). */
export const ESPEAK_MIN_WPM = 80;
export const ESPEAK_MAX_WPM = 450;

/**
 * Median pitch relative to the default `-p 50`, measured on one English sentence with
 * en-us, en-us+f3, en-us+m3 and de+f1 (audio/pitch.ts; the four agreed within ±4%).
 * `-p` is 0–99.
 */
const PITCH_SCALE: readonly (readonly [p: number, ratio: number])[] = [
  [0, 0.68],
  [10, 0.72],
  [20, 0.78],
  [30, 0.84],
  [40, 0.91],
  [50, 1],
  [60, 1.1],
  [70, 1.22],
  [80, 1.35],
  [90, 1.51],
  [99, 1.66],
];

/** The `-p` value (0–99) closest to multiplying the voice's pitch by `factor` (clamped to 0.68–1.66). */
export function pitchParameter(factor: number): number {
  const first = PITCH_SCALE[0]!;
  const last = PITCH_SCALE[PITCH_SCALE.length - 1]!;
  if (!(factor > first[1])) return first[0];
  if (factor >= last[1]) return last[0];
  for (let i = 1; i < PITCH_SCALE.length; i++) {
    const [p1, r1] = PITCH_SCALE[i]!;
    const [p0, r0] = PITCH_SCALE[i - 1]!;
    if (factor <= r1) return Math.round(p0 + ((factor - r0) / (r1 - r0)) * (p1 - p0));
  }
  return last[0];
}

/** The `-s` value (words per minute) for a rate factor, clamped to what espeak-ng can do. */
export function rateParameter(rate: number): number {
  return Math.round(Math.min(ESPEAK_MAX_WPM, Math.max(ESPEAK_MIN_WPM, ESPEAK_DEFAULT_WPM * rate)));
}

/**
 * OpenAI voice → espeak-ng rendering. The language part is replaced by the text's language when
 * it differs (German text with `shimmer` → `de+f5`), the variant and pitch/rate stay. Medians on
 * English (Hz): alloy ~150 (neutral), echo ~103 (male), shimmer ~225 (bright female), onyx ~78 (deep).
 */
export const ESPEAK_VOICE_MAP: Readonly<Record<string, VoiceRendering>> = {
  alloy: { voice: 'en-us+f1', pitch: 0.86 },
  ash: { voice: 'en-us+m7', rate: 1.05 },
  ballad: { voice: 'en-gb+m2', pitch: 1.05, rate: 0.92 },
  coral: { voice: 'en-us+f4' },
  echo: { voice: 'en-us+m3' },
  fable: { voice: 'en-gb-x-rp+m1' },
  onyx: { voice: 'en-us+m1', pitch: 0.84, rate: 0.95 },
  nova: { voice: 'en-us+f2', pitch: 1.05, rate: 1.05 },
  sage: { voice: 'en-us+f4', pitch: 0.92, rate: 0.92 },
  shimmer: { voice: 'en-us+f5', pitch: 1.12 },
  verse: { voice: 'en-us+m6', pitch: 1.08, rate: 1.03 },
  marin: { voice: 'en-us+f1', pitch: 1.06 },
  cedar: { voice: 'en-us+m4', pitch: 0.9, rate: 0.96 },
};

/** Parses the table `espeak-ng --voices` prints. */
export function parseVoiceTable(text: string): EspeakLanguageVoice[] {
  const out: EspeakLanguageVoice[] = [];
  const taken = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue; // the header, blank lines
    const [, , language, , name, file, other] = m as unknown as [string, string, string, string, string, string, string];
    let id = language.toLowerCase();
    if (taken.has(id)) id = file.split('/').pop()!.toLowerCase();
    if (taken.has(id)) continue;
    taken.add(id);
    const aliases = [...(other ?? '').matchAll(/\((\S+) (\d+)\)/g)].map((a) => ({ tag: a[1]!.toLowerCase(), priority: Number(a[2]) }));
    out.push({ id, language, name, file, aliases });
  }
  return out;
}

/** Parses a variant file's `name` and `gender` lines. */
export function parseVariant(id: string, text: string): EspeakVariant {
  const name = /^name\s+(.+)$/m.exec(text)?.[1]?.trim() ?? id;
  const g = /^gender\s+(\w+)/m.exec(text)?.[1];
  const v: EspeakVariant = { id, name };
  if (g === 'female' || g === 'male') v.gender = g;
  return v;
}

/** `de-AT` → `de`. */
export function primaryTag(tag: string): string {
  return tag.toLowerCase().split(/[-_]/)[0]!;
}

/**
 * The language voice espeak-ng should use for `tag` (BCP-47): the voice or alias named exactly
 * so, else the best one for its primary subtag (espeak's alias priority, then list order).
 */
export function voiceForLanguage(voices: readonly EspeakLanguageVoice[], tag: string): EspeakLanguageVoice | undefined {
  const want = tag.toLowerCase().replace(/_/g, '-');
  const primary = primaryTag(want);
  for (const key of want === primary ? [want] : [want, primary]) {
    const exact = voices.find((v) => v.id === key);
    if (exact) return exact;
    let best: EspeakLanguageVoice | undefined;
    let bestPriority = Infinity;
    for (const v of voices) {
      for (const a of v.aliases) {
        if (a.tag === key && a.priority < bestPriority) {
          best = v;
          bestPriority = a.priority;
        }
      }
    }
    if (best) return best;
  }
  return voices.find((v) => primaryTag(v.id) === primary);
}
