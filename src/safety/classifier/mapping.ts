/**
 * toxic-bert's label scores → Parley's harm severities and moderation scores (pure).
 *
 * | toxic-bert label | Azure harm (severity by thresholds) | moderation categories            |
 * | ---------------- | ----------------------------------- | -------------------------------- |
 * | identity_hate    | hate                                | hate                             |
 * | threat           | violence                            | violence, harassment/threatening |
 * | min(identity_hate, threat) | —                         | hate/threatening                 |
 * | insult           | —                                   | harassment                       |
 * | obscene          | sexual (a proxy, see below)         | sexual                           |
 * | toxic, severe_toxic | —                                | — (kept in `raw`)                |
 * Not covered: self_harm (the phrase list and the judge), illicit, sexual/minors, violence/graphic.
 *
 * Jigsaw's "obscene" fires on swearing as much as on sexual content, and swearing is Azure's
 * separate profanity check. So when the word list found profanity in the same text, the sexual
 * proxy is capped at 0.4 (below the moderation flag line and the default low threshold): "fuck
 * this weather" is profanity, not sexual content. Sexual content that also swears is then left
 * to the judge. The thresholds are starting points, not calibrated here (no real weights on this
 * machine): tune them in config (`safety.thresholds`).
 */
import type { HarmCategory, HarmFinding, ModerationCategory, Severity } from '../types.js';

/** Score at or above which a severity starts. */
export interface SeverityThresholds {
  low: number;
  medium: number;
  high: number;
}

export const DEFAULT_THRESHOLDS: SeverityThresholds = { low: 0.5, medium: 0.75, high: 0.9 };

/** Score cap of the sexual proxy when the word list found profanity (see above). */
export const SEXUAL_PROXY_CAP_WITH_PROFANITY = 0.4;

/** The severity a score reaches. */
export function severityOf(score: number, t: SeverityThresholds): Severity {
  if (score >= t.high) return 'high';
  if (score >= t.medium) return 'medium';
  if (score >= t.low) return 'low';
  return 'safe';
}

/** What the classifier's scores mean for the harm categories and the moderation categories. */
export interface ClassifierFindings {
  harms: Partial<Record<HarmCategory, HarmFinding>>;
  moderation: Partial<Record<ModerationCategory, number>>;
}

/**
 * Maps toxic-bert's labels (a missing label counts as not covered: its categories are left out).
 * `profanityDetected`: the word list found profanity in the same text.
 */
export function mapToxicBert(scores: Readonly<Record<string, number>>, t: SeverityThresholds, profanityDetected: boolean): ClassifierFindings {
  const harms: Partial<Record<HarmCategory, HarmFinding>> = {};
  const moderation: Partial<Record<ModerationCategory, number>> = {};
  const hate = scores.identity_hate;
  const threat = scores.threat;
  const insult = scores.insult;
  const obscene = scores.obscene;
  if (hate !== undefined) {
    harms.hate = { severity: severityOf(hate, t), score: hate };
    moderation.hate = hate;
  }
  if (threat !== undefined) {
    harms.violence = { severity: severityOf(threat, t), score: threat };
    moderation.violence = threat;
    moderation['harassment/threatening'] = threat;
  }
  if (hate !== undefined && threat !== undefined) moderation['hate/threatening'] = Math.min(hate, threat);
  if (insult !== undefined) moderation.harassment = insult;
  if (obscene !== undefined) {
    const sexual = profanityDetected ? Math.min(obscene, SEXUAL_PROXY_CAP_WITH_PROFANITY) : obscene;
    harms.sexual = { severity: severityOf(sexual, t), score: sexual };
    moderation.sexual = sexual;
  }
  return { harms, moderation };
}
