import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Store } from '../store/db.js';
import { openTempStore, type TestClock, testClock } from '../store/test-support.js';
import { BatchStore, errorLine, MAX_LINE_ATTEMPTS, type NewLine } from './batch-store.js';

function lines(n: number, from = 1): NewLine[] {
  return Array.from({ length: n }, (_, i) => ({
    lineNo: from + i,
    customId: `c${from + i}`,
    state: 'pending' as const,
    request: `{"url":"/v1/audio/speech","body":{"n":${from + i}}}`,
    result: null,
  }));
}

const ok = (line = '{"ok":true}') => ({ state: 'done' as const, line });

describe('BatchStore: the batch and line state machine', () => {
  let store: Store;
  let cleanup: () => void;
  let clock: TestClock;
  let batches: BatchStore;
  beforeEach(() => {
    clock = testClock();
    ({ store, cleanup } = openTempStore({ now: clock.now }));
    batches = new BatchStore(store, { now: clock.now });
  });
  afterEach(() => cleanup());

  function started(n: number, owner: string | null = null): string {
    const b = batches.create({
      owner,
      endpoint: '/v1/audio/speech',
      inputFileId: 'file-000000000000000000000000',
      completionWindow: '24h',
      windowSec: 86_400,
      metadata: null,
    });
    batches.insertLines(b.id, lines(n));
    batches.finishValidation(b.id, { total: n, invalid: 0, errors: [] });
    return b.id;
  }

  test('creates a validating batch that expires after its window', () => {
    const b = batches.create({
      owner: null,
      endpoint: '/v1/chat/completions',
      inputFileId: 'file-x',
      completionWindow: '2h',
      windowSec: 7200,
      metadata: { a: 'b' },
    });
    assert.equal(b.status, 'validating');
    assert.equal(b.expiresAt, b.createdAt + 7200);
    assert.deepEqual(b.metadata, { a: 'b' });
    assert.deepEqual(b.requestCounts, { total: 0, completed: 0, failed: 0 });
  });

  test('hands each pending line to one worker, in order, and counts a line once however often it is committed', () => {
    const id = started(5);
    const a = batches.claim('w-a', 2);
    const b = batches.claim('w-b', 10);
    assert.deepEqual(
      a.map((l) => l.lineNo),
      [1, 2],
    );
    assert.deepEqual(
      b.map((l) => l.lineNo),
      [3, 4, 5],
    );
    assert.equal(batches.claim('w-c', 10).length, 0);
    assert.equal(batches.commit(id, 1, ok()), true);
    assert.equal(batches.commit(id, 1, ok('{"second":true}')), false, 'the first commit wins');
    assert.equal(batches.commit(id, 2, { state: 'failed', line: '{"bad":true}' }), true);
    assert.deepEqual(batches.find(id)!.requestCounts, { total: 5, completed: 1, failed: 1 });
    assert.deepEqual(batches.resultPage(id, ['done'], 0, 10), [{ lineNo: 1, line: '{"ok":true}' }]);
  });

  test("puts a dead worker's running lines back, and gives up on a line that killed its worker too often", () => {
    const id = started(2);
    for (let attempt = 1; attempt <= MAX_LINE_ATTEMPTS; attempt++) {
      const [line] = batches.claim(`w${attempt}`, 1);
      assert.equal(line!.lineNo, 1);
      assert.deepEqual(
        batches.runningClaimers().map((c) => c.worker),
        [`w${attempt}`],
      );
      assert.equal(batches.releaseWorker(`w${attempt}`), 1);
    }
    const [next] = batches.claim('w-last', 1);
    assert.equal(next!.lineNo, 2, 'line 1 is not handed out a fourth time');
    const counts = batches.lineCounts(id);
    assert.equal(counts.failed, 1);
    assert.match(batches.resultPage(id, ['failed'], 0, 1)[0]!.line, /line_failed_repeatedly/);
  });

  test('stops handing out lines of a cancelled batch, and seals the rest as skipped with stable file ids', () => {
    const id = started(4);
    batches.claim('w', 1);
    const cancelling = batches.cancel(id, null)!;
    assert.equal(cancelling.status, 'cancelling');
    assert.equal(cancelling.stopReason, 'cancelled');
    assert.equal(batches.claim('w', 10).length, 0);
    assert.equal(batches.commit(id, 1, ok()), true, 'a line already running still counts');
    const first = batches.sealLines(id);
    const again = batches.sealLines(id);
    assert.deepEqual(again, first);
    assert.deepEqual(batches.lineCounts(id), { pending: 0, running: 0, done: 1, failed: 0, skipped: 3 });
    assert.equal(batches.commit(id, 2, ok()), false, 'a skipped line cannot be committed late');
    const errors = batches.resultPage(id, ['failed', 'skipped'], 0, 10).map((r) => JSON.parse(r.line));
    assert.deepEqual(
      errors.map((e) => [e.custom_id, e.error.code]),
      [
        ['c2', 'batch_cancelled'],
        ['c3', 'batch_cancelled'],
        ['c4', 'batch_cancelled'],
      ],
    );
    const final = batches.finish(id, { outputFileId: first.outputId, errorFileId: first.errorId })!;
    assert.equal(final.status, 'cancelled');
    assert.ok(final.cancelledAt !== null);
    assert.deepEqual(final.requestCounts, { total: 4, completed: 1, failed: 0 });
    assert.deepEqual(batches.lineCounts(id), { pending: 0, running: 0, done: 0, failed: 0, skipped: 0 }, 'lines are dropped once in the files');
    assert.equal(batches.cancel(id, null)!.status, 'cancelled', 'cancelling a cancelled batch answers it as it is');
  });

  test('refuses to cancel a finished batch, and treats another key as not found', () => {
    const id = started(1, 'a'.repeat(64));
    assert.equal(batches.cancel(id, 'b'.repeat(64)), undefined);
    assert.equal(batches.get(id, null), undefined);
    batches.commit(id, 1, ok());
    assert.equal(batches.beginFinalizing(id), true);
    batches.finish(id, { outputFileId: null, errorFileId: null });
    assert.throws(() => batches.cancel(id, 'a'.repeat(64)), /Cannot cancel a batch with status 'completed'/);
  });

  test('expires an in-progress batch: its unrun lines become batch_expired', () => {
    const id = started(3);
    batches.commit(id, 1, ok());
    assert.equal(batches.expire(id), true);
    assert.equal(batches.find(id)!.status, 'finalizing');
    assert.equal(batches.claim('w', 5).length, 0);
    batches.sealLines(id);
    assert.match(batches.resultPage(id, ['skipped'], 0, 5)[0]!.line, /batch_expired/);
    assert.equal(batches.finish(id, { outputFileId: null, errorFileId: null })!.status, 'expired');
  });

  test('only finalizes an in-progress batch once every line is finished', () => {
    const id = started(2);
    batches.commit(id, 1, ok());
    assert.equal(batches.beginFinalizing(id), false);
    batches.commit(id, 2, ok());
    assert.equal(batches.beginFinalizing(id), true);
    assert.equal(batches.beginFinalizing(id), false, 'once');
  });

  test('keeps the counts of a batch cancelled while it was being validated', () => {
    const b = batches.create({ owner: null, endpoint: '/v1/audio/speech', inputFileId: 'file-x', completionWindow: '24h', windowSec: 86_400, metadata: null });
    batches.cancel(b.id, null);
    batches.insertLines(b.id, [
      ...lines(2),
      { lineNo: 3, customId: null, state: 'failed', request: null, result: errorLine(null, 'invalid_json_line', 'Line 3') },
    ]);
    batches.finishValidation(b.id, { total: 3, invalid: 1, errors: [] });
    const after = batches.find(b.id)!;
    assert.equal(after.status, 'cancelling');
    assert.deepEqual(after.requestCounts, { total: 3, completed: 0, failed: 1 });
  });

  test('re-inserting lines after a crash during validation changes nothing', () => {
    const id = started(3);
    batches.commit(id, 2, ok());
    batches.insertLines(id, lines(3));
    assert.deepEqual(batches.lineCounts(id), { pending: 2, running: 0, done: 1, failed: 0, skipped: 0 });
  });

  test('leases validation and finalize to one holder at a time until it expires', () => {
    const id = started(1);
    assert.equal(batches.takeLease(id, 'a', 1000), true);
    assert.equal(batches.takeLease(id, 'b', 1000), false);
    assert.equal(batches.takeLease(id, 'a', 1000), true, 'renewable by its holder');
    clock.advance(2);
    assert.equal(batches.takeLease(id, 'b', 1000), true, 'free once expired');
    batches.clearLeasesOf('b');
    assert.equal(batches.takeLease(id, 'c', 1000), true);
  });

  test('lists newest first with a cursor, per owner', () => {
    const ids = [started(0), started(0), started(0)];
    const page = batches.list({ owner: null, limit: 2 });
    assert.deepEqual(
      page.data.map((b) => b.id),
      [ids[2], ids[1]],
    );
    assert.equal(page.hasMore, true);
    assert.deepEqual(
      batches.list({ owner: null, limit: 2, after: ids[1] }).data.map((b) => b.id),
      [ids[0]],
    );
    assert.equal(batches.list({ owner: 'f'.repeat(64), limit: 10 }).data.length, 0);
    assert.throws(() => batches.list({ owner: null, limit: 2, after: 'batch_x' }), /after/);
  });
});
