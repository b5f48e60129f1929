/**
 * The one internal shape of safety results (camelCase). Layers fill it, the policy decides on it,
 * and the renderers in azure.ts / moderation.ts turn it into Azure's and OpenAI's wire forms.
 *
 * Honesty rule: a category is present in a result only if some layer that ran actually checked
 * it. A category no layer checked is absent — never an invented "safe".
 */

/** Azure's severity scale for the four harm categories. */
export type Severity = 'safe' | 'low' | 'medium' | 'high';

/** Severities from least to most severe (index = rank). */
export const SEVERITIES: readonly Severity[] = ['safe', 'low', 'medium', 'high'];

/** The four harm categories Azure grades by severity (`self_harm` on the wire). */
export type HarmCategory = 'hate' | 'sexual' | 'violence' | 'selfHarm';

export const HARM_CATEGORIES: readonly HarmCategory[] = ['hate', 'sexual', 'violence', 'selfHarm'];

/** Azure's binary checks Parley can run (`{filtered, detected}` on the wire). */
export type BinaryCheck = 'profanity' | 'jailbreak';

/** Every category a decision is about (metrics label). */
export type SafetyCategory = HarmCategory | BinaryCheck;

/** OpenAI's 13 moderation categories (their wire names, used as data keys). */
export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;
export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

/** The layers, cheapest first. */
export type LayerName = 'wordList' | 'selfHarmPhrases' | 'classifier' | 'judge';

/** A part of the text, UTF-16 offsets: `text.slice(start, end)`. */
export interface TextSpan {
  /** First code unit. */
  start: number;
  /** One past the last code unit. */
  end: number;
}

/** One profanity found by the word list. */
export interface ProfanityMatch extends TextSpan {
  /** The word it stands for (e.g. `fuck` for `f u c k`). */
  term: string;
}

/** A graded finding in one harm category. */
export interface HarmFinding {
  severity: Severity;
  /** 0–1: the layer's confidence that the category applies (not the severity). */
  score: number;
}

/** What one layer reported about one text. */
export interface LayerResult {
  layer: LayerName;
  /**
   * `ran`: it checked the text; `off`: not configured; `skipped`: configured but not used for this
   * check (the judge off the hot path); `failed`: it should have run and could not (see `detail`).
   */
  status: 'ran' | 'off' | 'skipped' | 'failed';
  /** Why it did not run, or what failed. */
  detail?: string;
  /** Time the layer took, ms (0 when it did not run). */
  ms: number;
  /** Harm categories it checked, with what it found (present = checked, even when safe). */
  harms: Partial<Record<HarmCategory, HarmFinding>>;
  /** The profanity check (the word list only). */
  profanity?: { detected: boolean; matches: ProfanityMatch[] };
  /** The jailbreak check (a judge whose taxonomy has it). */
  jailbreak?: { detected: boolean };
  /** Moderation categories it checked, with scores 0–1 (present = checked). */
  moderation: Partial<Record<ModerationCategory, number>>;
  /** What the layer saw, for logs and tests (label scores, the guard's answer). */
  raw?: unknown;
}

/** A harm finding and the layers that checked the category. */
export interface CombinedHarm extends HarmFinding {
  /** Layers that checked this category (whatever they found). */
  checkedBy: LayerName[];
  /** Some texts of a combined prompt were not checked for this category (the finding covers the others). */
  partial?: true;
}

/** Everything the layers found about one text (or several texts combined). */
export interface SafetyAssessment {
  /** Checked harm categories only; the most severe finding across layers. */
  harms: Partial<Record<HarmCategory, CombinedHarm>>;
  /** The word list always runs, so this is always present. */
  profanity: { detected: boolean; matches: ProfanityMatch[] };
  /** Present only when a layer checked for jailbreaks. */
  jailbreak?: { detected: boolean };
  /** Checked moderation categories only; the highest score across layers. */
  moderation: Partial<Record<ModerationCategory, number>>;
  /** Every layer's own report (including those that did not run). */
  layers: LayerResult[];
}

/** Which side of a chat turn a text is on. */
export type SafetySide = 'prompt' | 'reply';

/** What the policy does with a text. */
export type SafetyAction = 'allow' | 'annotate' | 'block';

/** The policy's decision on one prompt or one reply passage. */
export interface SafetyDecision {
  side: SafetySide;
  /** `allow`: nothing found; `annotate`: found, below the block level; `block`: do not pass it on. */
  action: SafetyAction;
  /** Categories that caused the block (empty unless `action` is `block`). */
  blockedBy: SafetyCategory[];
  /**
   * Per checked category: whether the policy acted on it (Azure's `filtered`). Harm categories and
   * jailbreak: they caused a block. Profanity: it was masked (profanity: filter).
   */
  filtered: Partial<Record<SafetyCategory, boolean>>;
  /**
   * The findings the decision is based on (all texts of the prompt combined: the worst per
   * category; `partial` where some text was not checked for it).
   */
  assessment: SafetyAssessment;
  /** Each text's own findings, in input order (profanity offsets are relative to their text). */
  texts: SafetyAssessment[];
  /**
   * The texts with profanity masked, in input order; present only with `profanity: filter` and when
   * something was masked. Same length as the input (each masked character becomes `*`).
   */
  redacted?: string[];
}

/** One moderated input (OpenAI's `/v1/moderations`, one result per input). */
export interface ModerationOutcome {
  /** True when any category is flagged. */
  flagged: boolean;
  /** Every one of the 13 categories: flagged or not. */
  categories: Record<ModerationCategory, boolean>;
  /** Every one of the 13 categories: 0–1 (0 when no layer checked it). */
  scores: Record<ModerationCategory, number>;
  /** The categories some layer checked; the others were not looked at. */
  checked: ModerationCategory[];
  /** The input type the checks applied to (`text`; transcribed audio is moderated as text). */
  inputType: 'text' | 'image';
  /** The findings behind the outcome. */
  assessment: SafetyAssessment;
}

/** A metrics event: one per checked category per decision. */
export interface SafetyEvent {
  side: SafetySide | 'moderation';
  category: SafetyCategory | ModerationCategory;
  /** Harm severity; `detected` / `safe` for binary checks; for moderation: `flagged` / `safe`. */
  severity: Severity | 'detected' | 'flagged';
  /** What happened: allowed, annotated only, masked (`filter`), blocked, or flagged (moderation). */
  action: 'allow' | 'annotate' | 'filter' | 'block' | 'flag';
}

/** Rank of a severity (safe 0 … high 3). */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** The more severe of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}
