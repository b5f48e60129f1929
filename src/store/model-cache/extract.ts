/**
 * Unpacking a verified `.tar.bz2` into a model folder (sherpa-onnx publishes espeak-ng's data and
 * its Piper voices as GitHub release archives), all or nothing per top-level entry.
 *
 * The archive is read as a stream (bzip2 in pure JavaScript, tar by node-tar) into a hidden
 * staging folder inside the model folder; only regular files and folders under `root/` are taken
 * (no links, no absolute or `..` paths — node-tar strips those too). Each entry of `root/` then
 * replaces its namesake in the model folder with a rename, so an interrupted extraction leaves
 * no half-written folder under a real name.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import unbzip2 from 'unbzip2-stream';

/** The archive held something other than what the catalogue says. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/**
 * Extracts what `archive` (tar.bz2) holds under `root/` (`''`: everything) into `dir`: each entry
 * of `root/` replaces the one of the same name in `dir`. Returns the number of files written.
 */
export async function extractTarBz2(archive: string, dir: string, root: string, signal?: AbortSignal): Promise<number> {
  if (root !== '' && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(root)) throw new ArchiveError(`'${root}' is not a folder name`);
  const staging = path.join(dir, `.extract-${randomBytes(4).toString('hex')}`);
  let files = 0;
  try {
    await mkdir(staging, { recursive: true });
    await pipeline(
      createReadStream(archive),
      unbzip2(),
      tar.x({
        cwd: staging,
        strict: true,
        filter: (entryPath, entry) => {
          const clean = path.posix.normalize(entryPath.replace(/^\.\//, ''));
          if (clean.startsWith('../') || clean.startsWith('/')) return false;
          const inside = root === '' || clean === root || clean === `${root}/` || clean.startsWith(`${root}/`);
          const kind = 'type' in entry ? entry.type : undefined;
          const plain = kind === 'File' || kind === 'OldFile' || kind === 'ContiguousFile' || kind === 'Directory';
          if (inside && plain && kind !== 'Directory') files++;
          return inside && plain;
        },
      }),
      ...(signal ? [{ signal }] : []),
    );
    const from = path.join(staging, root);
    if (files === 0 || !(await stat(from).catch(() => null))?.isDirectory()) {
      throw new ArchiveError(`${path.basename(archive)} holds no files${root ? ` under '${root}/'` : ''}`);
    }
    for (const name of await readdir(from)) {
      await rm(path.join(dir, name), { recursive: true, force: true });
      await rename(path.join(from, name), path.join(dir, name));
    }
    return files;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
