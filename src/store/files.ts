import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Statement } from 'better-sqlite3';
import { ApiError, isDiskFull } from '../errors.js';
import { checkKeyHash, type StoreContext, unixSeconds } from './context.js';

/**
 * OpenAI Files: the metadata is a row in `files`, the bytes are `<dataDir>/files/<id>`. The file
 * name on disk is always the generated id, never the client's name, so a hostile `filename` can at
 * worst be an odd string in JSON; it is still cleaned (`sanitizeFilename`) because clients echo it
 * into paths and Content-Disposition headers.
 *
 * Write order, so a crash never leaves a row without its bytes: stream to `<id>.part`, fsync,
 * rename to `<id>`, fsync the folder, then insert the row in a durable (`synchronous=FULL`)
 * transaction. Delete is the reverse: mark the row deleted (durably), then unlink. The only debris a
 * crash can leave is a file without a live row, which `removeOrphans` clears on the next open.
 */

/** Every purpose a stored file can have (uploads and files Parley writes, like batch output). */
export const FILE_PURPOSES = ['assistants', 'assistants_output', 'batch', 'batch_output', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

/** A file's purpose. */
export type FilePurpose = (typeof FILE_PURPOSES)[number];

/** OpenAI's per-file limit for batch input ("up to 200 MB"), taken as MiB to be generous. */
export const MAX_FILE_BYTES = 200 * 1024 * 1024;

/** Largest `limit` of `list` (OpenAI's maximum for GET /v1/files). */
export const MAX_LIST_LIMIT = 10_000;

/** Longest stored filename, in UTF-8 bytes (the usual file-system limit). */
export const MAX_FILENAME_BYTES = 255;

/** A stored file's metadata (camelCase; `http/` maps it to OpenAI's `file` object). */
export interface FileRecord {
  /** `file-` + 24 base62 characters. */
  id: string;
  /** Size in bytes. */
  bytes: number;
  /** Unix seconds. */
  createdAt: number;
  /** The cleaned client file name. */
  filename: string;
  /** What the file is for. */
  purpose: FilePurpose;
  /** Always `processed` once stored (OpenAI's field is deprecated). */
  status: 'processed';
}

/** Params of `FileStore.create`. */
export interface FileCreateParams {
  /**
   * One of `FILE_PURPOSES`; anything else is a 400 naming `purpose`. May be a promise: a multipart
   * upload can send the `purpose` field after the file, so it is awaited once the bytes are stored.
   */
  purpose: string | Promise<string>;
  /**
   * The id to store under (default: a new one). The batch worker reserves its output file's id
   * before writing, so a finalize interrupted by a crash finds the file instead of writing a second.
   */
  id?: string;
  /** The client's file name; cleaned by `sanitizeFilename`. */
  filename: string;
  /** The content. Consumed fully unless over the limit (then it is destroyed). */
  stream: Readable | AsyncIterable<Uint8Array | string>;
  /** Size limit in bytes (default `MAX_FILE_BYTES`); over it → 413 naming `file`, nothing kept. */
  maxBytes?: number;
  /**
   * The owner's storage quota in bytes: the owner's live files (uploads and outputs alike) plus
   * its uploads in flight in this process, plus this one, may not pass it; past it → 400
   * `storage_quota_exceeded` naming `file`, nothing kept. Undefined = no quota (files Parley
   * writes itself, such as batch output, are never refused).
   */
  quotaBytes?: number;
  /** Owner: sha256 hex of the API key (`hashApiKey`), or null for anonymous. */
  apiKeyHash: string | null;
}

/** Params of `FileStore.list`. */
export interface FileListParams {
  /** Only files with this purpose. */
  purpose?: string;
  /** Page size, 1–10000 (default 10000). */
  limit?: number;
  /** Cursor: a file id from the previous page; the page starts after it. */
  after?: string;
  /** By creation: `desc` (newest first, default) or `asc`. */
  order?: 'asc' | 'desc';
  /** Owner whose files to list (sha256 hex or null). */
  keyHash: string | null;
}

/** A page of `FileStore.list`. */
export interface FileList {
  /** The files of this page. */
  data: FileRecord[];
  /** True when another page follows (ask again with `after: lastId`). */
  hasMore: boolean;
  /** Id of the first file of the page, or null when empty. */
  firstId: string | null;
  /** Id of the last file of the page, or null when empty. */
  lastId: string | null;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_PATTERN = /^file-[0-9A-Za-z]{24}$/;

/** `file-` + 24 base62 characters from the CSPRNG (rejection sampling, so no modulo bias). */
export function newFileId(): string {
  let out = 'file-';
  while (out.length < 29) {
    for (const b of crypto.randomBytes(32)) {
      if (b < 248 && out.length < 29) out += BASE62[b % 62];
    }
  }
  return out;
}

/** True for a string shaped like a file id. */
export function isFileId(id: string): boolean {
  return ID_PATTERN.test(id);
}

// C0/C1 controls and DEL, plus the bidirectional overrides that make "gpj.exe" look like
// "exe.jpg" — invisible characters have no business in a file name.
const UNWANTED_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Cuts `s` to at most `maxBytes` of UTF-8 without splitting a code point. */
function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let out = '';
  let used = 0;
  for (const cp of s) {
    const n = Buffer.byteLength(cp, 'utf8');
    if (used + n > maxBytes) break;
    out += cp;
    used += n;
  }
  return out;
}

/**
 * A client file name made safe to store and echo: control and bidi characters removed, only the
 * last path segment kept (`/` and `\` both count, so `../../etc/passwd` → `passwd`,
 * `C:\\x\\a.jsonl` → `a.jsonl`), trimmed, at most 255 UTF-8 bytes (keeping a short extension),
 * and `file` when nothing is left (or only `.`/`..`).
 */
export function sanitizeFilename(name: string): string {
  let s = String(name).replace(UNWANTED_CHARS, '');
  s = s.split(/[\\/]/).pop() ?? '';
  s = s.trim();
  if (s === '' || s === '.' || s === '..') return 'file';
  if (Buffer.byteLength(s, 'utf8') > MAX_FILENAME_BYTES) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 ? s.slice(dot) : '';
    const keepExt = ext !== '' && Buffer.byteLength(ext, 'utf8') <= 16;
    s = keepExt ? truncateUtf8(s.slice(0, dot), MAX_FILENAME_BYTES - Buffer.byteLength(ext, 'utf8')) + ext : truncateUtf8(s, MAX_FILENAME_BYTES);
  }
  return s;
}

function isPurpose(p: string): p is FilePurpose {
  return (FILE_PURPOSES as readonly string[]).includes(p);
}

function describeBytes(n: number): string {
  const mib = n / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MB` : `${n} bytes`;
}

/**
 * 400 for an upload past its owner's storage quota. OpenAI answers its own (organisation-wide)
 * storage limit with a 400 `invalid_request_error` ("You have exceeded your file storage quota…"),
 * not a 413: the request is not too large, the account is full.
 */
export function storageQuotaExceeded(quotaBytes: number, usedBytes: number): ApiError {
  const message =
    quotaBytes === 0
      ? 'File uploads are disabled for this API key (its file storage quota is 0 bytes).'
      : `You have exceeded your file storage quota: this API key may store ${describeBytes(quotaBytes)} of files and already uses ${usedBytes} bytes. Please delete old files or upload a smaller file.`;
  return ApiError.invalidRequest('file', message, 'storage_quota_exceeded');
}

interface FileRow {
  seq: number;
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  created_at: number;
}

function toRecord(row: FileRow): FileRecord {
  return {
    id: row.id,
    bytes: row.bytes,
    createdAt: row.created_at,
    filename: row.filename,
    purpose: row.purpose as FilePurpose,
    status: 'processed',
  };
}

async function writeAll(fh: fsp.FileHandle, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, off, buf.byteLength - off);
    off += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const dh = await fsp.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

const COLUMNS = 'seq, id, purpose, filename, bytes, created_at';

/** The files store. Created by `Store`; reach it as `store.files`. */
export class FileStore {
  readonly #ctx: StoreContext;
  /** `<dataDir>/files`. */
  readonly dir: string;
  readonly #insert: Statement;
  readonly #getLive: Statement<[string, string | null], FileRow>;
  readonly #getSeq: Statement<[string, string | null], { seq: number }>;
  readonly #markDeleted: Statement<[number, string, string | null]>;
  readonly #isLive: Statement<[string], { one: number }>;
  readonly #usedBy: Statement<[string | null], { used: number }>;
  /** Bytes of uploads being written now, per owner ('' = anonymous): reserved against the quota. */
  readonly #inFlight = new Map<string, number>();

  /** Use `store.files`. */
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.dir = path.join(ctx.dataDir, 'files');
    fs.mkdirSync(this.dir, { recursive: true });
    const db = ctx.db;
    this.#insert = db.prepare(`INSERT INTO files (id, owner, purpose, filename, bytes, status, created_at) VALUES (?, ?, ?, ?, ?, 'processed', ?)`);
    this.#getLive = db.prepare(`SELECT ${COLUMNS} FROM files WHERE id = ? AND owner IS ? AND deleted_at IS NULL`);
    // Tombstones included: a cursor deleted between two pages still marks a position.
    this.#getSeq = db.prepare('SELECT seq FROM files WHERE id = ? AND owner IS ?');
    this.#markDeleted = db.prepare('UPDATE files SET deleted_at = ? WHERE id = ? AND owner IS ? AND deleted_at IS NULL');
    this.#isLive = db.prepare('SELECT 1 AS one FROM files WHERE id = ? AND deleted_at IS NULL');
    this.#usedBy = db.prepare<[string | null], { used: number }>('SELECT COALESCE(SUM(bytes), 0) AS used FROM files WHERE owner IS ? AND deleted_at IS NULL');
  }

  /**
   * Bytes the owner's files take: live files on record plus uploads being written now by this
   * process (what the storage quota is checked against).
   */
  usedBytes(keyHash: string | null): number {
    const owner = checkKeyHash(keyHash, 'keyHash');
    return (this.#usedBy.get(owner)?.used ?? 0) + (this.#inFlight.get(owner ?? '') ?? 0);
  }

  #reserve(owner: string | null, delta: number): void {
    const k = owner ?? '';
    const n = (this.#inFlight.get(k) ?? 0) + delta;
    if (n === 0) this.#inFlight.delete(k);
    else this.#inFlight.set(k, n);
  }

  /** Where a file's bytes live (whether or not it exists). */
  contentPath(id: string): string {
    if (!ID_PATTERN.test(id)) throw new TypeError(`not a file id: ${id}`);
    return path.join(this.dir, id);
  }

  /**
   * Streams `stream` to disk and records it. Rejects with a 400 for an unknown purpose and a 413
   * (`param: "file"`) past `maxBytes`, leaving nothing behind; a failing stream's error is passed
   * on, also leaving nothing behind.
   */
  async create(params: FileCreateParams): Promise<FileRecord> {
    if (typeof params.purpose === 'string' && !isPurpose(params.purpose)) throw ApiError.invalidValue('purpose', params.purpose, FILE_PURPOSES);
    if (params.id !== undefined && !ID_PATTERN.test(params.id)) throw new TypeError(`not a file id: ${params.id}`);
    const owner = checkKeyHash(params.apiKeyHash);
    const maxBytes = params.maxBytes ?? MAX_FILE_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
    const quota = params.quotaBytes;
    if (quota !== undefined && (!Number.isInteger(quota) || quota < 0)) throw new RangeError(`quotaBytes must be a non-negative integer, got ${quota}`);
    const filename = sanitizeFilename(params.filename);
    const id = params.id ?? newFileId();
    const finalPath = path.join(this.dir, id);
    const partPath = `${finalPath}.part`;

    if (quota !== undefined) {
      const used = this.usedBytes(owner);
      // A full quota refuses before a byte is read (the stream is left to the caller to drain).
      if (used >= quota) throw storageQuotaExceeded(quota, used);
    }
    // Bytes reserved against the quota while writing; released once the row counts them (or they are gone).
    let reserved = 0;
    try {
      let bytes = 0;
      const fh = await fsp.open(partPath, 'wx', 0o600);
      try {
        try {
          for await (const chunk of params.stream) {
            const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
            bytes += buf.byteLength;
            // Checked before writing, so an oversize upload stops at the first chunk past the limit
            // (leaving the loop destroys the source stream).
            if (bytes > maxBytes) {
              throw ApiError.tooLarge(`The file is too large: the maximum file size is ${describeBytes(maxBytes)}.`, 'file');
            }
            if (quota !== undefined) {
              // Others' uploads in flight count, so two concurrent uploads cannot both fit in one gap.
              const used = this.usedBytes(owner);
              if (used + buf.byteLength > quota) throw storageQuotaExceeded(quota, used - (bytes - buf.byteLength));
              this.#reserve(owner, buf.byteLength);
              reserved += buf.byteLength;
            }
            await writeAll(fh, buf);
          }
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsp.rename(partPath, finalPath);
      } catch (e) {
        await fsp.rm(partPath, { force: true });
        // A full disk is the server's condition, not a broken upload: say so (507), whoever reads the error.
        throw isDiskFull(e) ? ApiError.insufficientStorage(e) : e;
      }
      let purpose: FilePurpose;
      try {
        const given = await params.purpose;
        if (!isPurpose(given)) throw ApiError.invalidValue('purpose', given, FILE_PURPOSES);
        purpose = given;
      } catch (e) {
        await fsp.rm(finalPath, { force: true });
        throw e;
      }

      const createdAt = unixSeconds(this.#ctx.now());
      try {
        await fsyncDir(this.dir);
        this.#ctx.durable(() => {
          this.#insert.run(id, owner, purpose, filename, bytes, createdAt);
        });
      } catch (e) {
        await fsp.rm(finalPath, { force: true });
        throw isDiskFull(e) ? ApiError.insufficientStorage(e) : e;
      }
      return { id, bytes, createdAt, filename, purpose, status: 'processed' };
    } finally {
      if (reserved > 0) this.#reserve(owner, -reserved);
    }
  }

  /** The file's metadata, or undefined when unknown, deleted, or another key's. */
  get(id: string, keyHash: string | null): FileRecord | undefined {
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) return undefined;
    const row = this.#getLive.get(id, checkKeyHash(keyHash, 'keyHash'));
    return row ? toRecord(row) : undefined;
  }

  /**
   * A page of the owner's files by creation order. `after` must be an id this owner has had (even
   * if deleted since); any other id is a 400 naming `after`. Bad `limit`/`order` are 400s too.
   */
  list(params: FileListParams): FileList {
    const owner = checkKeyHash(params.keyHash, 'keyHash');
    const limit = params.limit ?? MAX_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw ApiError.invalidRequest('limit', `Invalid 'limit': expected an integer from 1 to ${MAX_LIST_LIMIT}, got ${String(limit)}.`, 'invalid_value');
    }
    const order = params.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw ApiError.invalidValue('order', order, ['asc', 'desc']);

    const where = ['owner IS ?', 'deleted_at IS NULL'];
    const args: (string | number | null)[] = [owner];
    if (params.purpose !== undefined) {
      where.push('purpose = ?');
      args.push(params.purpose);
    }
    if (params.after !== undefined) {
      const cursor = ID_PATTERN.test(params.after) ? this.#getSeq.get(params.after, owner) : undefined;
      if (!cursor) throw ApiError.invalidRequest('after', `Invalid 'after': no file with id '${params.after}'.`, 'invalid_value');
      where.push(order === 'asc' ? 'seq > ?' : 'seq < ?');
      args.push(cursor.seq);
    }
    args.push(limit + 1);
    const rows = this.#ctx.db
      .prepare(`SELECT ${COLUMNS} FROM files WHERE ${where.join(' AND ')} ORDER BY seq ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`)
      .all(...args) as FileRow[];
    const hasMore = rows.length > limit;
    const data = rows.slice(0, limit).map(toRecord);
    return { data, hasMore, firstId: data[0]?.id ?? null, lastId: data[data.length - 1]?.id ?? null };
  }

  /**
   * The file's bytes as a stream, or undefined when unknown, deleted, or another key's. The file is
   * opened before returning, so a concurrent delete cannot cut the stream short.
   */
  openContent(id: string, keyHash: string | null): Readable | undefined {
    if (!this.get(id, keyHash)) return undefined;
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.dir, id), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        // Deleted between the lookup and the open: as if it never was.
        if (!this.get(id, keyHash)) return undefined;
        // A live row without its bytes: the data folder was damaged by hand.
        throw ApiError.internal(new Error(`file ${id} has a row but no content at ${path.join(this.dir, id)}`, { cause: e }));
      }
      throw e;
    }
    return fs.createReadStream('', { fd, autoClose: true });
  }

  /** Deletes the owner's file. False when unknown, already deleted, or another key's. */
  async delete(id: string, keyHash: string | null): Promise<boolean> {
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) return false;
    const owner = checkKeyHash(keyHash, 'keyHash');
    const changed = this.#ctx.durable(() => this.#markDeleted.run(unixSeconds(this.#ctx.now()), id, owner).changes);
    if (changed === 0) return false;
    await fsp.rm(path.join(this.dir, id), { force: true });
    return true;
  }

  /**
   * Removes debris of crashes: `.part` files, and files without a live row (deleted rows whose
   * unlink did not happen, renames whose row was never inserted), when untouched for `graceMs`
   * (so another process's upload in flight is left alone). Returns how many were removed.
   */
  removeOrphans(graceMs = 10 * 60_000): number {
    let removed = 0;
    const cutoff = Date.now() - graceMs; // mtimes are wall-clock time, not the injectable clock
    for (const name of fs.readdirSync(this.dir)) {
      const isPart = name.endsWith('.part') && ID_PATTERN.test(name.slice(0, -'.part'.length));
      const isContent = ID_PATTERN.test(name);
      if (!isPart && !isContent) continue; // not ours
      if (isContent && this.#isLive.get(name)) continue;
      const full = path.join(this.dir, name);
      try {
        if (fs.statSync(full).mtimeMs > cutoff) continue;
        fs.rmSync(full, { force: true });
        removed += 1;
      } catch {
        // vanished meanwhile (another process cleaning up): fine
      }
    }
    return removed;
  }
}
