import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashApiKey } from './context.js';
import { openStore } from './db.js';
import { tempDataDir } from './test-support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const child = path.join(repoRoot, 'test', 'helpers', 'store-crash-child.ts');
const key = hashApiKey('sk-crash');

interface Reported {
  usage: string[];
  audio: { id: string; transcript: string }[];
  batches: string[];
  files: { id: string; i: number }[];
}

/** Runs the writer until it has reported `killAfter` usage rows, then SIGKILLs it. */
function runAndKill(dataDir: string, round: number, killAfter: number): Promise<Reported> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir, String(round)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const got: Reported = { usage: [], audio: [], batches: [], files: [] };
    let buf = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`writer did not get far enough in time; stderr: ${stderr}`));
    }, 60_000);
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [kind, a, b] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        // Lines still arriving after the kill was sent count too: the child only reports commits.
        if (kind === 'U') got.usage.push(a!);
        else if (kind === 'A') got.audio.push({ id: a!, transcript: b! });
        else if (kind === 'B') got.batches.push(a!);
        else if (kind === 'F') got.files.push({ id: a!, i: Number(b) });
        if (got.usage.length >= killAfter && got.files.length >= 1 && !killed) {
          killed = true;
          proc.kill('SIGKILL');
        }
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve(got);
      else reject(new Error(`writer exited with ${code ?? signal} before being killed; stderr: ${stderr}`));
    });
  });
}

describe('crash safety', () => {
  it('keeps every committed row and file after the writer is killed with SIGKILL mid-write, several times over', { timeout: 180_000 }, async () => {
    const dataDir = tempDataDir();
    try {
      const all: Reported = { usage: [], audio: [], batches: [], files: [] };
      for (const [round, killAfter] of [
        [1, 150],
        [2, 400],
        [3, 77],
      ] as const) {
        const got = await runAndKill(dataDir, round, killAfter);
        all.usage.push(...got.usage);
        all.audio.push(...got.audio);
        all.batches.push(...got.batches);
        all.files.push(...got.files);

        const store = openStore({ dataDir, orphanGraceMs: 0 });
        try {
          assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
          const has = store.db.prepare('SELECT 1 FROM usage_events WHERE request_id = ?');
          for (const id of all.usage) assert.ok(has.get(id), `usage row ${id} lost`);
          for (const a of all.audio) assert.equal(store.audio.get(a.id, hashApiKey('sk-crash'))?.transcript, a.transcript, `audio ${a.id} lost`);
          // Every big transaction is all or nothing, and every reported one is all there.
          const perBatch = new Map<string, number>();
          for (const { request_id: id } of store.db.prepare("SELECT request_id FROM usage_events WHERE request_id GLOB 'r*-b*-*'").all() as {
            request_id: string;
          }[]) {
            const batch = id.slice(0, id.lastIndexOf('-'));
            perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
          }
          for (const [batch, n] of perBatch) assert.equal(n, 200, `batch ${batch} is partial`);
          for (const b of all.batches) assert.ok(perBatch.has(b), `batch ${b} lost`);
          assert.ok(perBatch.size >= all.batches.length);
          for (const f of all.files) {
            const body = store.files.openContent(f.id, key);
            assert.ok(body, `file ${f.id} lost`);
            assert.equal(await text(body), `line ${f.i}\n`.repeat(2000));
          }
          assert.deepEqual(
            fs.readdirSync(path.join(dataDir, 'files')).filter((n) => n.endsWith('.part')),
            [],
          );
          const rows = (store.db.prepare('SELECT id FROM files WHERE deleted_at IS NULL').all() as { id: string }[]).map((r) => r.id).sort();
          assert.deepEqual(fs.readdirSync(path.join(dataDir, 'files')).sort(), rows, 'files on disk match live rows');
        } finally {
          store.close();
        }
      }
      assert.ok(all.usage.length >= 150 + 400 + 77);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
