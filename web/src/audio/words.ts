/** Timed words (verbose_json `words`), and which one is being spoken. */

export interface Word {
  word: string;
  start: number;
  end: number;
}

/** The word at `t` seconds (or the last one started before it), -1 before the first. */
export function wordAt(words: readonly Word[], t: number): number {
  let found = -1;
  for (let i = 0; i < words.length; i++) {
    if (words[i]!.start <= t) found = i;
    else break;
  }
  return found;
}
