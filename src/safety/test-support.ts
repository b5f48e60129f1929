/** Hand-made layer results for the policy and renderer tests. */
import { combineLayers } from './policy.js';
import type { HarmCategory, HarmFinding, LayerName, LayerResult, ModerationCategory, ProfanityMatch, SafetyAssessment } from './types.js';

/** A layer that ran and found `harms` (and the rest as given). */
export function ranLayer(
  layer: LayerName,
  harms: Partial<Record<HarmCategory, HarmFinding>>,
  extra: { moderation?: Partial<Record<ModerationCategory, number>>; profanity?: ProfanityMatch[]; jailbreak?: boolean } = {},
): LayerResult {
  return {
    layer,
    status: 'ran',
    ms: 1,
    harms,
    moderation: extra.moderation ?? {},
    ...(extra.profanity ? { profanity: { detected: extra.profanity.length > 0, matches: extra.profanity } } : {}),
    ...(extra.jailbreak !== undefined ? { jailbreak: { detected: extra.jailbreak } } : {}),
  };
}

/** The two layers that always run, finding nothing (or the given profanity). */
export function alwaysOn(profanity: ProfanityMatch[] = []): LayerResult[] {
  return [
    ranLayer('wordList', {}, { profanity }),
    ranLayer(
      'selfHarmPhrases',
      { selfHarm: { severity: 'safe', score: 0 } },
      { moderation: { 'self-harm': 0, 'self-harm/intent': 0, 'self-harm/instructions': 0 } },
    ),
  ];
}

/** A classifier result with the given severities for hate / sexual / violence. */
export function classifierLayer(s: Partial<Record<'hate' | 'sexual' | 'violence', HarmFinding>>): LayerResult {
  const safe = { severity: 'safe' as const, score: 0.01 };
  const harms = { hate: s.hate ?? safe, sexual: s.sexual ?? safe, violence: s.violence ?? safe };
  return ranLayer('classifier', harms, { moderation: { hate: harms.hate.score, sexual: harms.sexual.score, violence: harms.violence.score } });
}

/** An assessment from layers (what the checker builds). */
export function assessment(...layers: LayerResult[]): SafetyAssessment {
  return combineLayers(layers);
}
