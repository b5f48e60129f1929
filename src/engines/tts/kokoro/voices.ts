/** Kokoro-82M's voices (v1.0, as sherpa-onnx's voices.bin orders them) and the OpenAI voice map. Data only. */

import type { SherpaVoice } from '../sherpa/engine.js';
import type { VoiceRendering } from '../types.js';

/** The model's catalogue name, what `parley models pull` fetches. */
export const KOKORO_MODEL_NAME = 'kokoro-82m-int8';
/** Output sample rate of Kokoro, Hz. */
export const KOKORO_SAMPLE_RATE = 24_000;

/**
 * Kokoro v1.0's 53 speakers in voices.bin order (speaker id = index), used when the model's
 * metadata has no `speaker_names`. The first letter is the language (a: American English,
 * b: British English, e: Spanish, f: French, h: Hindi, i: Italian, j: Japanese,
 * p: Brazilian Portuguese, z: Mandarin), the second the gender.
 */
export const KOKORO_V1_SPEAKERS = [
  'af_alloy',
  'af_aoede',
  'af_bella',
  'af_heart',
  'af_jessica',
  'af_kore',
  'af_nicole',
  'af_nova',
  'af_river',
  'af_sarah',
  'af_sky',
  'am_adam',
  'am_echo',
  'am_eric',
  'am_fenrir',
  'am_liam',
  'am_michael',
  'am_onyx',
  'am_puck',
  'am_santa',
  'bf_alice',
  'bf_emma',
  'bf_isabella',
  'bf_lily',
  'bm_daniel',
  'bm_fable',
  'bm_george',
  'bm_lewis',
  'ef_dora',
  'em_alex',
  'ff_siwis',
  'hf_alpha',
  'hf_beta',
  'hm_omega',
  'hm_psi',
  'if_sara',
  'im_nicola',
  'jf_alpha',
  'jf_gongitsune',
  'jf_nezumi',
  'jf_tebukuro',
  'jm_kumo',
  'pf_dora',
  'pm_alex',
  'pm_santa',
  'zf_xiaobei',
  'zf_xiaoni',
  'zf_xiaoxiao',
  'zf_xiaoyi',
  'zm_yunjian',
  'zm_yunxi',
  'zm_yunxia',
  'zm_yunyang',
] as const;

/** Kokoro v0.19 (English only, 11 speakers), in its voices.bin order. */
export const KOKORO_V019_SPEAKERS = [
  'af',
  'af_bella',
  'af_nicole',
  'af_sarah',
  'af_sky',
  'am_adam',
  'am_michael',
  'bf_emma',
  'bf_isabella',
  'bm_george',
  'bm_lewis',
] as const;

/** Language tag and espeak-ng voice of each Kokoro language letter. `en` is espeak's British English. */
const LANGUAGES: Readonly<Record<string, { tag: string; espeak?: string }>> = {
  a: { tag: 'en-US' },
  b: { tag: 'en-GB', espeak: 'en' },
  e: { tag: 'es', espeak: 'es' },
  f: { tag: 'fr', espeak: 'fr' },
  h: { tag: 'hi', espeak: 'hi' },
  i: { tag: 'it', espeak: 'it' },
  j: { tag: 'ja', espeak: 'ja' },
  p: { tag: 'pt-BR', espeak: 'pt-br' },
  z: { tag: 'zh', espeak: 'cmn' },
};

/** A Kokoro speaker name (`bf_emma`) with its id → the voice Parley offers. */
export function kokoroVoice(name: string, sid: number): SherpaVoice {
  const language = LANGUAGES[name[0]!] ?? LANGUAGES.a!;
  const gender = name[1] === 'm' ? 'male' : name[1] === 'f' ? 'female' : undefined;
  return { id: name, sid, language: language.tag, ...(gender ? { gender } : {}), ...(language.espeak ? { lang: language.espeak } : {}) };
}

/** The v1.0 voices (what `parley models pull kokoro-82m-int8` installs). */
export const KOKORO_VOICES: readonly SherpaVoice[] = KOKORO_V1_SPEAKERS.map(kokoroVoice);

/**
 * OpenAI voice → Kokoro voice. Kokoro has namesakes of five OpenAI voices (af_alloy, am_echo,
 * bm_fable, am_onyx, af_nova); the others get the closest character.
 */
export const KOKORO_VOICE_MAP: Readonly<Record<string, VoiceRendering>> = {
  alloy: { voice: 'af_alloy' },
  ash: { voice: 'am_adam' },
  ballad: { voice: 'bm_george' },
  coral: { voice: 'af_sky' },
  echo: { voice: 'am_echo' },
  fable: { voice: 'bm_fable' },
  onyx: { voice: 'am_onyx' },
  nova: { voice: 'af_nova' },
  sage: { voice: 'af_sarah' },
  shimmer: { voice: 'af_bella' },
  verse: { voice: 'am_puck' },
  marin: { voice: 'af_heart' },
  cedar: { voice: 'am_michael' },
};

/**
 * The voice map for a model with `voices`: {@link KOKORO_VOICE_MAP} where its voice exists, else
 * the first voice of the same gender (Kokoro v0.19 lacks most namesakes), else the first voice.
 */
export function kokoroVoiceMap(voices: readonly SherpaVoice[]): Record<string, VoiceRendering> {
  const ids = new Set(voices.map((v) => v.id));
  const map: Record<string, VoiceRendering> = {};
  for (const [name, rendering] of Object.entries(KOKORO_VOICE_MAP)) {
    if (ids.has(rendering.voice)) {
      map[name] = rendering;
      continue;
    }
    const gender = rendering.voice[1] === 'm' ? 'male' : 'female';
    const english = voices.filter((v) => v.language.startsWith('en'));
    const fallback = english.find((v) => v.gender === gender) ?? english[0] ?? voices[0];
    if (fallback) map[name] = { voice: fallback.id };
  }
  return map;
}
