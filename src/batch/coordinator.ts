import fs from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/db.js';
import type { BatchStore } from './batch-store.js';
import { readInputFile } from './input.js';
import type { BatchRecord } from './types.js';
import { isDeadLocalWorker } from './workers.js';

/**
 * The coordinator moves batches through their lifecycle; it runs in every process that has the
 * data folder (the server, and `parley worker` in embedded mode) and is safe to run in several at
 * once: the long steps (reading the input file, writing the result files) are done under a
 * per-batch lease, and every step is idempotent, so a process killed at any moment leaves work
 * that the next tick (here or in another process) finishes without losing or repeating a line.
 *
 *   validating  → read the input file into lines (a bad line fails alone) → in_progress
 *   in_progress → (lines run elsewhere) → finalizing when none is left, or when the window ends
 *   cancelling / finalizing → once no line is in flight: unrun lines are `skipped`, the output
 *                 and error files are written from the committed results → completed |
 *                 cancelled | expired
 */

/** What the coordinator needs from the line transport (SQLite claims, or Redis). */
export interface LineTransport {
  /** Called once a batch is in progress: put its lines where executors find them. */
  start?(batch: BatchRecord): Promise<void>;
  /** Called while a batch is stopping: pull queued lines; true once no line of it is in flight. */
  drained(batch: BatchRecord): Promise<boolean>;
  /** Called every tick: repair lost work (e.g. jobs lost by Redis). */
  reconcile?(): Promise<void>;
}

export interface CoordinatorOptions {
  store: Store;
  batches: BatchStore;
  transport: LineTransport;
  workerId: string;
  log: FastifyBaseLogger;
  /** Tick period (ms). */
  pollMs: number;
  /** A running line whose worker has not shown life for this long is put back to pending (ms). */
  staleMs: number;
  /** Lease length for validation and finalize (ms); renewed while working. */
  leaseMs: number;
  /** Clock (ms). */
  now?: () => number;
}

/** Largest value `FileStore.create` accepts as a limit: result files are not capped. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export class Coordinator {
  readonly #o: CoordinatorOptions;
  readonly #busy = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  readonly #unsubscribe: () => void;
  readonly #now: () => number;

  constructor(options: CoordinatorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#unsubscribe = options.batches.onNudge(() => this.poke());
  }

  /** Starts ticking. */
  start(): void {
    this.poke();
  }

  /** Runs a tick soon (coalesced). */
  poke(): void {
    if (this.#stopped) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ticking = this.#tick()
      .catch((e: unknown) => this.#o.log.error({ err: e }, 'batch coordinator tick failed'))
      .finally(() => {
        this.#ticking = undefined;
        if (this.#stopped) return;
        if (this.#again) {
          this.#again = false;
          setImmediate(() => this.poke());
        } else {
          this.#timer = setTimeout(() => this.poke(), this.#o.pollMs);
          this.#timer.unref();
        }
      });
  }

  /** Stops ticking and waits for the running steps (they are idempotent if cut short later). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ticking;
    while (this.#busy.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** One pass over every active batch; returns once the quick steps are done (long ones run detached). */
  async #tick(): Promise<void> {
    const { batches } = this.#o;
    this.#recoverDeadWorkers();
    const nowSec = Math.floor(this.#now() / 1000);
    for (const batch of batches.active()) {
      if (this.#stopped) return;
      if (this.#busy.has(batch.id)) continue;
      if ((batch.status === 'in_progress' || batch.status === 'validating') && nowSec >= batch.expiresAt && batch.stopReason === null) {
        batches.expire(batch.id);
        continue; // next tick finalizes it
      }
      switch (batch.status) {
        case 'validating':
          this.#detached(batch, () => this.#validate(batch));
          break;
        case 'in_progress':
          if (this.#o.transport.start) await this.#o.transport.start(batch);
          if (!batches.hasUnfinished(batch.id) && batches.beginFinalizing(batch.id)) this.#detached(batch, () => this.#finalize(batch));
          break;
        case 'cancelling':
        case 'finalizing':
          if (await this.#o.transport.drained(batch)) this.#detached(batch, () => this.#finalize(batch));
          break;
        default:
          break;
      }
    }
    if (this.#o.transport.reconcile) await this.#o.transport.reconcile();
  }

  /** Runs a long step for one batch under its lease, without blocking the tick. */
  #detached(batch: BatchRecord, step: () => Promise<void>): void {
    const { batches, workerId, leaseMs } = this.#o;
    if (!batches.takeLease(batch.id, workerId, leaseMs)) return;
    this.#busy.add(batch.id);
    const renew = setInterval(() => batches.takeLease(batch.id, workerId, leaseMs), Math.max(1000, leaseMs / 3));
    renew.unref();
    void step()
      .catch((e: unknown) => this.#o.log.error({ err: e, batch: batch.id }, 'batch step failed; it will be retried'))
      .finally(() => {
        clearInterval(renew);
        try {
          batches.releaseLease(batch.id, workerId);
        } catch {
          // store closed at shutdown: the lease expires by itself
        }
        this.#busy.delete(batch.id);
        if (!this.#stopped) this.poke();
      });
  }

  /** Lines and leases of workers that died go back to the pool. */
  #recoverDeadWorkers(): void {
    const { batches, workerId, staleMs } = this.#o;
    const now = this.#now();
    for (const { worker, lastSeen } of batches.runningClaimers()) {
      if (worker === workerId) continue;
      if (isDeadLocalWorker(worker) || lastSeen < now - staleMs) {
        const n = batches.releaseWorker(worker);
        if (n > 0) this.#o.log.warn({ worker, lines: n }, 'batch lines of a dead worker put back to pending');
      }
    }
    for (const holder of batches.leaseHolders()) {
      if (holder !== workerId && isDeadLocalWorker(holder)) batches.clearLeasesOf(holder);
    }
  }

  async #validate(batch: BatchRecord): Promise<void> {
    const { batches, store } = this.#o;
    const input = store.files.openContent(batch.inputFileId, batch.owner);
    if (!input) {
      batches.failValidation(batch.id, [
        { code: 'file_not_found', message: `The input file ${batch.inputFileId} no longer exists.`, param: 'input_file_id', line: null },
      ]);
      return;
    }
    const summary = await readInputFile(input, batch.endpoint, async (lines) => {
      if (this.#stopped) throw new Error('worker stopping');
      batches.insertLines(batch.id, lines);
      await yieldToLoop(); // keep live requests flowing while a big file is read
    });
    if (summary.fatal) {
      batches.failValidation(batch.id, [summary.fatal, ...summary.errors]);
      this.#o.log.info({ batch: batch.id, code: summary.fatal.code }, 'batch failed validation');
    } else {
      batches.finishValidation(batch.id, { total: summary.total, invalid: summary.invalid, errors: summary.errors });
      this.#o.log.info({ batch: batch.id, total: summary.total, invalid: summary.invalid }, 'batch validated');
    }
  }

  /**
   * Writes the result files from the committed lines and gives the batch its final status. The
   * file ids were reserved first (`sealLines`), so a repeat after a crash finds a file it had
   * already written instead of writing it twice.
   */
  async #finalize(batch: BatchRecord): Promise<void> {
    const { batches, store } = this.#o;
    const { outputId, errorId } = batches.sealLines(batch.id);
    const counts = batches.lineCounts(batch.id);
    const write = async (id: string, states: ReadonlyArray<'done' | 'failed' | 'skipped'>, suffix: string): Promise<string> => {
      if (store.files.get(id, batch.owner)) return id;
      // A .part left by a finalize killed while writing (the id is reserved, so it is ours).
      fs.rmSync(`${store.files.contentPath(id)}.part`, { force: true });
      const pages = async function* (): AsyncGenerator<Buffer> {
        let after = 0;
        for (;;) {
          const page = batches.resultPage(batch.id, states, after, 64);
          if (page.length === 0) return;
          after = page[page.length - 1]!.lineNo;
          yield Buffer.from(page.map((p) => `${p.line}\n`).join(''), 'utf8');
        }
      };
      await store.files.create({
        id,
        purpose: 'batch_output',
        filename: `${batch.id}_${suffix}.jsonl`,
        stream: pages(),
        apiKeyHash: batch.owner,
        maxBytes: NO_LIMIT,
      });
      return id;
    };
    const outputFileId = counts.done > 0 ? await write(outputId, ['done'], 'output') : null;
    const errorFileId = counts.failed + counts.skipped > 0 ? await write(errorId, ['failed', 'skipped'], 'error') : null;
    const final = batches.finish(batch.id, { outputFileId, errorFileId });
    this.#o.log.info({ batch: batch.id, status: final?.status, counts: final?.requestCounts }, 'batch finalized');
  }
}
