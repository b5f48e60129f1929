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

/**
 * Resolves `name`: through `resolveModel` when given (the model cache), else as a path (relative to
 * the working directory), else as a file name in `modelsDir` (also with `extension` appended).
 */
export async function locateModelFile(
  name: string,
  options: { modelsDir?: string; resolveModel?: (name: string) => string | Promise<string>; extension?: string },
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
    if (isFile(c)) return { found: true, path: c };
  }
  return { found: false, name, tried, resolverError };
}

/**
 * Resolves a model *folder* (sherpa-onnx layouts: SenseVoice, Parakeet, Moonshine, Kokoro,
 * Piper) the same way as {@link locateModelFile}: through `resolveModel` (the model cache), else
 * as a path, else as a folder name in `modelsDir`. `isComplete` says whether a candidate folder
 * holds what the engine needs; the first complete one wins.
 */
export async function locateModelFolder(
  name: string,
  options: { modelsDir?: string; resolveModel?: (name: string) => string | Promise<string> },
  isComplete: (dir: string) => Promise<boolean>,
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
  if (!path.isAbsolute(name) && options.modelsDir) candidates.push(path.join(options.modelsDir, name));
  const tried: string[] = [];
  for (const c of candidates) {
    if (tried.includes(c)) continue;
    tried.push(c);
    if (isDirectory(c) && (await isComplete(c))) return { found: true, path: c };
  }
  return { found: false, name, tried, resolverError };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
