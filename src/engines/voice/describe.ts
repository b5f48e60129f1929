/**
 * The one line the language model sees about how the user spoke. Format (see README.md):
 *
 *   [voice: <emotion>; <events>; <sentiment> sentiment (<score>)[: <words>]; <arousal> voice (<score>)[: <cues>]; <pauses>]
 *
 * e.g. `[voice: angry (acoustic 0.82; words positive — they disagree); laughter at 3.2 s; positive
 * sentiment (0.64): 'great'; excited voice (0.54): fast speech 3.9 words/s; long pause 1.4 s]`.
 * Parts without anything to say are left out — among them a neutral emotion that was only derived
 * from prosody (it adds nothing to the sentiment and arousal beside it); a neutral voice carries
 * its basic numbers instead of cues.
 */
import { buildCues, emotionDetail, NO_SPEECH_SEC } from './cues.js';
import type { VoiceAnalysis } from './types.js';

/** Events named in the line; more are counted (`+2 more`). */
const MAX_EVENTS = 4;

const fmt1 = (x: number) => (Math.round(x * 10) / 10).toFixed(1);
const fmt2 = (x: number) => (Math.round(x * 100) / 100).toFixed(2).replace(/^-0\.00$/, '0.00');

/** A compact one-line description of `analysis` for the language model's context. */
export function describeForModel(analysis: VoiceAnalysis): string {
  const m = analysis.measures;
  const cues = buildCues(analysis);
  const parts: string[] = [];

  const e = analysis.emotion;
  if (e && (e.source === 'acoustic' || e.label !== 'neutral')) parts.push(emotionDetail(e, analysis));
  const events = cues.filter((c) => c.group === 'events').map((c) => c.detail);
  if (events.length > 0) {
    const more = events.length - MAX_EVENTS;
    parts.push(events.slice(0, MAX_EVENTS).join(', ') + (more > 0 ? `, +${more} more` : ''));
  }

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
