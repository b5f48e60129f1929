/**
 * The one line the language model sees about how the user spoke. Format (see README.md):
 *
 *   [voice: <sentiment> sentiment (<score>)[: <words>]; <arousal> voice (<score>)[: <cues>]; <pauses>]
 *
 * e.g. `[voice: negative sentiment (-0.87): 'hate', 'terrible'; excited voice (0.54): fast speech
 * 3.9 words/s, high pitch 231 Hz, wide range 11 st; long pause 1.4 s]`. Parts without anything to
 * say are left out; a neutral voice carries its basic numbers instead of cues.
 */
import { buildCues, NO_SPEECH_SEC } from './cues.js';
import type { VoiceAnalysis } from './types.js';

const fmt1 = (x: number) => (Math.round(x * 10) / 10).toFixed(1);
const fmt2 = (x: number) => (Math.round(x * 100) / 100).toFixed(2).replace(/^-0\.00$/, '0.00');

/** A compact one-line description of `analysis` for the language model's context. */
export function describeForModel(analysis: VoiceAnalysis): string {
  const m = analysis.measures;
  const cues = buildCues(analysis);
  const parts: string[] = [];

  if (m.text) {
    const words = cues.filter((c) => c.group === 'sentiment').map((c) => c.detail);
    parts.push(`${analysis.sentiment} sentiment (${fmt2(analysis.score)})${words.length > 0 ? `: ${words.join(', ')}` : ''}`);
  }

  if (m.speechSec < NO_SPEECH_SEC) {
    parts.push('no speech');
  } else {
    const details = cues.filter((c) => c.group === 'arousal').map((c) => c.detail);
    if (details.length === 0) {
      if (m.rate) details.push(`${fmt1(m.rate.wordsPerSec)} words/s${m.rate.source === 'syllable-estimate' ? ' (est.)' : ''}`);
      if (m.pitch) details.push(`pitch ${Math.round(m.pitch.medianHz)} Hz`);
    }
    parts.push(`${analysis.arousal} voice (${fmt2(analysis.arousalScore)})${details.length > 0 ? `: ${details.join(', ')}` : ''}`);
    for (const c of cues) if (c.group === 'pauses') parts.push(c.detail);
  }
  return `[voice: ${parts.join('; ')}]`;
}
