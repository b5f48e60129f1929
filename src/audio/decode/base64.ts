/**
 * Strict base64 for audio sent inside JSON (`input_audio.data`). Node's decoder silently skips
 * anything it does not understand, so "hello world!" would become a few bytes of garbage and fail
 * later as an undecodable file; here it is a clear 400 naming the field instead.
 */
import { ApiError } from '../../errors.js';
import { DEFAULT_MAX_BYTES, tooLargeError } from './limits.js';

/** Options of `decodeBase64Strict`. */
export interface DecodeBase64Options {
  /** Largest decoded size accepted, checked on the text's length before decoding (default 20 MB). */
  maxBytes?: number;
}

/**
 * Decode standard (`+/`) or URL-safe (`-_`) base64. Line breaks and spaces (as `base64` tools wrap
 * their output) are allowed; padding is optional but only at the end. Anything else is a 400
 * `invalid_value` with `param`; a result over `maxBytes` is a 400 `audio_too_large`.
 */
export function decodeBase64Strict(text: string, param: string, options: DecodeBase64Options = {}): Uint8Array {
  if (typeof text !== 'string') throw invalid(param);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let symbols = 0;
  let padding = 0;
  let whitespace = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d /* = */) {
      padding++;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      whitespace = true;
      continue;
    }
    // Data after padding, or a character outside both alphabets.
    if (padding > 0 || !isBase64Char(c)) throw invalid(param);
    symbols++;
  }
  if (padding > 2 || symbols % 4 === 1 || (padding > 0 && (symbols + padding) % 4 !== 0)) throw invalid(param);
  // The size is known from the count alone: refuse before allocating anything.
  const decodedLength = Math.floor((symbols * 3) / 4);
  if (decodedLength > maxBytes) throw tooLargeError(param, decodedLength, maxBytes);
  const clean = whitespace ? text.replace(/[ \t\r\n]+/g, '') : text;
  const buf = Buffer.from(clean, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function isBase64Char(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2b ||
    c === 0x2f || // + /
    c === 0x2d ||
    c === 0x5f // - _
  );
}

function invalid(param: string): ApiError {
  return ApiError.invalidRequest(param, `Invalid value for '${param}': expected base64-encoded audio data.`, 'invalid_value');
}
