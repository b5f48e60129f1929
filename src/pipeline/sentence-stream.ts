import { splitSentences } from './sentences.js';

/**
 * The one rule for cutting text into what speech synthesis speaks, used by every speaking path
 * (`/v1/audio/speech`, chat audio, batch lines):
 * - text is cut into sentences (see ./sentences.ts), each released as soon as it is certainly
 *   complete (text after its end has arrived, so "Dr." followed by " Smith" is not an end);
 * - fast start: the head of the first sentence goes ahead on its own at its first clause mark
 *   (, ; :) after {@link FIRST_CLAUSE_MIN} characters, or at a word boundary once
 *   {@link FIRST_PIECE_MAX} characters have come without one — where a speaker would pause anyway;
 * - passages: later sentences are joined into passages that grow from {@link SECOND_PASSAGE_MAX}
 *   to {@link PASSAGE_MAX} characters (see {@link passageLimit}), because each synthesis has a
 *   fixed cost while the first audio must leave early.
 */

/** A clause mark after this many characters may end the first piece. */
export const FIRST_CLAUSE_MIN = 20;
/** Without a clause mark, the first piece ends at a word boundary by this many characters. */
export const FIRST_PIECE_MAX = 60;
/** The longest second passage (the ramp from the short first piece to full passages). */
export const SECOND_PASSAGE_MAX = 120;
/** The longest passage after that. */
export const PASSAGE_MAX = 240;

/** Longest passage (characters) for the passage at `index` (0 = the first piece). */
export function passageLimit(index: number): number {
  return index <= 1 ? SECOND_PASSAGE_MAX : PASSAGE_MAX;
}

/**
 * Where the first piece of `text` (the start of a reply) may end, or -1 to wait for more text.
 * `text` is what has arrived so far of the first sentence.
 */
export function firstPieceCut(text: string, clauseMin = FIRST_CLAUSE_MIN, pieceMax = FIRST_PIECE_MAX): number {
  const mark = /[,;:]\s+\S/g;
  mark.lastIndex = clauseMin;
  const m = mark.exec(text);
  if (m && m.index < pieceMax) return m.index + 1;
  if (text.length < pieceMax) return m ? m.index + 1 : -1;
  const space = text.lastIndexOf(' ', pieceMax);
  return space > clauseMin ? space : m ? m.index + 1 : -1;
}

/** Options of {@link SentenceStream}. */
export interface SentenceStreamOptions {
  /** Locale for sentence boundaries (default `en`). */
  locale?: string;
  /** Release the head of the first sentence early (default on; off for output nobody hears until it is complete). */
  fastStart?: boolean;
}

/**
 * Cuts text that arrives in pieces (LLM tokens, or a whole input at once) into sentences, each
 * released as soon as it is certainly complete; `end()` releases the rest.
 */
export class SentenceStream {
  private buffer = '';
  /** Sentences released so far (the fast-start head does not count). */
  private released = 0;
  /** The head of the first sentence, when it went ahead on its own. */
  private head: string | undefined;
  private readonly locale: string;
  private readonly fastStart: boolean;

  constructor(options: SentenceStreamOptions = {}) {
    this.locale = options.locale ?? 'en';
    this.fastStart = options.fastStart ?? true;
  }

  /** Adds text; returns the pieces completed by it, in order. */
  push(text: string): string[] {
    this.buffer += text;
    const pieces = splitSentences(this.buffer, this.locale);
    const out = this.headOf(pieces[0]);
    if (pieces.length <= 1) return out;
    const done = pieces.slice(0, -1);
    const last = pieces[pieces.length - 1]!;
    const at = this.buffer.lastIndexOf(last);
    this.buffer = at >= 0 ? this.buffer.slice(at) : last;
    return [...out, ...this.release(done)];
  }

  /** Everything not yet released, as sentences. */
  end(): string[] {
    const pieces = splitSentences(this.buffer, this.locale);
    this.buffer = '';
    return [...this.headOf(pieces[0]), ...this.release(pieces)];
  }

  /** The head of the (still open) first sentence, when it can go ahead on its own. */
  private headOf(first: string | undefined): string[] {
    if (!this.fastStart || this.released > 0 || this.head !== undefined || first === undefined) return [];
    const cut = firstPieceCut(first);
    if (cut < 0 || cut >= first.length - 1) return [];
    const head = first.slice(0, cut).trim();
    if (!/[\p{L}\p{N}]/u.test(head)) return [];
    this.head = head;
    return [head];
  }

  /** Complete sentences, the first one without the head that already went. */
  private release(sentences: string[]): string[] {
    if (sentences.length === 0) return [];
    const out = [...sentences];
    if (this.released === 0 && this.head !== undefined && out[0]!.startsWith(this.head)) {
      const rest = out[0]!.slice(this.head.length).trim();
      if (/[\p{L}\p{N}]/u.test(rest)) out[0] = rest;
      else out.shift();
    }
    this.released += sentences.length;
    return out;
  }
}

/**
 * Joins queued pieces into the next passage: at least one piece, then more while the passage
 * stays within `maxChars`. Returns the passage and how many pieces it took.
 */
export function nextPassage(queue: readonly string[], maxChars: number): { text: string; taken: number } {
  let text = queue[0] ?? '';
  let taken = queue.length > 0 ? 1 : 0;
  while (taken < queue.length && text.length + 1 + queue[taken]!.length <= maxChars) {
    text = `${text} ${queue[taken]}`;
    taken++;
  }
  return { text, taken };
}

/** The passages a whole text is spoken in (what the speaking path does when all text is there at once). */
export function planPassages(text: string, options: SentenceStreamOptions = {}): string[] {
  const stream = new SentenceStream(options);
  const queue = [...stream.push(text), ...stream.end()];
  const out: string[] = [];
  while (queue.length > 0) {
    const { text: passage, taken } = out.length === 0 ? { text: queue[0]!, taken: 1 } : nextPassage(queue, passageLimit(out.length));
    out.push(passage);
    queue.splice(0, taken);
  }
  return out;
}
