/**
 * The whisper engine's descriptor. Importing this file is cheap: the native binding loads in the
 * host process when `create` runs.
 */
import { createRequire } from 'node:module';
import { ApiError } from '../../../errors.js';
import type { AsrAvailability, AsrEngineDescriptor, AsrEngineOptions } from '../types.js';
import { whisperPlatformProblem } from './cpu-features.js';
import type { WhisperEngine } from './engine.js';
import { DEFAULT_WHISPER_MODEL, locateWhisperModel, missingModelError } from './model.js';
import { readWhisperModelInfo } from './model-file.js';

export { DEFAULT_WHISPER_MODEL } from './model.js';

export const whisperDescriptor: AsrEngineDescriptor = {
  id: 'whisper',
  description: 'whisper.cpp (OpenAI Whisper, ggml models): ~99 languages, translation to English, word times',

  async probe(options: AsrEngineOptions): Promise<AsrAvailability> {
    const problem = bindingProblem();
    if (problem) return { available: false, reason: problem };
    const location = await locateWhisperModel(options);
    if (!location.found) return { available: false, reason: missingModelError(location, options.model !== undefined).message };
    return { available: true };
  },

  async create(options: AsrEngineOptions): Promise<WhisperEngine> {
    return createWhisperEngine(options);
  },
};

/** Resolves the model, checks its header, starts the host and loads the model. */
export async function createWhisperEngine(options: AsrEngineOptions): Promise<WhisperEngine> {
  const problem = bindingProblem();
  if (problem) throw ApiError.engineUnavailable(`The whisper engine cannot run here: ${problem}.`);
  const location = await locateWhisperModel(options);
  if (!location.found) throw missingModelError(location, options.model !== undefined);
  let info: Awaited<ReturnType<typeof readWhisperModelInfo>>;
  try {
    info = await readWhisperModelInfo(location.path);
  } catch (e) {
    throw ApiError.engineUnavailable(
      `${e instanceof Error ? e.message : String(e)}. Download a whisper.cpp model with \`parley models pull ${DEFAULT_WHISPER_MODEL}\`.`,
      e,
    );
  }
  const { WhisperEngine } = await import('./engine.js');
  return WhisperEngine.create({
    modelPath: location.path,
    info,
    threads: options.threads,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/** Why whisper.cpp cannot run on this machine (binding missing, platform, glibc, CPU), or undefined. */
function bindingProblem(): string | undefined {
  try {
    createRequire(import.meta.url).resolve('@napi-rs/whisper');
  } catch {
    return 'the npm package @napi-rs/whisper is not installed (run `npm ci`)';
  }
  const platform = whisperPlatformProblem();
  return platform ? `${platform}; use pocketsphinx (PARLEY_ASR_ENGINE=pocketsphinx) instead` : undefined;
}
