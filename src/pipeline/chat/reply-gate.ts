import type { SafetyChecker } from '../../safety/checker.js';
import type { SafetyDecision } from '../../safety/types.js';
import { firstPieceCut } from '../sentence-stream.js';
import { splitSentences } from '../sentences.js';

/** What the gate hands on: exact text (as the model wrote it, or masked) and the same cut into speakable pieces. */
export interface ReleasedText {
  /** The text to send to the client, whitespace and all. */
  text: string;
  /** The same text as sentences, for the speaking path. */
  pieces: string[];
}

/**
 * The reply side of the content filters: the language model's text is held until each piece of
 * it has been checked, and only then sent (as text) and spoken — so a blocked passage never
 * reaches the client, in words or in sound. Pieces follow the one sentence rule of the speaking
 * path (a short first piece at a clause mark, then whole sentences), so the first audio is not
 * delayed by more than one check. When the policy cannot intervene (no block level, profanity
 * only annotated) text passes through at once and the whole reply is checked at the end, for the
 * annotations.
 */
export class ReplyGate {
  private buffer = '';
  private releasedFirst = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly checked: Array<{ text: string; decision: SafetyDecision }> = [];
  private stopped: SafetyDecision | undefined;
  private failure: unknown;
  private passedText = '';
  private readonly holds: boolean;

  constructor(
    private readonly safety: SafetyChecker,
    private readonly options: { signal: AbortSignal; release: (out: ReleasedText) => void; onBlock: (decision: SafetyDecision) => void },
  ) {
    this.holds = safety.canIntervene();
  }

  /** The decision that stopped the reply, if one did. */
  get blocked(): SafetyDecision | undefined {
    return this.stopped;
  }

  /** Adds model text. */
  push(delta: string): void {
    if (this.stopped || delta.length === 0) return;
    if (!this.holds) {
      this.passedText += delta;
      this.options.release({ text: delta, pieces: [] });
      return;
    }
    this.buffer += delta;
    const cut = this.completeUpTo();
    if (cut > 0) this.submit(this.take(cut));
  }

  /** The model is done: checks the rest and waits for every check. Rejects when a check failed. */
  async end(): Promise<void> {
    if (this.holds) {
      if (!this.stopped && /\S/.test(this.buffer)) this.submit(this.take(this.buffer.length));
    } else if (/\S/.test(this.passedText)) {
      const decision = await this.safety.checkReply(this.passedText, this.options.signal);
      this.checked.push({ text: this.passedText, decision });
    }
    await this.chain;
    if (this.failure) throw this.failure;
  }

  /** The reply's annotation: every checked piece together (undefined when nothing was checked). */
  decision(): SafetyDecision | undefined {
    return this.stopped ?? this.safety.combine('reply', this.checked);
  }

  /** How much of the buffer is complete: whole sentences, or the fast-start head of the first one. */
  private completeUpTo(): number {
    if (!this.releasedFirst) {
      const cut = firstPieceCut(this.buffer);
      if (cut > 0) return cut;
    }
    const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
    let end = 0;
    let last = 0;
    for (const { segment, index } of segmenter.segment(this.buffer)) {
      end = last;
      last = index + segment.length;
    }
    // Every segment but the last is complete (text after it has arrived). Joining the way the
    // sentence splitter does (abbreviations, numbers) is left to it: a boundary it would mend is
    // rare enough to cost only an extra check.
    return end;
  }

  private take(n: number): string {
    const text = this.buffer.slice(0, n);
    this.buffer = this.buffer.slice(n);
    this.releasedFirst = true;
    return text;
  }

  /** Checks a piece after those before it, then releases it or stops the reply. */
  private submit(text: string): void {
    this.chain = this.chain.then(async () => {
      if (this.stopped || this.failure) return;
      try {
        const decision = await this.safety.checkReply(text.trim(), this.options.signal);
        if (decision.action === 'block') {
          this.stopped = decision;
          this.options.onBlock(decision);
          return;
        }
        this.checked.push({ text, decision });
        const out = decision.redacted?.[0] !== undefined ? preserveSpacing(text, decision.redacted[0]) : text;
        this.options.release({ text: out, pieces: splitSentences(out) });
      } catch (e) {
        this.failure = e;
      }
    });
  }
}

/** The masked text with the original's leading and trailing white space (the check saw it trimmed). */
function preserveSpacing(original: string, maskedTrimmed: string): string {
  const lead = /^\s*/.exec(original)![0];
  const trail = /\s*$/.exec(original)![0];
  return `${lead}${maskedTrimmed}${trail}`;
}
