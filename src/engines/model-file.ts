/**
 * Finding an engine's model file: a path, or a name the model cache resolves. Shared by the
 * engines that load one file (whisper, llama); the cache's resolver is passed in, engines never
 * import the store.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Where the model was found, or everything that was tried (for the log, not for clients). */
export type ModelFileLocation = { found: true; path: string } | { found: false; name: string; tried: string[]; resolverError?: unknown };

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** How model names are resolved: the cache's resolver, and the folder of the cache. */
interface LocateOptions {
  modelsDir?: string;
  resolveModel?: (name: string) => string | Promise<string>;
}

/**
 * Tries the places `name` may be, in order — through `resolveModel` when given (the model cache),
 * as a path (relative to the working directory), as a name in `modelsDir` (and, for files, with
 * `extension` appended) — and returns the first that `accept` takes.
 */
async function locate(
  name: string,
  options: LocateOptions & { extension?: string },
  accept: (candidate: string) => Promise<boolean>,
): Promise<ModelFileLocation> {
  const candidates: string[] = [];
  let resolverError: unknown;
  if (options.resolveModel) {
    try {
      candidates.push(await options.resolveModel(name));
    } catch (e) {
      resolverError = e;
    }
  }
  candidates.push(path.resolve(name));
  if (!path.isAbsolute(name) && options.modelsDir) {
    candidates.push(path.join(options.modelsDir, name));
    if (options.extension && !name.endsWith(options.extension)) candidates.push(path.join(options.modelsDir, `${name}${options.extension}`));
  }
  const tried: string[] = [];
  for (const c of candidates) {
    if (tried.includes(c)) continue;
    tried.push(c);
    if (await accept(c)) return { found: true, path: c };
  }
  return { found: false, name, tried, resolverError };
}

/**
 * Resolves `name` to a file: through `resolveModel` when given (the model cache), else as a path
 * (relative to the working directory), else as a file name in `modelsDir` (also with `extension`
 * appended).
 */
export function locateModelFile(name: string, options: LocateOptions & { extension?: string }): Promise<ModelFileLocation> {
  return locate(name, options, async (c) => isFile(c));
}

/**
 * Resolves a model *folder* (sherpa-onnx layouts: SenseVoice, Parakeet, Moonshine, Kokoro,
 * Piper) the same way; `isComplete` says whether a candidate folder holds what the engine needs,
 * and the first complete one wins.
 */
export function locateModelFolder(name: string, options: LocateOptions, isComplete: (dir: string) => Promise<boolean>): Promise<ModelFileLocation> {
  return locate(name, options, async (c) => isDirectory(c) && (await isComplete(c)));
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
