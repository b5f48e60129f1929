/**
 * Self-harm phrases: a stopgap until a model covers self-harm (toxic-bert has no such label).
 *
 * English regular expressions in four kinds, each with a fixed severity and moderation scores:
 * - instructions ("how to kill myself", "painless way to die", "lethal dose of"): high;
 * - intent, first person ("I want to die", "kill myself", "end my life"): medium — annotated but
 *   not blocked by default (block: high), so a person in crisis still gets an answer;
 * - encouragement ("kill yourself", "kys"): medium;
 * - mention ("suicide", "self-harm", "overdose"): low, not flagged in moderation.
 * Known limits (in self-harm.test.ts): figures of speech other than "… myself laughing" / "cut
 * myself a slice" read as intent ("I could kill myself for forgetting"); third-person accounts
 * ("he killed himself") are not intent; only English.
 */
import type { HarmFinding, ModerationCategory } from '../types.js';

/** What a phrase says about self-harm. */
export type SelfHarmKind = 'instructions' | 'intent' | 'encouragement' | 'mention';

const SELF = '(?:myself|yourself|oneself|themselves|ourselves)';
const ACT = '(?:kill|hang|cut|hurt|harm|shoot|drown|poison|starve|suffocate)';
/** "cut myself a slice", "kill myself laughing": not about self-harm. */
const NOT_HARM_AFTER = String.raw`(?! (?:a|an|some|another|laughing)\b)`;

const PHRASES: ReadonlyArray<{ kind: SelfHarmKind; re: RegExp }> = [
  {
    kind: 'instructions',
    re: new RegExp(String.raw`\bhow (?:do |can |could |should |would )?(?:i |you |one |people )?(?:to )?${ACT} ${SELF}\b${NOT_HARM_AFTER}`, 'giu'),
  },
  {
    kind: 'instructions',
    re: /\bhow (?:do |can |could |should )?(?:i |you |one )?(?:to )?(?:commit suicide|overdose|slit (?:my|your|one's) wrists?|end (?:my|your|one's) (?:own )?life)\b/giu,
  },
  {
    kind: 'instructions',
    re: /\b(?:best|easiest|quickest|fastest|surest|painless|least painful|quietest)(?: \w+)? ways? (?:to|of) (?:die|dying|suicide|commit suicide|kill (?:myself|yourself|oneself)|end (?:my|your|one's) (?:own )?life)\b/giu,
  },
  { kind: 'instructions', re: /\b(?:lethal|fatal) (?:dose|amount|quantity) of\b/giu },
  { kind: 'instructions', re: /\bhow (?:many|much) [\w\s]{1,30}? (?:to|would|will|does it take to) (?:overdose|kill (?:me|myself|you|yourself)|die)\b/giu },
  { kind: 'intent', re: new RegExp(String.raw`\b${ACT}(?:ing|ed)? myself\b${NOT_HARM_AFTER}`, 'giu') },
  { kind: 'intent', re: /\b(?:end|ending|take|taking) my (?:own )?life\b/giu },
  { kind: 'intent', re: /\bend(?:ing)? it all\b/giu },
  { kind: 'intent', re: /\bi (?:really )?(?:want|wanna|wish|would like|am going|'m going|am gonna|'m gonna|plan|am planning|'m planning) (?:to )?die\b/giu },
  { kind: 'intent', re: /\b(?:i'?m|i am|feeling|feel|been) (?:so |very |really )?suicidal\b/giu },
  { kind: 'intent', re: /\b(?:don'?t|do not|no longer) want to (?:live|be alive|exist|wake up)\b/giu },
  { kind: 'intent', re: /\bi(?:'ll| will|'m going to| am going to|'m gonna| am gonna) commit suicide\b/giu },
  { kind: 'encouragement', re: /\b(?:go |just |you should |why don'?t you )?kill yourself\b/giu },
  { kind: 'encouragement', re: /\bkys\b/giu },
  { kind: 'encouragement', re: /\byou should (?:die|end your (?:own )?life)\b/giu },
  { kind: 'mention', re: /\bsuicid(?:e|es|al)\b/giu },
  { kind: 'mention', re: /\bself[- ]?harm(?:ing)?\b/giu },
  { kind: 'mention', re: /\boverdos(?:e|ed|es|ing)\b/giu },
];

const SEVERITY: Record<SelfHarmKind, HarmFinding> = {
  instructions: { severity: 'high', score: 1 },
  intent: { severity: 'medium', score: 1 },
  encouragement: { severity: 'medium', score: 1 },
  mention: { severity: 'low', score: 0.3 },
};

const RANK: Record<SelfHarmKind, number> = { instructions: 3, intent: 2, encouragement: 1, mention: 0 };

/** One phrase found. */
export interface SelfHarmMatch {
  kind: SelfHarmKind;
  start: number;
  end: number;
}

/** What the phrase list found in one text. */
export interface SelfHarmResult {
  /** The most severe kind found; `safe` with score 0 when none. */
  finding: HarmFinding;
  /** Scores of the three self-harm moderation categories. */
  moderation: Record<'self-harm' | 'self-harm/intent' | 'self-harm/instructions', number> & Partial<Record<ModerationCategory, number>>;
  matches: SelfHarmMatch[];
}

/** Finds self-harm phrases in `text` (apostrophes normalised: ’ reads as '). */
export function findSelfHarm(text: string): SelfHarmResult {
  const plain = text.replace(/[\u2018\u2019\u02bc]/g, "'");
  const matches: SelfHarmMatch[] = [];
  for (const { kind, re } of PHRASES) {
    for (const m of plain.matchAll(re)) matches.push({ kind, start: m.index, end: m.index + m[0].length });
  }
  matches.sort((a, b) => a.start - b.start);
  const kinds = new Set(matches.map((m) => m.kind));
  let worst: SelfHarmKind | undefined;
  for (const k of kinds) if (worst === undefined || RANK[k] > RANK[worst]) worst = k;
  const finding = worst ? SEVERITY[worst] : { severity: 'safe' as const, score: 0 };
  return {
    finding: { ...finding },
    moderation: {
      'self-harm': finding.score,
      'self-harm/intent': kinds.has('intent') ? 1 : 0,
      'self-harm/instructions': kinds.has('instructions') ? 1 : 0,
    },
    matches,
  };
}
