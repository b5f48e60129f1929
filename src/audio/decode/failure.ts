/**
 * Internal failures of the decoders. `decodeAudio` turns them into ApiErrors with the request's
 * `param`; the reason stays in `cause` (for the log) and never reaches the client.
 */

/** The bytes cannot be decoded (malformed, truncated, lying headers, unknown container). */
export class DecodeFailure extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'DecodeFailure';
  }
}

/** The decoded audio would be longer than the caller allows. */
export class TooLongFailure extends Error {
  constructor(readonly limitSec: number) {
    super(`decoded audio exceeds ${limitSec} s`);
    this.name = 'TooLongFailure';
  }
}
