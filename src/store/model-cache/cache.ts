/**
 * The model cache: one folder per model under `dir`, named after its catalogue entry.
 *
 * ```
 * <dir>/
 *   kokoro-82m-int8/             files at their catalogue paths, plus
 *     parley-manifest.json       what was verified: sha256, size, url, time (per file)
 *   whisper-base.en/ggml-base.en.bin
 *   my-own-model.gguf            anything else a user put here is listed and resolvable by name
 *   .locks/<name>.lock           held while a pull runs (pid, host, start time)
 * ```
 *
 * Downloads go through download.ts (resume, sha256, atomic rename), so a model folder never holds
 * a half-written file under its real name.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { ApiError } from '../../errors.js';
import { processExists } from '../../lib/process.js';
import { type CatalogueEntry, type CatalogueFile, DEFAULT_CATALOGUE, entrySize, findEntry, type ModelKind } from './catalogue.js';
import { type DownloadOptions, downloadFile, sha256File } from './download.js';
import { extractTarBz2 } from './extract.js';

/** Name of the per-model manifest file inside its folder. */
export const MANIFEST_FILE = 'parley-manifest.json';
const LOCK_DIR = '.locks';
/** A lock whose heartbeat is older than this is considered abandoned (its holder died elsewhere). */
const LOCK_STALE_MS = 5 * 60_000;
const LOCK_HEARTBEAT_MS = 30_000;

/** Options of {@link ModelCache}. */
export interface ModelCacheOptions {
  /** PARLEY_OFFLINE: never touch the network; pulls of missing files fail with what to do instead. */
  offline: boolean;
  /** Models that can be pulled; defaults to the built-in catalogue. */
  catalogue?: readonly CatalogueEntry[];
  /** PARLEY_MODELS_MIRROR: a base URL that replaces the origin of every catalogue URL. */
  baseUrl?: string;
  /** Download tuning (timeouts, retries), mainly for tests. */
  download?: Pick<DownloadOptions, 'connectTimeoutMs' | 'stallTimeoutMs' | 'retries' | 'retryDelayMs'>;
}

/** One file of a model as it is on disk. */
export interface ModelFileStatus {
  /** Path inside the model folder. */
  path: string;
  /** Download address (after the mirror is applied). */
  url: string;
  /** Expected size in bytes (catalogue, else manifest), null when unknown. */
  size: number | null;
  /** Expected sha256: catalogue, else recorded on first download, else null. */
  sha256: string | null;
  /** Present with the expected size. */
  present: boolean;
}

/** A row of `parley models list`. */
export interface ModelStatus {
  /** Catalogue name, or the file/folder name of something else found in the cache. */
  name: string;
  /** Whether the catalogue knows it (false: found in the cache folder only). */
  catalogued: boolean;
  /** tts/asr/llm; null when not catalogued. */
  kind: ModelKind | null;
  /** Engine id; null when not catalogued. */
  engine: string | null;
  /** One-line description ('' when not catalogued). */
  description: string;
  /** Licence of the weights; null when not catalogued. */
  licence: string | null;
  /** Every file is present with its expected size (always true for uncatalogued items). */
  installed: boolean;
  /** Some bytes are there but not all (an interrupted pull). */
  partial: boolean;
  /** Bytes used in the cache, partial downloads included. */
  sizeOnDisk: number;
  /** Download size from the catalogue; null when unknown or not catalogued. */
  size: number | null;
  /** What `resolve(name)` returns once installed. */
  path: string;
  /** Per-file state (empty when not catalogued). */
  files: ModelFileStatus[];
}

/** Progress of a pull: bytes of the model on disk so far, out of its total size. */
export type PullProgressCallback = (done: number, total: number | null, file: string) => void;

/** Options of {@link ModelCache.pull}. */
export interface PullOptions {
  /** Called as bytes arrive (and as already-present files are verified). */
  onProgress?: PullProgressCallback;
  /** Stops the pull; partial files are kept and the next pull resumes them. */
  signal?: AbortSignal;
}

/** One file in a model's manifest. */
export interface ManifestFileRecord {
  /** SHA-256 of the file as verified. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Where it was downloaded from. */
  url: string;
  /** `catalogue`: checked against the catalogue; `trust-on-first-use`: the catalogue had none, this one is now the reference. */
  source: 'catalogue' | 'trust-on-first-use';
  /** ISO time of the verification. */
  verifiedAt: string;
  /** For an archive: unpacked into the model folder (the archive itself is not kept). */
  extracted?: boolean;
}

/** Content of `parley-manifest.json`. */
export interface ModelManifest {
  /** Catalogue name. */
  name: string;
  /** Per file path. */
  files: Record<string, ManifestFileRecord>;
  /** ISO time of the last change. */
  updatedAt: string;
}

/** What a pull did. */
export interface PullResult {
  /** Model name. */
  name: string;
  /** What `resolve(name)` returns. */
  path: string;
  /** Files downloaded now. */
  downloaded: string[];
  /** Files already present and verified. */
  skipped: string[];
  /** Bytes received over the network. */
  transferred: number;
  /** The manifest as written. */
  manifest: ModelManifest;
}

/** What a removal freed. */
export interface RemoveResult {
  /** Model name. */
  name: string;
  /** Bytes deleted. */
  freed: number;
}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** The model cache folder `dir`: what is installed, where it is, and how to get what is not. */
export class ModelCache {
  private readonly catalogue: readonly CatalogueEntry[];
  /** Pulls running in this process, so a second caller joins the first instead of colliding. */
  private readonly pulls = new Map<string, Promise<PullResult>>();

  constructor(
    /** The cache folder (made absolute). */
    readonly dir: string,
    private readonly opts: ModelCacheOptions,
  ) {
    this.dir = path.resolve(dir);
    this.catalogue = opts.catalogue ?? DEFAULT_CATALOGUE;
    if (opts.baseUrl !== undefined) parseMirror(opts.baseUrl); // a bad mirror fails now, not mid-pull
  }

  /** The catalogue entries this cache knows. */
  entries(): readonly CatalogueEntry[] {
    return this.catalogue;
  }

  /** Catalogue entries with their installed state, then anything else found in the cache folder. */
  async list(): Promise<ModelStatus[]> {
    const rows: ModelStatus[] = [];
    for (const entry of this.catalogue) rows.push(await this.status(entry));
    const known = new Set(this.catalogue.map((e) => e.name));
    for (const item of await readdirSafe(this.dir)) {
      if (item.startsWith('.') || known.has(item)) continue;
      const full = path.join(this.dir, item);
      rows.push({
        name: item,
        catalogued: false,
        kind: null,
        engine: null,
        description: '',
        licence: null,
        installed: true,
        partial: false,
        sizeOnDisk: await diskUsage(full),
        size: null,
        path: full,
        files: [],
      });
    }
    return rows;
  }

  /** Installed state of one catalogue model (sizes only; `pull` verifies checksums). */
  async status(entryOrName: CatalogueEntry | string): Promise<ModelStatus> {
    const entry = typeof entryOrName === 'string' ? this.entry(entryOrName) : entryOrName;
    const dir = this.modelDir(entry.name);
    const manifest = await this.readManifest(entry.name);
    const files: ModelFileStatus[] = [];
    for (const f of entry.files) {
      const record = manifest?.files[f.path];
      const size = f.size ?? record?.size ?? null;
      const present = f.extract ? await this.unpacked(entry, f, record) : await hasFile(this.filePath(entry, f), size);
      files.push({ path: f.path, url: this.urlOf(f), size, sha256: f.sha256 ?? record?.sha256 ?? null, present });
    }
    const sizeOnDisk = await diskUsage(dir);
    const installed = files.every((f) => f.present);
    return {
      name: entry.name,
      catalogued: true,
      kind: entry.kind,
      engine: entry.engine,
      description: entry.description,
      licence: entry.licence,
      installed,
      partial: !installed && sizeOnDisk > 0,
      sizeOnDisk,
      size: entrySize(entry),
      path: this.mainPath(entry),
      files,
    };
  }

  /**
   * Where a model is on disk. An existing file or folder path is returned as is; a catalogue name
   * gives its installed file (single-file models) or folder; another name found in the cache
   * folder gives that. Throws `engine_unavailable` saying what to run when it is not there.
   */
  async resolve(nameOrPath: string, kind?: ModelKind): Promise<string> {
    const entry = findEntry(this.catalogue, nameOrPath);
    if (!entry || looksLikePath(nameOrPath)) {
      if (await statSafe(nameOrPath)) return nameOrPath;
      if (looksLikePath(nameOrPath)) {
        throw ApiError.engineUnavailable(`Model path '${nameOrPath}' does not exist.`);
      }
    }
    if (!entry) {
      if (isSafeName(nameOrPath)) {
        const inCache = path.join(this.dir, nameOrPath);
        if (await statSafe(inCache)) return inCache;
      }
      const names = this.catalogue.filter((e) => kind === undefined || e.kind === kind).map((e) => e.name);
      throw ApiError.engineUnavailable(
        `Unknown model '${nameOrPath}': it is not a file or folder, not in the model cache (${this.dir}), and not in the catalogue` +
          (names.length > 0 ? ` (${names.join(', ')})` : '') +
          '. Run `parley models list` to see what can be pulled.',
      );
    }
    if (kind !== undefined && entry.kind !== kind) {
      const same = this.catalogue.filter((e) => e.kind === kind).map((e) => `'${e.name}'`);
      throw ApiError.invalidRequest(
        'model',
        `Model '${entry.name}' is a ${entry.kind} model, not ${kind}.${same.length > 0 ? ` ${kind} models: ${same.join(', ')}.` : ''}`,
        'invalid_value',
      );
    }
    const status = await this.status(entry);
    if (!status.installed) {
      const state = status.partial ? 'is only partly downloaded' : 'is not installed';
      throw ApiError.engineUnavailable(
        `Model '${entry.name}' ${state} (cache: ${this.dir}). Run \`parley models pull ${entry.name}\`` +
          (this.opts.offline ? ` on a machine with internet access and copy ${this.modelDir(entry.name)} here.` : '.'),
      );
    }
    return status.path;
  }

  /**
   * Download every file of a catalogue model that is not already there and verified. Files
   * present with the right checksum are skipped; a wrong one is fetched again. A second pull of
   * the same model in this process joins the first; one in another process fails (lock file).
   */
  pull(name: string, options: PullOptions = {}): Promise<PullResult> {
    const running = this.pulls.get(name);
    if (running) return running;
    const pull = this.doPull(name, options).finally(() => this.pulls.delete(name));
    this.pulls.set(name, pull);
    return pull;
  }

  /** Delete a model (catalogued or not) from the cache. */
  async remove(name: string): Promise<RemoveResult> {
    if (!isSafeName(name)) throw ApiError.invalidRequest('model', `'${name}' is not a model name.`, 'invalid_value');
    const target = path.join(this.dir, name);
    const found = await statSafe(target);
    if (!found) {
      throw ApiError.notFound(`Model '${name}' is not in the model cache (${this.dir}).`, 'model_not_found', 'model');
    }
    const holder = this.pulls.has(name) ? `this process (${process.pid})` : await this.liveLockHolder(name);
    if (holder) {
      throw busy(`Model '${name}' is being pulled by ${holder}; stop that pull before removing it.`);
    }
    const freed = await diskUsage(target);
    // Rename first so a crash mid-delete never leaves a half-deleted folder under the real name.
    const trash = path.join(this.dir, `.${name}.removing-${randomBytes(4).toString('hex')}`);
    await rename(target, trash);
    await rm(trash, { recursive: true, force: true });
    return { name, freed };
  }

  private async doPull(name: string, options: PullOptions): Promise<PullResult> {
    const entry = this.entry(name);
    const dir = this.modelDir(entry.name);
    let manifest: ModelManifest = (await this.readManifest(entry.name)) ?? { name: entry.name, files: {}, updatedAt: new Date().toISOString() };

    if (this.opts.offline) {
      // Offline: succeed only if everything is already here (verified below), and say what to
      // fetch elsewhere otherwise — before anything touches the network.
      const missing: CatalogueFile[] = [];
      for (const f of entry.files) {
        const record = manifest.files[f.path];
        const present = f.extract ? await this.unpacked(entry, f, record) : await hasFile(this.filePath(entry, f), f.size ?? record?.size ?? null);
        if (!present) missing.push(f);
      }
      if (missing.length > 0) throw this.offlineRefusal(entry, missing);
    }

    const releaseLock = await this.lock(entry.name);
    try {
      await mkdir(dir, { recursive: true });
      const total = entrySize(entry);
      const downloaded: string[] = [];
      const skipped: string[] = [];
      let transferred = 0;
      let before = 0;
      for (const f of entry.files) {
        options.signal?.throwIfAborted();
        const dest = this.filePath(entry, f);
        const record = manifest.files[f.path];
        const expectedSha = f.sha256 ?? record?.sha256 ?? null;
        const expectedSize = f.size ?? record?.size ?? null;
        const fromManifest = f.sha256 === null && record !== undefined;
        const url = this.urlOf(f);

        if (f.extract && (await this.unpacked(entry, f, record))) {
          skipped.push(f.path);
          before += record!.size;
          options.onProgress?.(before, total, f.path);
          continue;
        }
        const existing = await statSafe(dest);
        if (existing?.isFile() && (expectedSize === null || existing.size === expectedSize)) {
          const { sha256, size } = await sha256File(dest);
          if (expectedSha === null || sha256 === expectedSha) {
            // A verified archive left by a pull that stopped before unpacking it.
            if (f.extract) await this.unpack(entry, f, dest, options.signal);
            skipped.push(f.path);
            if (!record || record.sha256 !== sha256 || (f.extract && record.extracted !== true)) {
              manifest = await this.record(manifest, f, {
                sha256,
                size,
                url,
                source: f.sha256 ? 'catalogue' : 'trust-on-first-use',
                ...(f.extract ? { extracted: true } : {}),
              });
            }
            before += size;
            options.onProgress?.(before, total, f.path);
            continue;
          }
        }
        if (existing) await rm(dest, { recursive: true, force: true });

        const base = before;
        const result = await downloadFile({
          ...this.opts.download,
          url,
          dest,
          sha256: expectedSha,
          sha256Source: fromManifest ? `recorded in ${MANIFEST_FILE} on the first download` : undefined,
          size: expectedSize,
          offline: this.opts.offline,
          model: entry.name,
          signal: options.signal,
          onProgress: options.onProgress ? (done) => options.onProgress?.(base + done, total, f.path) : undefined,
        });
        transferred += result.transferred;
        if (f.extract) await this.unpack(entry, f, dest, options.signal);
        downloaded.push(f.path);
        before += result.size;
        manifest = await this.record(manifest, f, {
          sha256: result.sha256,
          size: result.size,
          url,
          source: f.sha256 ? 'catalogue' : 'trust-on-first-use',
          ...(f.extract ? { extracted: true } : {}),
        });
      }
      return { name: entry.name, path: this.mainPath(entry), downloaded, skipped, transferred, manifest };
    } finally {
      await releaseLock();
    }
  }

  /** Add a verified file to the manifest and write it (atomically). */
  private async record(manifest: ModelManifest, file: CatalogueFile, rec: Omit<ManifestFileRecord, 'verifiedAt'>): Promise<ModelManifest> {
    const now = new Date().toISOString();
    const next: ModelManifest = { ...manifest, files: { ...manifest.files, [file.path]: { ...rec, verifiedAt: now } }, updatedAt: now };
    const target = path.join(this.modelDir(manifest.name), MANIFEST_FILE);
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`);
    await rename(tmp, target);
    return next;
  }

  private async readManifest(name: string): Promise<ModelManifest | null> {
    try {
      const parsed = JSON.parse(await readFile(path.join(this.modelDir(name), MANIFEST_FILE), 'utf8')) as Partial<ModelManifest>;
      if (!parsed || typeof parsed !== 'object' || typeof parsed.files !== 'object' || parsed.files === null) return null;
      return { name, files: parsed.files, updatedAt: String(parsed.updatedAt ?? '') };
    } catch {
      // Missing or unreadable: treated as no record; files are then re-verified from scratch.
      return null;
    }
  }

  private offlineRefusal(entry: CatalogueEntry, missing: CatalogueFile[]): ApiError {
    const shown = missing.slice(0, 4).map((f) => `\n  ${this.urlOf(f)} -> ${this.filePath(entry, f)}`);
    const more = missing.length > shown.length ? `\n  … and ${missing.length - shown.length} more (\`parley models list --json\` lists them)` : '';
    return ApiError.engineUnavailable(
      `PARLEY_OFFLINE=1: not downloading model '${entry.name}' (${missing.length} of ${entry.files.length} files missing). ` +
        `Run \`parley models pull ${entry.name}\` on a machine with internet access and copy ${this.modelDir(entry.name)} here, ` +
        `or fetch the files yourself:${shown.join('')}${more}`,
    );
  }

  /** Take the pull lock of a model, taking over a stale one; returns its release. */
  private async lock(name: string): Promise<() => Promise<void>> {
    const lockDir = path.join(this.dir, LOCK_DIR);
    await mkdir(lockDir, { recursive: true });
    const file = path.join(lockDir, `${name}.lock`);
    const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    for (let tries = 0; ; tries++) {
      try {
        const fh = await open(file, 'wx');
        await fh.writeFile(JSON.stringify(info));
        await fh.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 2) throw err;
        const holder = await this.liveLockHolder(name);
        if (holder) throw busy(`Model '${name}' is already being pulled by ${holder}. Wait for it, or stop it and pull again.`);
        await rm(file, { force: true }); // stale: its holder is gone
      }
    }
    // Heartbeat, so another host sharing the folder can tell a live pull from a dead one.
    const heartbeat = setInterval(() => {
      const now = new Date();
      utimes(file, now, now).catch(() => {});
    }, LOCK_HEARTBEAT_MS);
    heartbeat.unref();
    return async () => {
      clearInterval(heartbeat);
      await rm(file, { force: true });
    };
  }

  /** Who holds the pull lock of `name`, if that holder is still alive ("pid 123 on host"). */
  private async liveLockHolder(name: string): Promise<string | null> {
    const file = path.join(this.dir, LOCK_DIR, `${name}.lock`);
    let info: Partial<LockInfo>;
    let mtime: number;
    try {
      [info, mtime] = await Promise.all([readFile(file, 'utf8').then((t) => JSON.parse(t) as Partial<LockInfo>), stat(file).then((s) => s.mtimeMs)]);
    } catch {
      // Missing, or being written right now: a lock file younger than a second is live.
      const s = await statSafe(file);
      return s && Date.now() - s.mtimeMs < 1000 ? 'another process' : null;
    }
    const label = `pid ${info.pid ?? '?'} on ${info.host ?? '?'}`;
    if (info.host === hostname() && typeof info.pid === 'number') return processExists(info.pid) ? label : null;
    return Date.now() - mtime < LOCK_STALE_MS ? label : null;
  }

  private entry(name: string): CatalogueEntry {
    const entry = findEntry(this.catalogue, name);
    if (!entry) {
      throw ApiError.notFound(
        `Unknown model '${name}'. Models that can be pulled: ${this.catalogue.map((e) => e.name).join(', ')}.`,
        'model_not_found',
        'model',
      );
    }
    return entry;
  }

  /** Whether archive `f` was unpacked: the manifest holds its verified checksum and what it contains is there. */
  private async unpacked(entry: CatalogueEntry, f: CatalogueFile, record: ManifestFileRecord | undefined): Promise<boolean> {
    if (!f.extract || !record || record.extracted !== true) return false;
    if (f.sha256 !== null && record.sha256 !== f.sha256) return false;
    for (const p of f.extract.contains) if (!(await statSafe(this.filePath(entry, { ...f, path: p })))) return false;
    return true;
  }

  /** Unpacks the verified archive at `archive` into the model folder, then deletes it. */
  private async unpack(entry: CatalogueEntry, f: CatalogueFile, archive: string, signal: AbortSignal | undefined): Promise<void> {
    const { root, contains } = f.extract!;
    try {
      await extractTarBz2(archive, this.modelDir(entry.name), root, signal);
      const missing: string[] = [];
      for (const p of contains) if (!(await statSafe(this.filePath(entry, { ...f, path: p })))) missing.push(p);
      if (missing.length > 0) throw new Error(`it lacks ${missing.join(', ')}`);
    } catch (e) {
      if (signal?.aborted) throw e;
      throw ApiError.engineUnavailable(
        `Model '${entry.name}': ${f.path} could not be unpacked (${e instanceof Error ? e.message : String(e)}). Run \`parley models pull ${entry.name}\` again.`,
        e,
      );
    }
    await rm(archive, { force: true });
  }

  private modelDir(name: string): string {
    return path.join(this.dir, name);
  }

  private filePath(entry: CatalogueEntry, file: CatalogueFile): string {
    const dir = this.modelDir(entry.name);
    const full = path.resolve(dir, ...file.path.split('/'));
    // A catalogue is data: never let one write outside its model's folder.
    if (!full.startsWith(dir + path.sep)) {
      throw ApiError.invalidRequest(null, `Catalogue entry '${entry.name}' has a file path outside its folder: '${file.path}'.`);
    }
    return full;
  }

  private mainPath(entry: CatalogueEntry): string {
    const main = entry.main ? entry.files.find((f) => f.path === entry.main) : undefined;
    return main ? this.filePath(entry, main) : this.modelDir(entry.name);
  }

  private urlOf(file: CatalogueFile): string {
    return this.opts.baseUrl ? mirrorUrl(file.url, this.opts.baseUrl) : file.url;
  }
}

/**
 * A catalogue URL on a mirror: the mirror's origin (and path prefix) replaces the URL's origin,
 * the rest is kept — `https://huggingface.co/org/repo/resolve/rev/f.bin` on
 * `http://mirror.lan/hf` becomes `http://mirror.lan/hf/org/repo/resolve/rev/f.bin`.
 */
export function mirrorUrl(url: string, baseUrl: string): string {
  const base = parseMirror(baseUrl);
  const original = new URL(url);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${original.pathname}${original.search}`;
}

function parseMirror(baseUrl: string): URL {
  try {
    const base = new URL(baseUrl);
    if (base.protocol === 'http:' || base.protocol === 'https:') return base;
  } catch {
    // reported below
  }
  throw ApiError.invalidRequest(null, `PARLEY_MODELS_MIRROR must be an http(s) URL, not '${baseUrl}'.`, 'invalid_value');
}

function busy(message: string): ApiError {
  return new ApiError({ status: 409, type: 'invalid_request_error', code: 'model_busy', message });
}

/** Something meant as a path rather than a model name. */
function looksLikePath(value: string): boolean {
  return path.isAbsolute(value) || value.includes('/') || value.includes(path.sep) || value.startsWith('.');
}

function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..');
}

async function statSafe(target: string) {
  try {
    return await stat(target);
  } catch {
    return null;
  }
}

/** A file of the expected size (any size when `size` is null) is at `target`. */
async function hasFile(target: string, size: number | null): Promise<boolean> {
  const s = await statSafe(target);
  return s?.isFile() === true && (size === null || s.size === size);
}

async function readdirSafe(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Bytes under a file or folder (0 when missing). */
async function diskUsage(target: string): Promise<number> {
  const s = await statSafe(target);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const item of await readdirSafe(target)) total += await diskUsage(path.join(target, item));
  return total;
}
