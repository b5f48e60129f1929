import crypto from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { checkKeyHash, type StoreContext, unixSeconds } from './context.js';

/**
 * Assistant reply audio, kept so a later turn can refer to it with
 * `{"role":"assistant","audio":{"id":"audio_..."}}` until `expires_at` (creation + 1 hour at OpenAI;
 * see shared/CONTRACT.md, "Multi-turn").
 *
 * The encoded bytes are a BLOB in the row rather than a file under `<dataDir>/audio/`: replies are
 * small (a minute of 24 kHz mono WAV is under 3 MB, compressed formats far less), a row is written
 * and expired atomically with its bytes (no orphan files, no second fsync/rename dance, the sweeper
 * is one DELETE), and the data rides SQLite's WAL durability. Freed pages are reused by later
 * replies, so the database file levels off at about an hour's worth of audio.
 */

/** Default lifetime of a reply's audio (OpenAI: one hour). */
export const AUDIO_TTL_SEC = 3600;

/** Params of `AudioStore.put`. */
export interface AudioPutParams {
  /** The id to use (`audio_` + 32 hex): a streamed reply announces its id before its audio is complete. Default: a new one. */
  id?: string;
  /** The format the audio was encoded in (`wav`, `mp3`, `flac`, `opus`, `pcm16`, …). */
  format: string;
  /** The encoded reply audio. */
  data: Uint8Array;
  /** What the audio says (the assistant's text for the next turn). */
  transcript: string;
  /** Lifetime in seconds (default 3600). */
  ttlSec?: number;
  /** The caller's owner id (the sha256 of its API key, see `hashApiKey`); null/absent = anonymous. Only the same owner reads it back. */
  owner?: string | null;
}

/** Result of `AudioStore.put`. */
export interface AudioPutResult {
  /** `audio_` + 32 hex characters. */
  id: string;
  /** Unix seconds after which the id is gone (the wire's `expires_at`). */
  expiresAt: number;
}

/** A stored reply. */
export interface StoredAudio {
  /** `audio_` + 32 hex. */
  id: string;
  /** What the audio says. */
  transcript: string;
  /** Encoding of `data`. */
  format: string;
  /** The encoded audio bytes. */
  data: Uint8Array;
  /** Unix seconds after which the id is gone. */
  expiresAt: number;
}

const ID_PATTERN = /^audio_[0-9a-f]{32}$/;

/** True for a string shaped like an audio id (says nothing about whether it exists). */
export function isAudioId(id: string): boolean {
  return ID_PATTERN.test(id);
}

interface AudioRow {
  id: string;
  owner: string | null;
  format: string;
  transcript: string;
  data: Buffer;
  expires_at: number;
}

/** The audio id store. Created by `Store`; reach it as `store.audio`. */
export class AudioStore {
  readonly #ctx: StoreContext;
  readonly #insert: Statement<[string, string | null, string, string, Uint8Array, number, number]>;
  readonly #select: Statement<[string], AudioRow>;
  readonly #sweep: Statement<[number]>;
  readonly #timers = new Set<NodeJS.Timeout>();

  /** Use `store.audio`. */
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#insert = ctx.db.prepare('INSERT INTO audio_items (id, owner, format, transcript, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#select = ctx.db.prepare('SELECT id, owner, format, transcript, data, expires_at FROM audio_items WHERE id = ?');
    this.#sweep = ctx.db.prepare('DELETE FROM audio_items WHERE expires_at <= ?');
  }

  /** Keeps a reply's audio and transcript; returns its new id and expiry. */
  put(params: AudioPutParams): AudioPutResult {
    const ttlSec = params.ttlSec ?? AUDIO_TTL_SEC;
    if (!Number.isInteger(ttlSec) || ttlSec <= 0) throw new RangeError(`ttlSec must be a positive integer, got ${ttlSec}`);
    if (typeof params.format !== 'string' || params.format.length === 0) throw new TypeError('format must be a non-empty string');
    if (typeof params.transcript !== 'string') throw new TypeError('transcript must be a string');
    if (!(params.data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
    const createdAt = unixSeconds(this.#ctx.now());
    const expiresAt = createdAt + ttlSec;
    if (params.id !== undefined && !ID_PATTERN.test(params.id)) throw new TypeError(`id must look like audio_ + 32 hex, got ${params.id}`);
    const id = params.id ?? `audio_${crypto.randomBytes(16).toString('hex')}`;
    const owner = checkKeyHash(params.owner, 'owner');
    this.#insert.run(id, owner, params.format, params.transcript, params.data, createdAt, expiresAt);
    return { id, expiresAt };
  }

  /**
   * The stored reply, or undefined when the id is unknown, malformed, expired (even if not swept
   * yet), or belongs to another key. The caller cannot tell these apart, on purpose: all are
   * OpenAI's 400 `audio_not_found`.
   */
  get(id: string, owner?: string | null): StoredAudio | undefined {
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) return undefined;
    const row = this.#select.get(id);
    if (!row) return undefined;
    if (row.owner !== (owner ?? null)) return undefined;
    if (this.#ctx.now() / 1000 >= row.expires_at) return undefined;
    return { id: row.id, transcript: row.transcript, format: row.format, data: row.data, expiresAt: row.expires_at };
  }

  /** Deletes expired rows; returns how many. */
  sweep(): number {
    return this.#sweep.run(unixSeconds(this.#ctx.now())).changes;
  }

  /**
   * Sweeps every `intervalMs` (default a minute) on an `unref`'d timer (it never keeps the process
   * alive). Returns a function that stops it; `Store.close()` stops all of them.
   */
  startSweeper(intervalMs = 60_000): () => void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`);
    const timer = setInterval(() => {
      try {
        this.sweep();
      } catch {
        // The database went away (closed during shutdown, disk error): this sweeper is done; the
        // next open sweeps anyway.
        stop();
      }
    }, intervalMs);
    timer.unref();
    this.#timers.add(timer);
    const stop = (): void => {
      clearInterval(timer);
      this.#timers.delete(timer);
    };
    return stop;
  }

  /** Stops every sweeper started by `startSweeper`. */
  stopSweepers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
  }
}
