/** Piper voices through sherpa-onnx: the OpenAI voice map for one- and many-speaker models. Data only. */

import type { SherpaVoice } from '../sherpa/engine.js';
import { OPENAI_VOICES, type VoiceRendering } from '../types.js';

/** The catalogue voice `parley models pull` fetches by default. */
export const PIPER_MODEL_NAME = 'piper-en_US-amy-medium';

/**
 * Pitch and rate per OpenAI name for a single-speaker voice, so the 13 names sound apart: the
 * names OpenAI gives a male voice lower, the female ones higher (pitch by resampling, see
 * ../sherpa/engine.ts).
 */
const SINGLE_SPEAKER: Readonly<Record<string, Omit<VoiceRendering, 'voice'>>> = {
  alloy: {},
  ash: { pitch: 0.84 },
  ballad: { pitch: 0.8, rate: 0.92 },
  coral: { pitch: 1.1 },
  echo: { pitch: 0.76 },
  fable: { pitch: 0.9, rate: 0.95 },
  onyx: { pitch: 0.7 },
  nova: { pitch: 1.16 },
  sage: { pitch: 1.05, rate: 0.95 },
  shimmer: { pitch: 1.22 },
  verse: { pitch: 0.94, rate: 1.05 },
  marin: { pitch: 1.08 },
  cedar: { pitch: 0.82, rate: 0.96 },
};

/**
 * The voice map: a single-speaker voice renders every name with its own pitch and rate; a
 * many-speaker model gives the names its first speakers in turn.
 */
export function piperVoiceMap(voices: readonly SherpaVoice[]): Record<string, VoiceRendering> {
  const map: Record<string, VoiceRendering> = {};
  OPENAI_VOICES.forEach((name, i) => {
    if (voices.length === 1) map[name] = { voice: voices[0]!.id, ...SINGLE_SPEAKER[name] };
    else map[name] = { voice: voices[i % voices.length]!.id };
  });
  return map;
}
