/** Measurements shared by the voice tests. Test support only; nothing in the server imports it. */
import type { VoiceMeasures } from './types.js';

/** Two seconds of digital silence as the analyser measures it. */
export const SILENCE: VoiceMeasures = {
  durationSec: 2,
  speechSec: 0,
  pitch: null,
  loudness: { rmsDb: -120, peakDb: -120, speechRmsDb: -120 },
  rate: null,
  pauses: { count: 0, totalSec: 0, longestSec: 0, ratio: 0, source: 'energy' },
  text: null,
};
