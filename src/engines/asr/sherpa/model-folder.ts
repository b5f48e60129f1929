/**
 * Finding a sherpa-onnx model folder for a recogniser (a path, a folder in the model cache, or a
 * cache name the resolver turns into one) and the `engine_unavailable` error when it is missing.
 */
import { ApiError } from '../../../errors.js';
import { locateModelFolder } from '../../model-file.js';
import { hasSherpaBinding, sherpaMissing } from '../../speech-host/binding.js';
import { firstFile } from '../../speech-host/model-checks.js';
import type { AsrAvailability, AsrEngineDescriptor, AsrEngineOptions } from '../types.js';
import type { SherpaAsrEngine } from './recognizer.js';

/** Settings of the sherpa-onnx recognisers beyond the common ones. */
export interface SherpaAsrOptions extends AsrEngineOptions {
  /** Recycle the speech host when its RSS exceeds this many bytes after a call (default 1.5 GiB). */
  maxRssBytes?: number;
}

/** Files a folder must hold: each entry lists alternatives (e.g. the int8 model or the float one). */
export type FolderLayout = ReadonlyArray<readonly string[]>;

/** Resolved files of a folder, in layout order. */
export interface FoundFolder {
  dir: string;
  files: string[];
}

/** Files of `layout` found in `dir`, or undefined when one is missing. */
export async function layoutFiles(dir: string, layout: FolderLayout): Promise<string[] | undefined> {
  const files: string[] = [];
  for (const alternatives of layout) {
    const file = await firstFile(dir, alternatives);
    if (!file) return undefined;
    files.push(file);
  }
  return files;
}

/**
 * Finds `options.model` (default `defaultModel`) laid out as `layout`. Rejects with
 * `engine_unavailable` naming the exact `parley models pull` command when it is not there.
 */
export async function findModelFolder(engine: string, defaultModel: string, layout: FolderLayout, options: AsrEngineOptions): Promise<FoundFolder> {
  const location = await locateModelFolder(options.model ?? defaultModel, options, async (dir) => (await layoutFiles(dir, layout)) !== undefined);
  if (!location.found) {
    const what = options.model !== undefined ? `The ${engine} model '${location.name}' was not found` : `No ${engine} model is installed`;
    const files = layout.map((alternatives) => alternatives.join(' or ')).join(', ');
    throw ApiError.engineUnavailable(
      `${what}. Run \`parley models pull ${defaultModel}\`, or set PARLEY_ASR_MODEL to a folder in sherpa-onnx's layout (${files}).`,
      new Error(`looked in: ${location.tried.join(', ')}`, location.resolverError === undefined ? undefined : { cause: location.resolverError }),
    );
  }
  return { dir: location.path, files: (await layoutFiles(location.path, layout))! };
}

/** What differs between the sherpa-onnx recognisers' descriptors. */
export interface SherpaAsrSpec {
  /** Engine id (`sensevoice`). */
  id: string;
  /** The model's name in messages (`SenseVoice`). */
  model: string;
  description: string;
  /** Catalogue name looked for when no model is configured. */
  defaultModel: string;
  layout: FolderLayout;
  /** Checks the files found and starts the engine. */
  start(folder: FoundFolder, options: SherpaAsrOptions): Promise<SherpaAsrEngine>;
}

/** A sherpa recogniser's descriptor (its `create` gives the concrete engine, for tests and benchmarks). */
export interface SherpaAsrDescriptor extends AsrEngineDescriptor {
  create(options: SherpaAsrOptions): Promise<SherpaAsrEngine>;
}

/** A sherpa recogniser's descriptor: the binding and the folder are checked by `probe` and `create` alike. */
export function sherpaAsrDescriptor(spec: SherpaAsrSpec): SherpaAsrDescriptor {
  return {
    id: spec.id,
    description: spec.description,
    async probe(options: AsrEngineOptions): Promise<AsrAvailability> {
      if (!hasSherpaBinding()) return { available: false, reason: sherpaMissing(spec.id).message };
      try {
        await findModelFolder(spec.model, spec.defaultModel, spec.layout, options);
        return { available: true };
      } catch (e) {
        return { available: false, reason: e instanceof Error ? e.message : String(e) };
      }
    },
    async create(options: SherpaAsrOptions): Promise<SherpaAsrEngine> {
      if (!hasSherpaBinding()) throw sherpaMissing(spec.id);
      return spec.start(await findModelFolder(spec.model, spec.defaultModel, spec.layout, options), options);
    },
  };
}
