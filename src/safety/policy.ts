/**
 * The policy (pure): layer results → one assessment → a decision, metrics events, and moderation
 * outcomes. No I/O, no models: everything here is unit-tested on hand-made layer results.
 *
 * Rules:
 * - A harm category blocks when its severity reaches `block` (`high` by default; `off` never
 *   blocks). "safe" never blocks, whatever the level.
 * - A detected jailbreak blocks a prompt unless `block` is `off` (Azure blocks them too). Replies
 *   have no jailbreak check.
 * - Profanity never blocks: `annotate` reports it, `filter` also masks it (`redacted`).
 * - Anything found below the block level makes the action `annotate`; nothing found, `allow`.
 * - Moderation (OpenAI's 13 categories): a category is flagged when a layer checked it and its
 *   score is at least 0.5; categories no layer checked stay false with score 0.
 */
import { maskSpans } from './lexicon/profanity.js';
import {
  type CombinedHarm,
  HARM_CATEGORIES,
  type HarmCategory,
  type LayerName,
  type LayerResult,
  MODERATION_CATEGORIES,
  type ModerationCategory,
  type ModerationOutcome,
  maxSeverity,
  type SafetyAssessment,
  type SafetyCategory,
  type SafetyDecision,
  type SafetyEvent,
  type SafetySide,
  severityRank,
} from './types.js';

/** The deployment's choices (config `safety`). */
export interface SafetyPolicy {
  /** `annotate`: report profanity; `filter`: also mask it in the text passed on. */
  profanity: 'annotate' | 'filter';
  /** Severity from which hate, sexual, violence and self-harm block; `off`: never. */
  block: 'low' | 'medium' | 'high' | 'off';
}

/** Score from which a moderation category is flagged. */
export const MODERATION_FLAG_SCORE = 0.5;

/** Merges what the layers found about one text: the worst finding per category, the highest score. */
export function combineLayers(layers: LayerResult[]): SafetyAssessment {
  const harms: Partial<Record<HarmCategory, CombinedHarm>> = {};
  const moderation: Partial<Record<ModerationCategory, number>> = {};
  let profanity: SafetyAssessment['profanity'] = { detected: false, matches: [] };
  let jailbreak: SafetyAssessment['jailbreak'];
  for (const layer of layers) {
    if (layer.status !== 'ran') continue;
    for (const category of HARM_CATEGORIES) {
      const f = layer.harms[category];
      if (!f) continue;
      const prev = harms[category];
      harms[category] = prev
        ? { severity: maxSeverity(prev.severity, f.severity), score: Math.max(prev.score, f.score), checkedBy: [...prev.checkedBy, layer.layer] }
        : { severity: f.severity, score: f.score, checkedBy: [layer.layer] };
    }
    for (const [category, score] of Object.entries(layer.moderation) as Array<[ModerationCategory, number]>) {
      moderation[category] = Math.max(moderation[category] ?? 0, score);
    }
    if (layer.profanity) {
      profanity = { detected: profanity.detected || layer.profanity.detected, matches: [...profanity.matches, ...layer.profanity.matches] };
    }
    if (layer.jailbreak) jailbreak = { detected: (jailbreak?.detected ?? false) || layer.jailbreak.detected };
  }
  return { harms, profanity, ...(jailbreak ? { jailbreak } : {}), moderation, layers };
}

/**
 * Merges the assessments of several texts (a prompt's text parts and transcripts) into one: the
 * worst finding per category over the texts where it was checked — a finding in one text stands
 * even if another text could not be checked — with `partial` set when some text was not checked
 * for it. Profanity matches are concatenated; their offsets stay relative to their own text (see
 * `SafetyDecision.texts`). Layers: a layer counts as run only if it ran on every text.
 */
export function mergeAssessments(list: SafetyAssessment[]): SafetyAssessment {
  if (list.length === 1) return list[0]!;
  const byLayer = new Map<LayerName, LayerResult>();
  for (const a of list) {
    for (const l of a.layers) {
      const prev = byLayer.get(l.layer);
      if (!prev) byLayer.set(l.layer, { ...l });
      else byLayer.set(l.layer, prev.status === 'ran' && l.status !== 'ran' ? { ...l, ms: prev.ms + l.ms } : { ...prev, ms: prev.ms + l.ms });
    }
  }
  const harms: Partial<Record<HarmCategory, CombinedHarm>> = {};
  const moderation: Partial<Record<ModerationCategory, number>> = {};
  for (const category of HARM_CATEGORIES) {
    const found = list.map((a) => a.harms[category]).filter((f): f is CombinedHarm => f !== undefined);
    if (found.length === 0) continue;
    harms[category] = {
      severity: found.reduce((s, f) => maxSeverity(s, f.severity), 'safe' as CombinedHarm['severity']),
      score: Math.max(...found.map((f) => f.score)),
      checkedBy: [...new Set(found.flatMap((f) => f.checkedBy))],
      ...(found.length < list.length || found.some((f) => f.partial) ? { partial: true } : {}),
    };
  }
  for (const category of MODERATION_CATEGORIES) {
    const scores = list.map((a) => a.moderation[category]).filter((s): s is number => s !== undefined);
    if (scores.length > 0) moderation[category] = Math.max(...scores);
  }
  const jailbreaks = list.map((a) => a.jailbreak).filter((j) => j !== undefined);
  return {
    harms,
    profanity: { detected: list.some((a) => a.profanity.detected), matches: list.flatMap((a) => a.profanity.matches) },
    ...(jailbreaks.length > 0 ? { jailbreak: { detected: jailbreaks.some((j) => j.detected) } } : {}),
    moderation,
    layers: [...byLayer.values()],
  };
}

/** The decision on a prompt (all its texts) or a reply passage. */
export function decide(side: SafetySide, texts: readonly string[], perText: SafetyAssessment[], policy: SafetyPolicy): SafetyDecision {
  const assessment = mergeAssessments(perText);
  const blockedBy: SafetyCategory[] = [];
  const filtered: Partial<Record<SafetyCategory, boolean>> = {};
  let found = false;
  for (const category of HARM_CATEGORIES) {
    const h = assessment.harms[category];
    if (!h) continue;
    const blocks = blocksAt(h.severity, policy.block);
    filtered[category] = blocks;
    if (blocks) blockedBy.push(category);
    if (h.severity !== 'safe') found = true;
  }
  if (side === 'prompt' && assessment.jailbreak) {
    const blocks = assessment.jailbreak.detected && policy.block !== 'off';
    filtered.jailbreak = blocks;
    if (blocks) blockedBy.push('jailbreak');
    if (assessment.jailbreak.detected) found = true;
  }
  const masking = policy.profanity === 'filter' && assessment.profanity.detected;
  filtered.profanity = masking;
  if (assessment.profanity.detected) found = true;
  const action = blockedBy.length > 0 ? 'block' : found ? 'annotate' : 'allow';
  return {
    side,
    action,
    blockedBy,
    filtered,
    assessment: side === 'reply' ? withoutJailbreak(assessment) : assessment,
    texts: perText,
    ...(masking ? { redacted: texts.map((t, i) => maskSpans(t, perText[i]?.profanity.matches ?? [])) } : {}),
  };
}

function withoutJailbreak(a: SafetyAssessment): SafetyAssessment {
  const { jailbreak: _dropped, ...rest } = a;
  return rest;
}

/** True when `severity` reaches the block level. */
export function blocksAt(severity: CombinedHarm['severity'], level: SafetyPolicy['block']): boolean {
  if (level === 'off' || severity === 'safe') return false;
  return severityRank(severity) >= severityRank(level);
}

/** One metrics event per checked category of a decision. */
export function decisionEvents(d: SafetyDecision): SafetyEvent[] {
  const events: SafetyEvent[] = [];
  for (const category of HARM_CATEGORIES) {
    const h = d.assessment.harms[category];
    if (!h) continue;
    const action = d.blockedBy.includes(category) ? 'block' : h.severity !== 'safe' ? 'annotate' : 'allow';
    events.push({ side: d.side, category, severity: h.severity, action });
  }
  const p = d.assessment.profanity;
  events.push({
    side: d.side,
    category: 'profanity',
    severity: p.detected ? 'detected' : 'safe',
    action: !p.detected ? 'allow' : d.filtered.profanity ? 'filter' : 'annotate',
  });
  const j = d.assessment.jailbreak;
  if (d.side === 'prompt' && j) {
    events.push({
      side: d.side,
      category: 'jailbreak',
      severity: j.detected ? 'detected' : 'safe',
      action: !j.detected ? 'allow' : d.blockedBy.includes('jailbreak') ? 'block' : 'annotate',
    });
  }
  return events;
}

/** OpenAI's moderation result for one input. */
export function moderationOutcome(assessment: SafetyAssessment, inputType: ModerationOutcome['inputType'] = 'text'): ModerationOutcome {
  const categories = {} as Record<ModerationCategory, boolean>;
  const scores = {} as Record<ModerationCategory, number>;
  const checked: ModerationCategory[] = [];
  for (const c of MODERATION_CATEGORIES) {
    const score = assessment.moderation[c];
    if (score !== undefined) checked.push(c);
    scores[c] = clamp01(score ?? 0);
    categories[c] = score !== undefined && score >= MODERATION_FLAG_SCORE;
  }
  return { flagged: Object.values(categories).some(Boolean), categories, scores, checked, inputType, assessment };
}

/** One metrics event per checked moderation category. */
export function moderationEvents(o: ModerationOutcome): SafetyEvent[] {
  return o.checked.map((category) => ({
    side: 'moderation',
    category,
    severity: o.categories[category] ? 'flagged' : 'safe',
    action: o.categories[category] ? 'flag' : 'allow',
  }));
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
