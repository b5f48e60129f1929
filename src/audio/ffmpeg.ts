/**
 * Where the ffmpeg binary is: a system `ffmpeg` on PATH wins (usually newer, distro-patched),
 * else the static build shipped by the `@ffmpeg-installer/ffmpeg` package, else none.
 * Used by the AAC and MP3 encoders and the audio decoder.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

let cached: string | null | undefined;

/** Absolute path of an ffmpeg binary, or null when there is none. Looked up once per process. */
export function ffmpegPath(): string | null {
  if (cached === undefined) cached = findOnPath('ffmpeg') ?? bundledFfmpeg();
  return cached;
}

/** First executable file named `name` in the directories of PATH. */
function findOnPath(name: string): string | null {
  // PATH is read here rather than through config: it is the OS's lookup list, as for spawn().
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of dirs) {
    for (const n of names) {
      const candidate = join(dir, n);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}

/** The binary of the optional `@ffmpeg-installer/ffmpeg` package (it throws on unsupported platforms). */
function bundledFfmpeg(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@ffmpeg-installer/ffmpeg') as { path?: unknown };
    return typeof mod.path === 'string' && isExecutableFile(mod.path) ? mod.path : null;
  } catch {
    return null;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
