/** Finding the whisper model file: a path, or a cache name the model cache resolves. */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../../errors.js';
import type { AsrEngineOptions } from '../types.js';

/** The model `parley models pull` fetches first, and the one looked for when none is configured. */
export const DEFAULT_WHISPER_MODEL = 'whisper-base.en';

/** Where the model was found, or everything that was tried. */
export type WhisperModelLocation = { found: true; path: string } | { found: false; name: string; tried: string[]; resolverError?: unknown };

/**
 * Resolves `options.model` (default `whisper-base.en`): through `options.resolveModel` when given,
 * else as a path (relative to the working directory), else as a file name in `modelsDir`.
 */
export async function locateWhisperModel(options: AsrEngineOptions): Promise<WhisperModelLocation> {
  const name = options.model ?? DEFAULT_WHISPER_MODEL;
  const tried: string[] = [];
  let resolverError: unknown;
  const candidates: string[] = [];
  if (options.resolveModel) {
    try {
      candidates.push(await options.resolveModel(name));
    } catch (e) {
      resolverError = e;
    }
  }
  candidates.push(path.resolve(name));
  if (!path.isAbsolute(name) && options.modelsDir) candidates.push(path.join(options.modelsDir, name));
  for (const c of candidates) {
    if (tried.includes(c)) continue;
    tried.push(c);
    if (isFile(c)) return { found: true, path: c };
  }
  return { found: false, name, tried, resolverError };
}

/** The `engine_unavailable` error for a model that is not there. */
export function missingModelError(location: Extract<WhisperModelLocation, { found: false }>, configured: boolean): ApiError {
  const what = configured ? `Whisper model '${location.name}' was not found` : 'No whisper model is installed';
  return ApiError.engineUnavailable(
    `${what} (looked in: ${location.tried.join(', ')}). Run \`parley models pull ${DEFAULT_WHISPER_MODEL}\`, ` +
      'or set PARLEY_ASR_MODEL to the path of a whisper.cpp ggml-*.bin file.',
    location.resolverError,
  );
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
