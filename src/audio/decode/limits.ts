import { ApiError } from '../../errors.js';

/** Largest input accepted by default: 20 MB, as OpenAI/Azure document for audio input. */
export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
/** Longest decoded audio accepted by default, seconds; bounds memory (2 h at 48 kHz ≈ 1.4 GB of floats). */
export const DEFAULT_MAX_DURATION_SEC = 2 * 60 * 60;
/** Longest an ffmpeg decode may take by default, ms. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** 400 `audio_too_large` naming the field. */
export function tooLargeError(param: string, size: number, maxBytes: number): ApiError {
  return ApiError.invalidRequest(param, `Audio data is too large: ${formatMb(size)} MB, the maximum is ${formatMb(maxBytes)} MB.`, 'audio_too_large');
}

/** 400 `audio_too_long` naming the field. */
export function tooLongError(param: string, limitSec: number): ApiError {
  return ApiError.invalidRequest(param, `Audio is too long: the maximum duration is ${limitSec} seconds.`, 'audio_too_long');
}

function formatMb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}

/** 400 `unsupported_format` with OpenAI's wording; the reason is kept in `cause` for the log only. */
export function unsupportedFormatError(param: string, cause: unknown): ApiError {
  const { message } = ApiError.unsupportedFormat(param);
  return new ApiError({ status: 400, type: 'invalid_request_error', code: 'unsupported_format', param, message, cause });
}
