/**
 * Model folders of sherpa-onnx voices: finding one (a path, or a name in the model cache), and
 * the espeak-ng data both Kokoro and Piper phonemise with — the folder's own `espeak-ng-data/`
 * (sherpa's release archives ship one), else Debian's (`apt-get install espeak-ng-data`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError } from '../../../errors.js';
import { locateModelFolder } from '../../model-file.js';
import { hasSherpaBinding, sherpaMissing } from '../../speech-host/binding.js';
import type { TtsEngineOptions } from '../types.js';

/** Settings of the sherpa-onnx voices beyond the common ones. */
export interface SherpaTtsOptions extends TtsEngineOptions {
  /** Recycle the speech host above this RSS, bytes (default 1.5 GiB). */
  maxRssBytes?: number;
  /** CPU threads of one synthesis (default 2). */
  threads?: number;
  /** Where to look for espeak-ng data when the folder has none (default: Debian's places). */
  systemEspeakDataDirs?: readonly string[];
}

/** Where distributions install espeak-ng's data (Debian/Ubuntu multiarch first). */
export const SYSTEM_ESPEAK_DATA_DIRS = [
  '/usr/lib/x86_64-linux-gnu/espeak-ng-data',
  '/usr/lib/aarch64-linux-gnu/espeak-ng-data',
  '/usr/share/espeak-ng-data',
] as const;

async function hasEspeakData(dir: string): Promise<boolean> {
  // phontab is what espeak-ng opens first; without it the voice cannot be set.
  return (await fs.stat(path.join(dir, 'phontab')).catch(() => null))?.isFile() ?? false;
}

/** The espeak-ng data for a model folder: its own, else the system's; undefined when neither exists. */
export async function espeakDataFor(folder: string, systemDirs: readonly string[] = SYSTEM_ESPEAK_DATA_DIRS): Promise<string | undefined> {
  const own = path.join(folder, 'espeak-ng-data');
  if (await hasEspeakData(own)) return own;
  for (const dir of systemDirs) if (await hasEspeakData(dir)) return dir;
  return undefined;
}

/** The error when no espeak-ng data is found. */
export function missingEspeakData(engine: string, pullName: string): ApiError {
  return ApiError.engineUnavailable(
    `The ${engine} voice needs espeak-ng's phoneme data: its folder has no espeak-ng-data/ and none is installed. ` +
      `Run \`apt-get install espeak-ng-data\`, or \`parley models pull ${pullName}\` to get the complete folder.`,
  );
}

/**
 * Finds `options.model` (default `defaultModel`): a path, or a folder in `modelsDir`; `isComplete`
 * says whether a folder has the engine's files. Rejects with `engine_unavailable` naming the
 * exact `parley models pull` command.
 */
export async function findVoiceFolder(
  engine: string,
  defaultModel: string,
  options: Pick<TtsEngineOptions, 'model' | 'modelsDir'>,
  isComplete: (dir: string) => Promise<boolean>,
  layout: string,
): Promise<string> {
  const location = await locateModelFolder(options.model ?? defaultModel, { modelsDir: options.modelsDir }, isComplete);
  if (location.found) return location.path;
  const what = options.model !== undefined ? `The ${engine} model '${location.name}' was not found` : `No ${engine} model is installed`;
  throw ApiError.engineUnavailable(
    `${what}. Run \`parley models pull ${defaultModel}\`, or set PARLEY_TTS_MODEL to a folder in sherpa-onnx's ${engine} layout (${layout}).`,
    new Error(`looked in: ${location.tried.join(', ')}`),
  );
}

/**
 * Whether a sherpa-onnx voice can run here, without loading it: the binding, a complete folder
 * and espeak-ng's data (the folder's own or Debian's). `reason` says what to run when not.
 */
export async function probeVoiceFolder(
  id: string,
  engine: string,
  defaultModel: string,
  options: SherpaTtsOptions,
  isComplete: (dir: string) => Promise<boolean>,
  layout: string,
): Promise<{ available: boolean; reason?: string }> {
  if (!hasSherpaBinding()) return { available: false, reason: sherpaMissing(id).message };
  try {
    const dir = await findVoiceFolder(engine, defaultModel, options, isComplete, layout);
    if (!(await espeakDataFor(dir, options.systemEspeakDataDirs ?? SYSTEM_ESPEAK_DATA_DIRS)))
      return { available: false, reason: missingEspeakData(engine, defaultModel).message };
    return { available: true };
  } catch (e) {
    return { available: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
