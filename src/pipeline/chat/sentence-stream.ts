import { splitSentences } from '../sentences.js';

/**
 * Cuts streamed text (LLM tokens) into sentences as soon as each is certainly complete: a
 * sentence is released once text after its end has arrived (so "Dr." followed by " Smith" is not
 * taken for an end). `end()` releases the rest.
 */
export class SentenceStream {
  private buffer = '';

  constructor(private readonly locale = 'en') {}

  /** Adds text; returns the sentences completed by it, in order. */
  push(text: string): string[] {
    this.buffer += text;
    // Only the text up to the last whitespace can hold finished sentences.
    const pieces = splitSentences(this.buffer, this.locale);
    if (pieces.length <= 1) return [];
    const done = pieces.slice(0, -1);
    const last = pieces[pieces.length - 1]!;
    const at = this.buffer.lastIndexOf(last);
    this.buffer = at >= 0 ? this.buffer.slice(at) : last;
    return done;
  }

  /** Everything not yet released, as sentences. */
  end(): string[] {
    const rest = splitSentences(this.buffer, this.locale);
    this.buffer = '';
    return rest;
  }
}
