/** Kokoro-82M's voices (as kokoro-js 1.2 ships them) and the OpenAI voice map. Data only. */
import type { TtsVoice, VoiceRendering } from '../types.js';

/** The model's catalogue name, what `parley models pull` fetches. */
export const KOKORO_MODEL_NAME = 'kokoro-82m';
/** Output sample rate of Kokoro, Hz. */
export const KOKORO_SAMPLE_RATE = 24_000;

/** The English voices kokoro-js knows (its `VOICES`; `a` = American, `b` = British). */
export const KOKORO_VOICES: readonly TtsVoice[] = [
  ...['af_heart', 'af_alloy', 'af_aoede', 'af_bella', 'af_jessica', 'af_kore', 'af_nicole', 'af_nova', 'af_river', 'af_sarah', 'af_sky'].map(
    (id): TtsVoice => ({ id, language: 'en-US', gender: 'female' }),
  ),
  ...['am_adam', 'am_echo', 'am_eric', 'am_fenrir', 'am_liam', 'am_michael', 'am_onyx', 'am_puck', 'am_santa'].map(
    (id): TtsVoice => ({ id, language: 'en-US', gender: 'male' }),
  ),
  ...['bf_alice', 'bf_emma', 'bf_isabella', 'bf_lily'].map((id): TtsVoice => ({ id, language: 'en-GB', gender: 'female' })),
  ...['bm_daniel', 'bm_fable', 'bm_george', 'bm_lewis'].map((id): TtsVoice => ({ id, language: 'en-GB', gender: 'male' })),
];

/**
 * OpenAI voice → Kokoro voice. Kokoro has namesakes of five OpenAI voices (af_alloy, am_echo,
 * bm_fable, am_onyx, af_nova); the others get the closest character, all among the 15 voice
 * packs `parley models pull kokoro-82m` downloads.
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
