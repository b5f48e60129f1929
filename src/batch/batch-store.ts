import crypto from 'node:crypto';
import { ApiError } from '../errors.js';
import type { Store } from '../store/db.js';
import { newFileId } from '../store/files.js';
import type { BatchEndpoint, BatchError, BatchRecord, BatchStatus, ClaimedLine, LineResult } from './types.js';

/**
 * Batches and their lines in SQLite (tables from migration 2). Every change that a client can
 * observe or that decides what lands in a result file is a durable transaction
 * (`store.durable`, fsynced), and every line change is conditional on the line's current state,
 * so two processes (or a process restarted after kill -9) can race on the same line and the
 * first commit wins: a line's result is written exactly once.
 *
 * One per process (built by the runtime, shared by the routes and the worker), so the in-process
 * nudge (`onNudge`) reaches the worker the moment a batch is created or cancelled.
 */

/** A line runs at most this many times; a line that keeps killing its worker then fails instead. */
export const MAX_LINE_ATTEMPTS = 3;

/** A row of `batches`. */
interface BatchRow {
  seq: number;
  id: string;
  owner: string | null;
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: string;
  stop_reason: string | null;
  errors: string | null;
  metadata: string | null;
  total: number;
  completed: number;
  failed: number;
  output_file_id: string | null;
  error_file_id: string | null;
  reserved_output_id: string | null;
  reserved_error_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  enqueued: number;
}

function toRecord(row: BatchRow): BatchRecord {
  return {
    id: row.id,
    owner: row.owner,
    endpoint: row.endpoint as BatchEndpoint,
    inputFileId: row.input_file_id,
    completionWindow: row.completion_window,
    status: row.status as BatchStatus,
    stopReason: row.stop_reason as BatchRecord['stopReason'],
    errors: row.errors ? (JSON.parse(row.errors) as BatchError[]) : null,
    outputFileId: row.output_file_id,
    errorFileId: row.error_file_id,
    createdAt: row.created_at,
    inProgressAt: row.in_progress_at,
    expiresAt: row.expires_at,
    finalizingAt: row.finalizing_at,
    completedAt: row.completed_at,
    failedAt: row.failed_at,
    expiredAt: row.expired_at,
    cancellingAt: row.cancelling_at,
    cancelledAt: row.cancelled_at,
    requestCounts: { total: row.total, completed: row.completed, failed: row.failed },
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, string>) : null,
  };
}

/** `batch_` + 32 hex characters. */
export function newBatchId(): string {
  return `batch_${crypto.randomBytes(16).toString('hex')}`;
}

/** The id of one output/error-file line: `batch_req_` + 32 hex characters. */
export function newBatchRequestId(): string {
  return `batch_req_${crypto.randomBytes(16).toString('hex')}`;
}

const BATCH_ID = /^batch_[0-9a-f]{32}$/;

/** True for a string shaped like a batch id. */
export function isBatchId(id: string): boolean {
  return BATCH_ID.test(id);
}

/** An error-file line for a request that never got a response. */
export function errorLine(customId: string | null, code: string, message: string): string {
  return JSON.stringify({ id: newBatchRequestId(), custom_id: customId, response: null, error: { code, message } });
}

/** A line as inserted at validation. */
export interface NewLine {
  lineNo: number;
  customId: string | null;
  /** `pending` lines carry `request`; `failed` ones (invalid input) carry `result`. */
  state: 'pending' | 'failed';
  request: string | null;
  result: string | null;
}

/** Params of `BatchStore.create`. */
export interface BatchCreateParams {
  owner: string | null;
  endpoint: BatchEndpoint;
  inputFileId: string;
  completionWindow: string;
  /** The window in seconds (`expires_at` = creation + this). */
  windowSec: number;
  metadata: Record<string, string> | null;
}

/** A page of `BatchStore.list`. */
export interface BatchList {
  data: BatchRecord[];
  hasMore: boolean;
  firstId: string | null;
  lastId: string | null;
}

/** Line counts by state. */
export interface LineCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
  skipped: number;
}

const ACTIVE: readonly BatchStatus[] = ['validating', 'in_progress', 'finalizing', 'cancelling'];

export class BatchStore {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();

  constructor(store: Store, options: { now?: () => number } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
  }

  get #db() {
    return this.#store.db;
  }

  #sec(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Tells in-process workers that something changed (a new batch, a cancel, a last line). */
  nudge(): void {
    for (const l of this.#listeners) l();
  }

  /** Calls `listener` on every `nudge`; returns the unsubscribe function. */
  onNudge(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records a new batch in `validating`; the worker reads its input file next. */
  create(p: BatchCreateParams): BatchRecord {
    const id = newBatchId();
    const now = this.#sec();
    this.#store.durable(() => {
      this.#db
        .prepare(
          `INSERT INTO batches (id, owner, endpoint, input_file_id, completion_window, status, metadata, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, 'validating', ?, ?, ?)`,
        )
        .run(id, p.owner, p.endpoint, p.inputFileId, p.completionWindow, p.metadata ? JSON.stringify(p.metadata) : null, now, now + p.windowSec);
    });
    this.nudge();
    return this.find(id)!;
  }

  /** The batch, whoever owns it (workers). */
  find(id: string): BatchRecord | undefined {
    if (!isBatchId(id)) return undefined;
    const row = this.#db.prepare('SELECT * FROM batches WHERE id = ?').get(id) as BatchRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** The batch if `owner` owns it (routes: another key's batch is "not found"). */
  get(id: string, owner: string | null): BatchRecord | undefined {
    if (!isBatchId(id)) return undefined;
    const row = this.#db.prepare('SELECT * FROM batches WHERE id = ? AND owner IS ?').get(id, owner) as BatchRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** The owner's batches, newest first; `after` is a batch id of theirs (else a 400 naming it). */
  list(p: { owner: string | null; after?: string; limit: number }): BatchList {
    const args: unknown[] = [p.owner];
    let where = 'owner IS ?';
    if (p.after !== undefined) {
      const cursor = isBatchId(p.after)
        ? (this.#db.prepare('SELECT seq FROM batches WHERE id = ? AND owner IS ?').get(p.after, p.owner) as { seq: number } | undefined)
        : undefined;
      if (!cursor) throw ApiError.invalidRequest('after', `Invalid 'after': no batch with id '${p.after}'.`, 'invalid_value');
      where += ' AND seq < ?';
      args.push(cursor.seq);
    }
    args.push(p.limit + 1);
    const rows = this.#db.prepare(`SELECT * FROM batches WHERE ${where} ORDER BY seq DESC LIMIT ?`).all(...args) as BatchRow[];
    const data = rows.slice(0, p.limit).map(toRecord);
    return { data, hasMore: rows.length > p.limit, firstId: data[0]?.id ?? null, lastId: data[data.length - 1]?.id ?? null };
  }

  /** Batches that still have work: validating, in progress, finalizing or cancelling (oldest first). */
  active(): BatchRecord[] {
    const rows = this.#db.prepare(`SELECT * FROM batches WHERE status IN (${ACTIVE.map(() => '?').join(',')}) ORDER BY seq`).all(...ACTIVE) as BatchRow[];
    return rows.map(toRecord);
  }

  /**
   * Asks the batch to stop: from `validating`/`in_progress` it turns `cancelling` (no new line
   * starts; lines already running finish and are kept). Cancelling twice is a no-op. Returns
   * undefined for an unknown batch, and throws a 400 for one that is already finishing or done.
   */
  cancel(id: string, owner: string | null): BatchRecord | undefined {
    const current = this.get(id, owner);
    if (!current) return undefined;
    if (current.status === 'cancelling' || current.status === 'cancelled') return current;
    if (current.status !== 'validating' && current.status !== 'in_progress') {
      throw ApiError.invalidRequest(null, `Cannot cancel a batch with status '${current.status}'.`, 'invalid_batch_status');
    }
    const changed = this.#store.durable(
      () =>
        this.#db
          .prepare(
            `UPDATE batches SET status = 'cancelling', stop_reason = 'cancelled', cancelling_at = ? WHERE id = ? AND status IN ('validating','in_progress')`,
          )
          .run(this.#sec(), id).changes,
    );
    if (changed === 0) return this.cancel(id, owner); // it moved meanwhile: answer for its new status
    this.nudge();
    return this.get(id, owner);
  }

  // ---- validation ---------------------------------------------------------------------------

  /** Inserts lines read from the input file; lines already there (a validation resumed after a crash) are left alone. */
  insertLines(batchId: string, lines: readonly NewLine[]): void {
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO batch_lines (batch_id, line_no, custom_id, state, request, result, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = this.#sec();
    this.#db.transaction(() => {
      for (const l of lines) insert.run(batchId, l.lineNo, l.customId, l.state, l.request, l.result, l.state === 'failed' ? now : null);
    })();
  }

  /**
   * Ends validation: records the counts and the input errors, and moves `validating` →
   * `in_progress`. A batch cancelled while validating keeps `cancelling` but gets its counts.
   */
  finishValidation(batchId: string, p: { total: number; invalid: number; errors: BatchError[] }): void {
    this.#store.durable(() => {
      const errors = p.errors.length > 0 ? JSON.stringify(p.errors) : null;
      const now = this.#sec();
      const moved = this.#db
        .prepare(`UPDATE batches SET status = 'in_progress', in_progress_at = ?, total = ?, failed = ?, errors = ? WHERE id = ? AND status = 'validating'`)
        .run(now, p.total, p.invalid, errors, batchId).changes;
      if (moved === 0) {
        this.#db
          .prepare(`UPDATE batches SET total = ?, failed = ?, errors = ? WHERE id = ? AND status = 'cancelling' AND in_progress_at IS NULL AND total = 0`)
          .run(p.total, p.invalid, errors, batchId);
      }
    });
    this.nudge();
  }

  /** Fails the batch at validation (unreadable file, no valid line, too many lines). Its lines are dropped. */
  failValidation(batchId: string, errors: BatchError[]): void {
    this.#store.durable(() => {
      const changed = this.#db
        .prepare(
          `UPDATE batches SET status = 'failed', failed_at = ?, errors = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND status IN ('validating','cancelling') AND in_progress_at IS NULL`,
        )
        .run(this.#sec(), JSON.stringify(errors), batchId).changes;
      if (changed > 0) this.#db.prepare('DELETE FROM batch_lines WHERE batch_id = ?').run(batchId);
    });
  }

  // ---- leases (validation and finalize run in one process at a time) --------------------------

  /** Takes (or renews) the batch's lease for `ms`; false when another live process holds it. */
  takeLease(batchId: string, holder: string, ms: number): boolean {
    const now = this.#now();
    return (
      this.#db
        .prepare('UPDATE batches SET lease_owner = ?, lease_until = ? WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)')
        .run(holder, now + ms, batchId, holder, now).changes > 0
    );
  }

  /** Gives the lease back. */
  releaseLease(batchId: string, holder: string): void {
    this.#db.prepare('UPDATE batches SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?').run(batchId, holder);
  }

  /** Workers holding a lease on some batch. */
  leaseHolders(): string[] {
    return (this.#db.prepare('SELECT DISTINCT lease_owner AS holder FROM batches WHERE lease_owner IS NOT NULL').all() as Array<{ holder: string }>).map(
      (r) => r.holder,
    );
  }

  /** Drops every lease `holder` has (it is dead). */
  clearLeasesOf(holder: string): void {
    this.#db.prepare('UPDATE batches SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?').run(holder);
  }

  // ---- lines -------------------------------------------------------------------------------

  /**
   * Takes up to `limit` pending lines of in-progress batches (oldest batch first, in line order)
   * for `worker`, in one write transaction (so two processes never take the same line).
   */
  claim(worker: string, limit: number): ClaimedLine[] {
    const out: ClaimedLine[] = [];
    this.#db
      .transaction(() => {
        const batches = this.#db.prepare(`SELECT id, owner FROM batches WHERE status = 'in_progress' AND stop_reason IS NULL ORDER BY seq`).all() as Array<{
          id: string;
          owner: string | null;
        }>;
        const pick = this.#db.prepare(
          `SELECT line_no, custom_id, request FROM batch_lines WHERE batch_id = ? AND state = 'pending' AND attempts < ? ORDER BY line_no LIMIT ?`,
        );
        const take = this.#db.prepare(
          `UPDATE batch_lines SET state = 'running', claimed_by = ?, claimed_at = ?, attempts = attempts + 1 WHERE batch_id = ? AND line_no = ? AND state = 'pending'`,
        );
        const now = this.#now();
        for (const b of batches) {
          if (out.length >= limit) break;
          const rows = pick.all(b.id, MAX_LINE_ATTEMPTS, limit - out.length) as Array<{ line_no: number; custom_id: string; request: string }>;
          for (const r of rows) {
            take.run(worker, now, b.id, r.line_no);
            out.push({ batchId: b.id, lineNo: r.line_no, customId: r.custom_id, request: r.request, owner: b.owner });
          }
        }
      })
      .immediate();
    return out;
  }

  /** Fails pending lines that were started `MAX_LINE_ATTEMPTS` times without finishing. */
  failPoisonedLines(): number {
    const rows = this.#db
      .prepare(
        `SELECT l.batch_id, l.line_no, l.custom_id FROM batch_lines l JOIN batches b ON b.id = l.batch_id WHERE b.status = 'in_progress' AND l.state = 'pending' AND l.attempts >= ?`,
      )
      .all(MAX_LINE_ATTEMPTS) as Array<{ batch_id: string; line_no: number; custom_id: string }>;
    let n = 0;
    for (const r of rows) {
      const line = errorLine(
        r.custom_id,
        'line_failed_repeatedly',
        `The worker running this request stopped ${MAX_LINE_ATTEMPTS} times before it finished; it was not tried again.`,
      );
      if (this.commit(r.batch_id, r.line_no, { state: 'failed', line })) n++;
    }
    return n;
  }

  /**
   * Commits a line's result, durably, before it counts: the line must still be pending or
   * running, so a second commit of the same line (a duplicate run after a crash, a late worker)
   * changes nothing and returns false.
   */
  commit(batchId: string, lineNo: number, result: LineResult): boolean {
    const changed = this.#store.durable(() => {
      const n = this.#db
        .prepare(
          `UPDATE batch_lines SET state = ?, result = ?, request = NULL, claimed_by = NULL, finished_at = ? WHERE batch_id = ? AND line_no = ? AND state IN ('pending','running')`,
        )
        .run(result.state, result.line, this.#sec(), batchId, lineNo).changes;
      if (n > 0) {
        this.#db.prepare(`UPDATE batches SET ${result.state === 'done' ? 'completed = completed + 1' : 'failed = failed + 1'} WHERE id = ?`).run(batchId);
      }
      return n;
    });
    return changed > 0;
  }

  /** Puts a running line back to pending (its run was interrupted on purpose, e.g. at shutdown). */
  release(batchId: string, lineNo: number, worker: string): void {
    this.#db
      .prepare(
        `UPDATE batch_lines SET state = 'pending', claimed_by = NULL, claimed_at = NULL, attempts = MAX(0, attempts - 1) WHERE batch_id = ? AND line_no = ? AND state = 'running' AND claimed_by = ?`,
      )
      .run(batchId, lineNo, worker);
  }

  /** Marks `worker`'s running lines as still alive. */
  heartbeat(worker: string): void {
    this.#db.prepare(`UPDATE batch_lines SET claimed_at = ? WHERE claimed_by = ? AND state = 'running'`).run(this.#now(), worker);
  }

  /** Who holds running lines, and when each last showed life (ms). */
  runningClaimers(): Array<{ worker: string; lastSeen: number }> {
    return (
      this.#db.prepare(`SELECT claimed_by AS worker, MAX(claimed_at) AS lastSeen FROM batch_lines WHERE state = 'running' GROUP BY claimed_by`).all() as Array<{
        worker: string;
        lastSeen: number;
      }>
    ).filter((r) => r.worker !== null);
  }

  /**
   * Puts every running line of a dead worker back to pending, except lines that have now been
   * started `MAX_LINE_ATTEMPTS` times: those fail (they may be what kills the workers). Returns
   * how many lines went back.
   */
  releaseWorker(worker: string): number {
    const n = this.#db
      .prepare(`UPDATE batch_lines SET state = 'pending', claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ? AND state = 'running'`)
      .run(worker).changes;
    if (n > 0) this.failPoisonedLines();
    return n;
  }

  /** How many lines of the batch are in each state. */
  lineCounts(batchId: string): LineCounts {
    const counts: LineCounts = { pending: 0, running: 0, done: 0, failed: 0, skipped: 0 };
    for (const r of this.#db.prepare('SELECT state, COUNT(*) AS n FROM batch_lines WHERE batch_id = ? GROUP BY state').all(batchId) as Array<{
      state: keyof LineCounts;
      n: number;
    }>) {
      counts[r.state] = r.n;
    }
    return counts;
  }

  /** True while some line of the batch has not finished (pending or running). */
  hasUnfinished(batchId: string): boolean {
    return this.#db.prepare(`SELECT 1 FROM batch_lines WHERE batch_id = ? AND state IN ('pending','running') LIMIT 1`).get(batchId) !== undefined;
  }

  /** Pending lines after `afterLine`, in order (for enqueueing on Redis). */
  pendingLines(batchId: string, afterLine: number, limit: number): Array<{ lineNo: number; customId: string; request: string }> {
    return (
      this.#db
        .prepare(
          `SELECT line_no, custom_id, request FROM batch_lines WHERE batch_id = ? AND state IN ('pending','running') AND line_no > ? ORDER BY line_no LIMIT ?`,
        )
        .all(batchId, afterLine, limit) as Array<{ line_no: number; custom_id: string; request: string }>
    ).map((r) => ({
      lineNo: r.line_no,
      customId: r.custom_id,
      request: r.request,
    }));
  }

  /** Records that every line of the batch has been put on the Redis queue. */
  markEnqueued(batchId: string): void {
    this.#db.prepare('UPDATE batches SET enqueued = 1 WHERE id = ?').run(batchId);
  }

  /** True once `markEnqueued` ran for the batch. */
  isEnqueued(batchId: string): boolean {
    return (this.#db.prepare('SELECT enqueued FROM batches WHERE id = ?').get(batchId) as { enqueued: number } | undefined)?.enqueued === 1;
  }

  // ---- stopping and finalizing --------------------------------------------------------------

  /** An in-progress batch past its window stops taking lines and heads for `expired`. */
  expire(batchId: string): boolean {
    const changed = this.#store.durable(
      () =>
        this.#db
          .prepare(
            `UPDATE batches SET status = 'finalizing', stop_reason = 'expired', finalizing_at = ? WHERE id = ? AND status IN ('in_progress','validating')`,
          )
          .run(this.#sec(), batchId).changes,
    );
    if (changed > 0) this.nudge();
    return changed > 0;
  }

  /** An in-progress batch with every line finished turns `finalizing`. */
  beginFinalizing(batchId: string): boolean {
    return (
      this.#store.durable(() => {
        if (this.hasUnfinished(batchId)) return 0;
        return this.#db.prepare(`UPDATE batches SET status = 'finalizing', finalizing_at = ? WHERE id = ? AND status = 'in_progress'`).run(this.#sec(), batchId)
          .changes;
      }) > 0
    );
  }

  /**
   * First step of finalizing a stopping or finished batch: lines that never ran become
   * `skipped` (they go to the error file as `batch_cancelled`/`batch_expired`), and the ids of the
   * output and error files are reserved. Returns the reserved ids (the same ones when repeated).
   */
  sealLines(batchId: string): { outputId: string; errorId: string } {
    return this.#store.durable(() => {
      const row = this.#db.prepare('SELECT stop_reason, reserved_output_id, reserved_error_id FROM batches WHERE id = ?').get(batchId) as
        | { stop_reason: string | null; reserved_output_id: string | null; reserved_error_id: string | null }
        | undefined;
      if (!row) throw new Error(`no batch ${batchId}`);
      const left = this.#db.prepare(`SELECT line_no, custom_id FROM batch_lines WHERE batch_id = ? AND state IN ('pending','running')`).all(batchId) as Array<{
        line_no: number;
        custom_id: string;
      }>;
      if (left.length > 0) {
        const [code, message] =
          row.stop_reason === 'expired'
            ? ['batch_expired', 'This request could not be executed before the completion window expired.']
            : ['batch_cancelled', 'This request could not be executed because the batch was cancelled.'];
        const skip = this.#db.prepare(
          `UPDATE batch_lines SET state = 'skipped', result = ?, request = NULL, claimed_by = NULL WHERE batch_id = ? AND line_no = ? AND state IN ('pending','running')`,
        );
        for (const l of left) skip.run(errorLine(l.custom_id, code, message), batchId, l.line_no);
      }
      const outputId = row.reserved_output_id ?? newFileId();
      const errorId = row.reserved_error_id ?? newFileId();
      this.#db.prepare('UPDATE batches SET reserved_output_id = ?, reserved_error_id = ? WHERE id = ?').run(outputId, errorId, batchId);
      return { outputId, errorId };
    });
  }

  /** A page of finished lines' results in line order (`afterLine` = last line number of the previous page). */
  resultPage(batchId: string, states: ReadonlyArray<'done' | 'failed' | 'skipped'>, afterLine: number, limit: number): Array<{ lineNo: number; line: string }> {
    return (
      this.#db
        .prepare(
          `SELECT line_no, result FROM batch_lines WHERE batch_id = ? AND state IN (${states.map(() => '?').join(',')}) AND line_no > ? ORDER BY line_no LIMIT ?`,
        )
        .all(batchId, ...states, afterLine, limit) as Array<{ line_no: number; result: string }>
    ).map((r) => ({ lineNo: r.line_no, line: r.result }));
  }

  /**
   * Last step: the batch takes its final status (`completed`, `cancelled` or `expired`) with its
   * file ids, and its lines (now in the files) are dropped.
   */
  finish(batchId: string, files: { outputFileId: string | null; errorFileId: string | null }): BatchRecord | undefined {
    this.#store.durable(() => {
      const row = this.#db.prepare('SELECT status, stop_reason FROM batches WHERE id = ?').get(batchId) as
        | { status: string; stop_reason: string | null }
        | undefined;
      if (!row || !ACTIVE.includes(row.status as BatchStatus)) return;
      const now = this.#sec();
      const [status, column] =
        row.stop_reason === 'cancelled'
          ? ['cancelled', 'cancelled_at']
          : row.stop_reason === 'expired'
            ? ['expired', 'expired_at']
            : ['completed', 'completed_at'];
      this.#db
        .prepare(`UPDATE batches SET status = ?, ${column} = ?, output_file_id = ?, error_file_id = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?`)
        .run(status, now, files.outputFileId, files.errorFileId, batchId);
      this.#db.prepare('DELETE FROM batch_lines WHERE batch_id = ?').run(batchId);
    });
    this.nudge();
    return this.find(batchId);
  }
}
