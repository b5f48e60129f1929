/**
 * OpenAI's `POST /v1/moderations` response, rendered from moderation outcomes (pure).
 * Shape: openai-openapi 2025-01-22 `CreateModerationResponse` (all 13 categories in
 * `categories`, `category_scores` and `category_applied_input_types`).
 *
 * Honesty: a category no layer checked has `false`, score 0 and applied input types `[]` (it was
 * applied to no input); checked ones list the input's type. Transcribed audio is moderated as
 * its transcript, so it reports `text` (the schema knows only text and image).
 */
import { randomBytes } from 'node:crypto';
import { MODERATION_CATEGORIES, type ModerationCategory, type ModerationOutcome } from './types.js';

/** One result of the wire response. */
export interface ModerationWireResult {
  flagged: boolean;
  categories: Record<ModerationCategory, boolean>;
  category_scores: Record<ModerationCategory, number>;
  category_applied_input_types: Record<ModerationCategory, Array<'text' | 'image'>>;
}

/** The wire response. */
export interface ModerationWireResponse {
  id: string;
  model: string;
  results: ModerationWireResult[];
}

/** `modr-` and 24 random letters/digits. */
export function newModerationId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(24);
  let id = 'modr-';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

/** The response for `outcomes` (one per input, in input order). */
export function renderModerationResponse(options: { id?: string; model?: string; outcomes: readonly ModerationOutcome[] }): ModerationWireResponse {
  return {
    id: options.id ?? newModerationId(),
    model: options.model ?? 'omni-moderation-latest',
    results: options.outcomes.map(renderResult),
  };
}

function renderResult(o: ModerationOutcome): ModerationWireResult {
  const categories = {} as Record<ModerationCategory, boolean>;
  const scores = {} as Record<ModerationCategory, number>;
  const applied = {} as Record<ModerationCategory, Array<'text' | 'image'>>;
  const checked = new Set(o.checked);
  for (const c of MODERATION_CATEGORIES) {
    categories[c] = o.categories[c];
    scores[c] = o.scores[c];
    applied[c] = checked.has(c) ? [o.inputType] : [];
  }
  return { flagged: o.flagged, categories, category_scores: scores, category_applied_input_types: applied };
}
