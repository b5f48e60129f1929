/** Ids of tool calls, in OpenAI's shape (`call_` + 24 letters and digits). */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new random `call_…` id. */
export function newToolCallId(): string {
  const bytes = randomBytes(24);
  let id = 'call_';
  // `% 62` is very slightly biased; irrelevant for ids that only need to be unique.
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}
