import { splitSentences } from '../sentences.js';

/** Options of {@link SentenceStream}. */
export interface SentenceStreamOptions {
  /** Locale for sentence boundaries (default `en`). */
  locale?: string;
  /**
   * Release the first words early, so speech can start while the model is still writing its first
   * sentence: at the first clause mark (, ; :) after `firstClauseMin` characters, or at a word
   * boundary once `firstPieceMax` characters have come without a mark. Default on.
   */
  fastStart?: boolean;
  firstClauseMin?: number;
  firstPieceMax?: number;
}

/**
 * Cuts streamed text (LLM tokens) into sentences as soon as each is certainly complete: a
 * sentence is released once text after its end has arrived (so "Dr." followed by " Smith" is not
 * taken for an end). `end()` releases the rest.
 */
export class SentenceStream {
  private buffer = '';
  private released = 0;
  private readonly locale: string;
  private readonly fastStart: boolean;
  private readonly firstClauseMin: number;
  private readonly firstPieceMax: number;

  constructor(options: SentenceStreamOptions | string = {}) {
    const o = typeof options === 'string' ? { locale: options } : options;
    this.locale = o.locale ?? 'en';
    this.fastStart = o.fastStart ?? true;
    this.firstClauseMin = o.firstClauseMin ?? 20;
    this.firstPieceMax = o.firstPieceMax ?? 60;
  }

  /** Adds text; returns the pieces completed by it, in order. */
  push(text: string): string[] {
    this.buffer += text;
    const pieces = splitSentences(this.buffer, this.locale);
    if (pieces.length <= 1) return this.released === 0 && this.fastStart ? this.firstPiece() : [];
    const done = pieces.slice(0, -1);
    const last = pieces[pieces.length - 1]!;
    const at = this.buffer.lastIndexOf(last);
    this.buffer = at >= 0 ? this.buffer.slice(at) : last;
    this.released += done.length;
    return done;
  }

  /** Everything not yet released, as sentences. */
  end(): string[] {
    const rest = splitSentences(this.buffer, this.locale);
    this.buffer = '';
    this.released += rest.length;
    return rest;
  }

  /** The head of a long first sentence, when it can go ahead on its own. */
  private firstPiece(): string[] {
    const text = this.buffer;
    // A clause mark followed by more text, past the minimum length.
    const mark = /[,;:]\s+\S/g;
    mark.lastIndex = this.firstClauseMin;
    const m = mark.exec(text);
    let cut = m ? m.index + 1 : -1;
    if (cut < 0 && text.length >= this.firstPieceMax) {
      const space = text.lastIndexOf(' ', text.length - 2);
      if (space > this.firstClauseMin) cut = space;
    }
    if (cut < 0) return [];
    const head = text.slice(0, cut).trim();
    if (!/[\p{L}\p{N}]/u.test(head)) return [];
    this.buffer = text.slice(cut).replace(/^\s+/, '');
    this.released++;
    return [head];
  }
}
