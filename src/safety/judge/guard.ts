/**
 * Guard models' answers (pure): the grammar that forces their verdict format, a lenient parser,
 * and the mapping of their categories to Parley's.
 *
 * Llama Guard 3 (S1–S14, "safe" | "unsafe\nS1,S10"):
 * | code | Llama Guard category       | Azure harm | moderation categories              |
 * | ---- | -------------------------- | ---------- | ---------------------------------- |
 * | S1   | Violent Crimes             | violence   | violence, illicit/violent          |
 * | S2   | Non-Violent Crimes         | —          | illicit                            |
 * | S3   | Sex-Related Crimes         | sexual     | sexual                             |
 * | S4   | Child Sexual Exploitation  | sexual     | sexual, sexual/minors              |
 * | S9   | Indiscriminate Weapons     | violence   | violence, illicit/violent          |
 * | S10  | Hate                       | hate       | hate                               |
 * | S11  | Suicide & Self-Harm        | self_harm  | self-harm                          |
 * | S12  | Sexual Content             | sexual     | sexual                             |
 * S5 Defamation, S6 Specialized Advice, S7 Privacy, S8 Intellectual Property, S13 Elections,
 * S14 Code Interpreter Abuse map to nothing (kept in `raw`; they do not block).
 *
 * Qwen3Guard-Gen ("Safety: Safe|Controversial|Unsafe\nCategories: …"):
 * | category                      | Azure harm | moderation categories       |
 * | ----------------------------- | ---------- | --------------------------- |
 * | Violent                       | violence   | violence, illicit/violent   |
 * | Non-violent Illegal Acts      | —          | illicit                     |
 * | Sexual Content or Sexual Acts | sexual     | sexual                      |
 * | Suicide & Self-Harm           | self_harm  | self-harm                   |
 * | Unethical Acts                | hate       | hate, harassment            |
 * | Jailbreak                     | jailbreak (Azure's binary check, prompt side) | — |
 * PII, Politically Sensitive Topics, Copyright Violation map to nothing. "Unethical Acts" is
 * broader than hate (bias, insults, threats, extremism): mapped to hate and harassment as the
 * nearest pair.
 *
 * A guard gives a verdict, not a score: unsafe → severity high, score 1; Qwen's controversial →
 * medium, 0.5; safe → safe, 0 in every category of its taxonomy (those it checked).
 */
import type { HarmCategory, HarmFinding, ModerationCategory } from '../types.js';

/** The guard model's answer format. */
export type GuardFamily = 'llama-guard' | 'qwen3-guard';

/** The guard's verdict. */
export interface GuardVerdict {
  safety: 'safe' | 'controversial' | 'unsafe';
  /** Category codes or names as the guard wrote them (`S10`, `Violent`). */
  categories: string[];
}

interface Target {
  harms?: HarmCategory[];
  moderation?: ModerationCategory[];
  jailbreak?: true;
}

const LLAMA_GUARD: Record<string, Target> = {
  S1: { harms: ['violence'], moderation: ['violence', 'illicit/violent'] },
  S2: { moderation: ['illicit'] },
  S3: { harms: ['sexual'], moderation: ['sexual'] },
  S4: { harms: ['sexual'], moderation: ['sexual', 'sexual/minors'] },
  S5: {},
  S6: {},
  S7: {},
  S8: {},
  S9: { harms: ['violence'], moderation: ['violence', 'illicit/violent'] },
  S10: { harms: ['hate'], moderation: ['hate'] },
  S11: { harms: ['selfHarm'], moderation: ['self-harm'] },
  S12: { harms: ['sexual'], moderation: ['sexual'] },
  S13: {},
  S14: {},
};

const QWEN3_GUARD: Record<string, Target> = {
  Violent: { harms: ['violence'], moderation: ['violence', 'illicit/violent'] },
  'Non-violent Illegal Acts': { moderation: ['illicit'] },
  'Sexual Content or Sexual Acts': { harms: ['sexual'], moderation: ['sexual'] },
  PII: {},
  'Suicide & Self-Harm': { harms: ['selfHarm'], moderation: ['self-harm'] },
  'Unethical Acts': { harms: ['hate'], moderation: ['hate', 'harassment'] },
  'Politically Sensitive Topics': {},
  'Copyright Violation': {},
  Jailbreak: { jailbreak: true },
};

const TAXONOMY: Record<GuardFamily, Record<string, Target>> = { 'llama-guard': LLAMA_GUARD, 'qwen3-guard': QWEN3_GUARD };

/** The family a model name suggests (Qwen3Guard or Llama Guard; Llama Guard's format otherwise). */
export function guardFamilyOf(modelName: string): GuardFamily {
  return /qwen3[-_ ]?guard/i.test(modelName) ? 'qwen3-guard' : 'llama-guard';
}

/** A GBNF grammar admitting only the family's verdict format (bounded: at most every category once). */
export function guardGrammar(family: GuardFamily): string {
  if (family === 'llama-guard') {
    return ['root ::= "safe" | "unsafe\\n" cat ("," cat){0,13}', 'cat ::= "S" ([1-9] | "1" [0-4])'].join('\n');
  }
  const names = [...Object.keys(QWEN3_GUARD), 'None'].map((n) => JSON.stringify(n)).join(' | ');
  return ['root ::= "Safety: " level "\\nCategories: " cat (", " cat){0,8}', 'level ::= "Safe" | "Unsafe" | "Controversial"', `cat ::= ${names}`].join('\n');
}

/** Reads a guard's answer; undefined when it is not in the family's format. */
export function parseGuardAnswer(family: GuardFamily, text: string): GuardVerdict | undefined {
  return family === 'llama-guard' ? parseLlamaGuard(text) : parseQwen3Guard(text);
}

/** "safe" | "unsafe\nS1,S10" (whitespace and case tolerated). */
export function parseLlamaGuard(text: string): GuardVerdict | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const first = lines[0]?.toLowerCase();
  if (first === 'safe') return { safety: 'safe', categories: [] };
  if (first !== 'unsafe') return undefined;
  const categories = (lines[1] ?? '')
    .split(',')
    .map((c) => c.trim().toUpperCase())
    .filter((c) => /^S\d{1,2}$/.test(c));
  return { safety: 'unsafe', categories: [...new Set(categories)] };
}

/** "Safety: Unsafe\nCategories: Violent, Jailbreak" (a "Refusal:" line, if any, is ignored). */
export function parseQwen3Guard(text: string): GuardVerdict | undefined {
  const level = /Safety:\s*(Safe|Unsafe|Controversial)\b/i.exec(text)?.[1]?.toLowerCase();
  if (level === undefined) return undefined;
  const line = /Categories:\s*([^\n]*)/i.exec(text)?.[1] ?? '';
  const known = Object.keys(QWEN3_GUARD);
  const categories = line
    .split(',')
    .map((c) => c.trim())
    .map((c) => known.find((k) => k.toLowerCase() === c.toLowerCase()))
    .filter((c): c is string => c !== undefined);
  return { safety: level as GuardVerdict['safety'], categories: [...new Set(categories)] };
}

/** What a verdict means in Parley's categories. */
export interface GuardFindings {
  harms: Partial<Record<HarmCategory, HarmFinding>>;
  moderation: Partial<Record<ModerationCategory, number>>;
  /** Present when the family checks jailbreaks. */
  jailbreak?: { detected: boolean };
  /** Categories of the verdict that map to nothing in Parley. */
  unmapped: string[];
}

/** Maps a verdict: every category of the family's taxonomy is checked; those named get the verdict's level. */
export function mapGuardVerdict(family: GuardFamily, verdict: GuardVerdict): GuardFindings {
  const taxonomy = TAXONOMY[family];
  const harms: Partial<Record<HarmCategory, HarmFinding>> = {};
  const moderation: Partial<Record<ModerationCategory, number>> = {};
  let checksJailbreak = false;
  for (const target of Object.values(taxonomy)) {
    for (const h of target.harms ?? []) harms[h] = { severity: 'safe', score: 0 };
    for (const m of target.moderation ?? []) moderation[m] = 0;
    if (target.jailbreak) checksJailbreak = true;
  }
  const hit: HarmFinding =
    verdict.safety === 'unsafe'
      ? { severity: 'high', score: 1 }
      : verdict.safety === 'controversial'
        ? { severity: 'medium', score: 0.5 }
        : { severity: 'safe', score: 0 };
  let jailbreak = false;
  const unmapped: string[] = [];
  if (verdict.safety !== 'safe') {
    for (const c of verdict.categories) {
      const target = taxonomy[c];
      if (!target || (!target.harms?.length && !target.moderation?.length && !target.jailbreak)) {
        unmapped.push(c);
        continue;
      }
      for (const h of target.harms ?? []) harms[h] = { ...hit };
      for (const m of target.moderation ?? []) moderation[m] = hit.score;
      if (target.jailbreak) jailbreak = true;
    }
  }
  return { harms, moderation, ...(checksJailbreak ? { jailbreak: { detected: jailbreak } } : {}), unmapped };
}
