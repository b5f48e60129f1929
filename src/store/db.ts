import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AudioStore } from './audio.js';
import type { StoreContext } from './context.js';
import { FileStore } from './files.js';
import { KeyStore } from './keys.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { UsageLedger } from './usage.js';
import { WatermarkStore } from './watermarks.js';

/** Name of the database file inside the data folder. */
export const DATABASE_FILE = 'parley.db';

/** Options of `openStore`. */
export interface StoreOptions {
  /** Data folder; `parley.db` and `files/` go here. Created when missing. */
  dataDir: string;
  /** How long (ms) a write waits for another connection's lock before failing with SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /** Clock in ms since the epoch (default `Date.now`); tests inject one to move time. */
  now?: () => number;
  /**
   * Files in `files/` without a live row, or `.part` leftovers, untouched for this long (ms) are
   * removed on open. Default 10 minutes, so an upload running in another process is left alone.
   */
  orphanGraceMs?: number;
  /** Migrations to apply (default `MIGRATIONS`); tests pass their own lists. */
  migrations?: readonly Migration[];
}

/** Result of `migrate`. */
export interface MigrationResult {
  /** Schema version found on open (0 for a new database). */
  from: number;
  /** Schema version after migrating. */
  to: number;
  /** Versions applied by this call, in order. */
  applied: number[];
}

/** Thrown when the database was written by a newer Parley than this one. */
export class SchemaTooNewError extends Error {
  /** The version recorded in the database. */
  readonly found: number;
  /** The newest version this build knows. */
  readonly known: number;
  constructor(file: string, found: number, known: number) {
    super(
      `The database ${file} has schema version ${found}, but this Parley only knows versions up to ${known}. ` +
        'It was written by a newer Parley: upgrade Parley, or point --data-dir at another folder.',
    );
    this.name = 'SchemaTooNewError';
    this.found = found;
    this.known = known;
  }
}

/**
 * Opens (creating if needed) a SQLite database with Parley's connection settings:
 *
 * - `journal_mode=WAL`: readers never block the writer and vice versa; a commit is an append to
 *   `parley.db-wal`.
 * - `synchronous=NORMAL`: in WAL mode a commit is written to the WAL before `COMMIT` returns but
 *   fsynced only at checkpoints. A committed transaction survives the *process* dying (kill -9,
 *   a crash, OOM) because its pages are already in the OS's cache; what it may not survive is the
 *   *machine* losing power or the kernel crashing, which can roll back the last few commits (never
 *   corrupt the file). That is the right trade for chat audio ids and usage rows. Work that must
 *   survive a power cut too (a batch line marked complete, a file's row) goes through
 *   `durableTransaction`, which commits with `synchronous=FULL` (fsync of the WAL on commit).
 * - `busy_timeout`: a second process (e.g. `parley batch` beside `parley serve`) waits for the
 *   write lock instead of failing at once.
 * - `foreign_keys=ON`: SQLite leaves them off by default, per connection.
 */
export function openDatabase(file: string, options: { busyTimeoutMs?: number } = {}): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      // WAL needs shared memory; some network file systems refuse it. Say so rather than run
      // with different durability and locking than documented.
      throw new Error(`Could not switch ${file} to WAL mode (got '${String(mode)}'); put the data folder on a local disk.`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Runs `fn` in a transaction committed with `synchronous=FULL`, so once this returns the commit is
 * on stable storage (survives power loss, not only kill -9). Called inside another transaction it
 * simply joins it (a savepoint); the outermost commit decides durability then.
 */
export function durableTransaction<T>(db: Database.Database, fn: () => T): T {
  if (db.inTransaction) return db.transaction(fn)();
  db.pragma('synchronous = FULL');
  try {
    return db.transaction(fn).immediate();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Brings the schema up to the newest of `migrations`. Each migration runs in one `BEGIN IMMEDIATE`
 * transaction with its `schema_migrations` row, re-checking the version inside the lock so two
 * processes opening the same new database at once apply it once. Refuses (SchemaTooNewError) a
 * database from a newer build. Running it again is a no-op.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, label = 'database'): MigrationResult {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migration list out of order: position ${i} has version ${m.version}`);
  });
  const known = migrations.length;
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const from = currentVersion(db);
  if (from > known) throw new SchemaTooNewError(label, from, known);
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= from) continue;
    durableTransaction(db, () => {
      const now = currentVersion(db);
      if (now > known) throw new SchemaTooNewError(label, now, known);
      if (now >= m.version) return; // another process got here first
      m.up(db);
      record.run(m.version, m.name, Math.floor(Date.now() / 1000));
      applied.push(m.version);
    });
  }
  return { from, to: currentVersion(db), applied };
}

/**
 * Parley's durable state: one per process, created at start by `openStore` and passed down to the
 * pipeline and the batch worker. Not a singleton: tests open as many as they like in temp folders.
 */
export class Store {
  /** Absolute data folder. */
  readonly dataDir: string;
  /** Absolute path of `parley.db`. */
  readonly file: string;
  /** The connection (for other store modules; everything else uses the typed parts below). */
  readonly db: Database.Database;
  /** Schema versions before/after opening. */
  readonly migration: MigrationResult;
  /** Assistant reply audio kept for multi-turn chat. */
  readonly audio: AudioStore;
  /** The usage ledger and OpenAI-price comparison. */
  readonly usage: UsageLedger;
  /** OpenAI Files: metadata here, bytes under `<dataDir>/files/`. */
  readonly files: FileStore;
  /** API keys handed out by an admin, and their rate-limit counters in embedded mode. */
  readonly keys: KeyStore;
  /** Watermarked responses: tag → response (verify). */
  readonly watermarks: WatermarkStore;
  #closed = false;

  /** Use `openStore`. */
  constructor(options: StoreOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.file = path.join(this.dataDir, DATABASE_FILE);
    fs.mkdirSync(this.dataDir, { recursive: true });
    this.db = openDatabase(this.file, { busyTimeoutMs: options.busyTimeoutMs });
    try {
      this.migration = migrate(this.db, options.migrations ?? MIGRATIONS, this.file);
      const db = this.db;
      const ctx: StoreContext = {
        db,
        dataDir: this.dataDir,
        now: options.now ?? Date.now,
        durable: (fn) => durableTransaction(db, fn),
      };
      this.audio = new AudioStore(ctx);
      this.usage = new UsageLedger(ctx);
      this.files = new FileStore(ctx);
      this.keys = new KeyStore(ctx);
      this.watermarks = new WatermarkStore(ctx);
      this.audio.sweep();
      this.files.removeOrphans(options.orphanGraceMs ?? 10 * 60_000);
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /** True until `close()`. */
  get isOpen(): boolean {
    return !this.#closed;
  }

  /** Runs `fn` in a transaction fsynced on commit; see `durableTransaction`. */
  durable<T>(fn: () => T): T {
    return durableTransaction(this.db, fn);
  }

  /** Stops the sweepers and closes the connection (checkpointing the WAL). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.audio.stopSweepers();
    try {
      this.db.pragma('optimize');
    } catch {
      // optimisation hints only; closing matters more
    }
    this.db.close();
  }
}

/** Opens the store in `options.dataDir`: creates the folder and database, migrates, sweeps. */
export function openStore(options: StoreOptions): Store {
  return new Store(options);
}
