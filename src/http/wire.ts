import type { Understanding } from '../pipeline/understand.js';

/** camelCase → snake_case keys, deeply: OpenAI's snake_case lives only at the HTTP edge. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = snakeKeys(v);
  return out;
}

/** The analysis endpoint's answer, snake_cased (also what `parley analyze` prints). */
export function wireAnalysis(u: Understanding) {
  const { arousalTerms: _terms, ...analysis } = u.analysis;
  return {
    object: 'audio.analysis' as const,
    text: u.transcript.text,
    language: u.transcript.language,
    duration: Math.round(u.transcript.durationSec * 100) / 100,
    // The emotion and the events at the top too: what a client reads first (the analysis keeps the evidence).
    emotion: { label: analysis.emotion.label, confidence: analysis.emotion.confidence, source: analysis.emotion.source },
    events: analysis.events.map((e) => snakeKeys(e)),
    analysis: snakeKeys(analysis),
    description: u.description,
  };
}
