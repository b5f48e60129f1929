import type { Understanding } from '../pipeline/understand.js';
import type { WatermarkVerdict } from '../safety/watermark/watermarker.js';

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

/** The answer of `POST /v1/audio/verify` (a Parley extension; also what `parley verify` prints). */
export interface AudioVerification {
  object: 'audio.verification';
  /** This server's watermark is in the recording. */
  watermarked: boolean;
  /** 0 (like unmarked audio) … 1; 0.5 at the detection threshold. */
  confidence: number;
  /** The response the voice was made for: only for the key that made it, or an admin (else null). */
  response_id: string | null;
  /** Unix seconds the response was made (same rule). */
  created_at: number | null;
  /** The model asked for (same rule). */
  model: string | null;
  /** The voice (same rule). */
  voice: string | null;
  /** Seconds of audio verified. */
  duration: number;
}

/** A verdict on the wire; the response it names only when `disclose` says the caller may see it. */
export function wireVerification(verdict: WatermarkVerdict & { durationSec: number }, disclose: (owner: string | null) => boolean): AudioVerification {
  const response = verdict.response && disclose(verdict.response.owner) ? verdict.response : undefined;
  return {
    object: 'audio.verification',
    watermarked: verdict.watermarked,
    confidence: verdict.confidence,
    response_id: response?.responseId ?? null,
    created_at: response?.createdAt ?? null,
    model: response?.model ?? null,
    voice: response?.voice ?? null,
    duration: Math.round(verdict.durationSec * 100) / 100,
  };
}
