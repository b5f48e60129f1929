/** Finding the whisper model file: a path, or a cache name the model cache resolves. */
import { ApiError } from '../../../errors.js';
import { locateModelFile, type ModelFileLocation } from '../../model-file.js';
import type { AsrEngineOptions } from '../types.js';

/** The model `parley models pull` fetches first, and the one looked for when none is configured. */
export const DEFAULT_WHISPER_MODEL = 'whisper-base.en';

/** Where the model was found, or everything that was tried. */
export type WhisperModelLocation = ModelFileLocation;

/**
 * Resolves `options.model` (default `whisper-base.en`): through `options.resolveModel` when given,
 * else as a path (relative to the working directory), else as a file name in `modelsDir`.
 */
export function locateWhisperModel(options: AsrEngineOptions): Promise<WhisperModelLocation> {
  return locateModelFile(options.model ?? DEFAULT_WHISPER_MODEL, options);
}

/** The `engine_unavailable` error for a model that is not there. */
export function missingModelError(location: Extract<WhisperModelLocation, { found: false }>, configured: boolean): ApiError {
  const what = configured ? `Whisper model '${location.name}' was not found` : 'No whisper model is installed';
  return ApiError.engineUnavailable(
    `${what}. Run \`parley models pull ${DEFAULT_WHISPER_MODEL}\`, or set PARLEY_ASR_MODEL to the path of a whisper.cpp ggml-*.bin file.`,
    new Error(`looked in: ${location.tried.join(', ')}`, location.resolverError === undefined ? undefined : { cause: location.resolverError }),
  );
}
