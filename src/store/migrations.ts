import type Database from 'better-sqlite3';

/**
 * One schema change. Versions are consecutive from 1 and never edited once released: a change to
 * the schema is a new migration at the end. Each runs in its own transaction together with its row
 * in `schema_migrations` (see `migrate` in db.ts), so a crash leaves the database either before or
 * after it, never half-way.
 */
export interface Migration {
  /** 1, 2, 3, … in order, no gaps. */
  readonly version: number;
  /** Short description, stored in `schema_migrations.name`. */
  readonly name: string;
  /** Applies the change (DDL and any data moves). Must not open its own transaction. */
  up(db: Database.Database): void;
}

function sql(text: string): (db: Database.Database) => void {
  return (db) => {
    db.exec(text);
  };
}

/** Every migration Parley knows, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audio ids, usage ledger, files',
    up: sql(`
      -- Assistant reply audio kept for multi-turn chat ({"role":"assistant","audio":{"id":...}}).
      -- Expires an hour after creation; swept periodically. Owner = sha256 of the API key, or NULL.
      CREATE TABLE audio_items (
        id          TEXT    PRIMARY KEY,
        owner       TEXT,
        format      TEXT    NOT NULL,
        transcript  TEXT    NOT NULL,
        data        BLOB    NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX audio_items_expires ON audio_items (expires_at);

      -- One row per billed request. request_id is unique so recording twice (a retried batch
      -- line, a resumed worker) counts once.
      CREATE TABLE usage_events (
        seq                     INTEGER PRIMARY KEY,
        request_id              TEXT    NOT NULL UNIQUE,
        api_key_hash            TEXT,
        endpoint                TEXT    NOT NULL,
        model                   TEXT    NOT NULL,
        prompt_text_tokens      INTEGER NOT NULL CHECK (prompt_text_tokens >= 0),
        prompt_audio_tokens     INTEGER NOT NULL CHECK (prompt_audio_tokens >= 0),
        completion_text_tokens  INTEGER NOT NULL CHECK (completion_text_tokens >= 0),
        completion_audio_tokens INTEGER NOT NULL CHECK (completion_audio_tokens >= 0),
        cached_tokens           INTEGER NOT NULL CHECK (cached_tokens >= 0),
        audio_in_sec            REAL    NOT NULL CHECK (audio_in_sec >= 0),
        audio_out_sec           REAL    NOT NULL CHECK (audio_out_sec >= 0),
        created_at              INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX usage_events_created ON usage_events (created_at);
      CREATE INDEX usage_events_key_created ON usage_events (api_key_hash, created_at);

      -- OpenAI Files. The bytes live in <dataDir>/files/<id>; this is the metadata. seq orders the
      -- list (insertion order, never reused thanks to AUTOINCREMENT). Deleted files keep their row
      -- as a tombstone (deleted_at set) so a list cursor ('after') that was deleted between pages
      -- still has a position.
      CREATE TABLE files (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT    NOT NULL UNIQUE,
        owner       TEXT,
        purpose     TEXT    NOT NULL,
        filename    TEXT    NOT NULL,
        bytes       INTEGER NOT NULL CHECK (bytes >= 0),
        status      TEXT    NOT NULL DEFAULT 'processed',
        created_at  INTEGER NOT NULL,
        deleted_at  INTEGER
      ) STRICT;
      CREATE INDEX files_owner_seq ON files (owner, seq);
    `),
  },
  {
    version: 2,
    name: 'batches and batch lines',
    up: sql(`
      -- OpenAI Batches (see src/batch/README.md). Times are unix seconds except lease_until (ms).
      -- stop_reason is 'cancelled' or 'expired' once no new line may start; the reserved_* ids are
      -- chosen before the output/error files are written so a finalize interrupted by a crash
      -- finds (and never duplicates) the file it had written.
      CREATE TABLE batches (
        seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
        id                  TEXT    NOT NULL UNIQUE,
        owner               TEXT,
        endpoint            TEXT    NOT NULL,
        input_file_id       TEXT    NOT NULL,
        completion_window   TEXT    NOT NULL,
        status              TEXT    NOT NULL CHECK (status IN ('validating','failed','in_progress','finalizing','completed','expired','cancelling','cancelled')),
        stop_reason         TEXT    CHECK (stop_reason IN ('cancelled','expired')),
        errors              TEXT,
        metadata            TEXT,
        total               INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
        completed           INTEGER NOT NULL DEFAULT 0 CHECK (completed >= 0),
        failed              INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
        output_file_id      TEXT,
        error_file_id       TEXT,
        reserved_output_id  TEXT,
        reserved_error_id   TEXT,
        created_at          INTEGER NOT NULL,
        in_progress_at      INTEGER,
        expires_at          INTEGER NOT NULL,
        finalizing_at       INTEGER,
        completed_at        INTEGER,
        failed_at           INTEGER,
        expired_at          INTEGER,
        cancelling_at       INTEGER,
        cancelled_at        INTEGER,
        lease_owner         TEXT,
        lease_until         INTEGER,
        enqueued            INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE INDEX batches_owner_seq ON batches (owner, seq);
      CREATE INDEX batches_status ON batches (status);

      -- One row per non-blank input line. state: pending -> running -> done | failed, or skipped
      -- (never run: the batch was cancelled or expired). request is the line's {url, body} until
      -- it has run; result is its finished output/error-file line, committed durably before the
      -- line counts as done. Rows are deleted once the batch's files are written.
      CREATE TABLE batch_lines (
        batch_id     TEXT    NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
        line_no      INTEGER NOT NULL,
        custom_id    TEXT,
        state        TEXT    NOT NULL CHECK (state IN ('pending','running','done','failed','skipped')),
        request      TEXT,
        result       TEXT,
        claimed_by   TEXT,
        claimed_at   INTEGER,
        attempts     INTEGER NOT NULL DEFAULT 0,
        finished_at  INTEGER,
        PRIMARY KEY (batch_id, line_no)
      ) STRICT;
      CREATE INDEX batch_lines_state ON batch_lines (batch_id, state, line_no);
      CREATE INDEX batch_lines_running ON batch_lines (claimed_by) WHERE state = 'running';
    `),
  },
  {
    version: 3,
    name: 'api keys and their limit counters',
    up: sql(`
      -- Keys handed out by an admin (parley keys create, POST /v1/parley/keys). Only the key's
      -- sha256 is kept; id is 'key_' + its first 16 hex digits (the api_key_id of usage reports).
      -- A revoked key keeps its row (revoked_at set) so its usage still has a name.
      CREATE TABLE api_keys (
        id                    TEXT    PRIMARY KEY,
        hash                  TEXT    NOT NULL UNIQUE,
        alias                 TEXT,
        created_at            INTEGER NOT NULL,
        expires_at            INTEGER,
        revoked_at            INTEGER,
        models                TEXT,
        max_budget_usd        REAL    CHECK (max_budget_usd >= 0),
        budget_duration_sec   INTEGER CHECK (budget_duration_sec > 0),
        rpm_limit             INTEGER CHECK (rpm_limit >= 0),
        tpm_limit             INTEGER CHECK (tpm_limit >= 0),
        max_parallel_requests INTEGER CHECK (max_parallel_requests >= 0),
        metadata              TEXT
      ) STRICT;
      CREATE UNIQUE INDEX api_keys_live_alias ON api_keys (alias) WHERE alias IS NOT NULL AND revoked_at IS NULL;

      -- Rate-limit counters of embedded mode (Redis holds them with PARLEY_QUEUE): one row per key
      -- per fixed window (window_start in ms); old windows are deleted as new ones start.
      CREATE TABLE key_rate_windows (
        key_id       TEXT    NOT NULL,
        window_start INTEGER NOT NULL,
        requests     INTEGER NOT NULL DEFAULT 0,
        tokens       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, window_start)
      ) STRICT, WITHOUT ROWID;

      -- Requests of a key in progress (max_parallel_requests), by process so a dead process's
      -- rows can be dropped.
      CREATE TABLE key_in_flight (
        request_id TEXT    PRIMARY KEY,
        key_id     TEXT    NOT NULL,
        process    TEXT    NOT NULL,
        started_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX key_in_flight_key ON key_in_flight (key_id);
    `),
  },
  {
    version: 4,
    name: 'watermarked responses',
    up: sql(`
      -- Every voice Parley makes carries a watermark whose payload is a tag: a keyed HMAC of the
      -- response id, truncated (src/safety/watermark/). One row per marked response, so a verified
      -- recording leads back to it. owner = sha256 of the API key that asked, or NULL. Kept for good
      -- (a row is ~150 bytes); tags are not unique (two responses may share one, however unlikely).
      CREATE TABLE watermarks (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        tag          TEXT    NOT NULL,
        response_id  TEXT    NOT NULL,
        owner        TEXT,
        model        TEXT    NOT NULL,
        voice        TEXT    NOT NULL,
        created_at   INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX watermarks_tag ON watermarks (tag);
    `),
  },
  {
    version: 5,
    name: 'usage for every endpoint: characters, batch flag, engine core-seconds',
    up: sql(`
      -- Speech counts characters in; batch lines are flagged; engine_sec is the core-seconds the
      -- request's engine jobs held (Parley's own cost = engine_sec × the configured $/core-hour).
      ALTER TABLE usage_events ADD COLUMN characters INTEGER NOT NULL DEFAULT 0 CHECK (characters >= 0);
      ALTER TABLE usage_events ADD COLUMN batch INTEGER NOT NULL DEFAULT 0 CHECK (batch IN (0, 1));
      ALTER TABLE usage_events ADD COLUMN engine_sec REAL NOT NULL DEFAULT 0 CHECK (engine_sec >= 0);
    `),
  },
];
