/**
 * `npm run load -- diskfull`: the data folder on a small tmpfs (LOAD_DISK_MB, default 48; `mount`
 * needs root; without it the scenario says so and stops). A filler file takes the space until
 * LOAD_DISK_FREE_KB (default 256) are left, then all of it: uploads, chat with audio out (its
 * reply audio is stored), speech, batch creation and a running batch go on meanwhile. Pass: every
 * answer is 2xx, 4xx, 507 `insufficient_storage` or 503 — no 500, no crash; no `.part` file is
 * left; SQLite's integrity_check is ok; and once the filler is removed, uploads, chat and the
 * batch succeed again without a restart.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../src/store/db.js';
import {
  byStatus,
  chatRequest,
  conditions,
  line,
  multipart,
  type Outcome,
  type RequestSpec,
  type ServerProcess,
  send,
  serverFaults,
  sleep,
  speechRequest,
  startServer,
  tempDir,
  tinyModel,
} from './lib.js';

const DISK_MB = Number(process.env.LOAD_DISK_MB ?? 48);
const FREE_KB = Number(process.env.LOAD_DISK_FREE_KB ?? 256);

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Fills `dir`'s file system with `file` until `leave` bytes are free (or none). */
function fill(file: string, leave: number): void {
  const fd = fs.openSync(file, 'a');
  try {
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (;;) {
      const room = freeBytes(path.dirname(file)) - leave;
      if (room <= 0) break;
      try {
        fs.writeSync(fd, chunk, 0, Math.min(chunk.length, room));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

function upload(bytes: number): RequestSpec {
  const { body, contentType } = multipart({ purpose: 'user_data' }, { name: 'file', filename: 'big.bin', data: Buffer.alloc(bytes, 'u') });
  return { path: '/v1/files', headers: { 'content-type': contentType }, body };
}

function batchInput(n: number, tag: string): RequestSpec {
  const text = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${tag}-${i}`,
      method: 'POST',
      url: '/v1/audio/speech',
      body: { model: 'tts-1', voice: 'alloy', input: `Line ${i} of the batch, said at some length so that it takes a while.`, response_format: 'wav' },
    }),
  ).join('\n');
  const { body, contentType } = multipart({ purpose: 'batch' }, { name: 'file', filename: 'in.jsonl', data: Buffer.from(`${text}\n`) });
  return { path: '/v1/files', headers: { 'content-type': contentType }, body, keepBody: true };
}

async function createBatch(url: string, n: number, tag: string): Promise<{ file: Outcome; batch?: Outcome; id?: string }> {
  const file = await send(url, batchInput(n, tag));
  if (file.status !== 200) return { file };
  const fileId = (JSON.parse(file.text!) as { id: string }).id;
  const batch = await send(url, {
    path: '/v1/batches',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input_file_id: fileId, endpoint: '/v1/audio/speech', completion_window: '24h' }),
    keepBody: true,
  });
  return { file, batch, id: batch.status === 200 ? (JSON.parse(batch.text!) as { id: string }).id : undefined };
}

async function batchStatus(url: string, id: string): Promise<{ status: string; request_counts: Record<string, number> }> {
  return (await (await fetch(`${url}/v1/batches/${id}`)).json()) as { status: string; request_counts: Record<string, number> };
}

export default async function diskfull(): Promise<boolean> {
  console.log(`conditions: ${conditions()}; tmpfs of ${DISK_MB} MB`);
  const dir = tempDir('parley-diskfull-');
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_MB}m`, 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    console.log(`  cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()}): run as root, or on a machine that permits mount`);
    fs.rmSync(dir, { recursive: true, force: true });
    return false;
  }
  const dataDir = path.join(mnt, 'data');
  fs.mkdirSync(dataDir);
  const filler = path.join(mnt, 'filler');
  let server: ServerProcess | undefined;
  let ok = true;
  const fail = (why: string) => {
    ok = false;
    console.log(`   FAIL: ${why}`);
  };
  const all: Outcome[] = [];
  const track = async (label: string, spec: RequestSpec): Promise<Outcome> => {
    const o = await send(server!.url, spec);
    all.push(o);
    line(label, `${o.status}${o.code ? ` ${o.code}` : ''}${o.error ? ` ${o.error}` : ''}`);
    return o;
  };
  try {
    server = await startServer({ dataDir, env: { PARLEY_LLM_MODEL: tinyModel(dir) } });
    const url = server.url;
    const audioChat = chatRequest('Say hello.', { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, max_tokens: 12 });
    // Warm, and start a batch that will run through the full disk.
    await track('before: upload 1 MB', upload(1024 * 1024));
    await track('before: chat with audio out', audioChat);
    const running = await createBatch(url, 30, 'run');
    line('before: batch created', `${running.batch?.status} ${running.id}`);

    for (const leave of [FREE_KB * 1024, 0]) {
      fill(filler, leave);
      line(`disk filled: ${Math.round(freeBytes(mnt) / 1024)} KB free`, '');
      await track('  upload 2 MB', upload(2 * 1024 * 1024));
      await track('  upload 100 KB', upload(100 * 1024));
      for (let i = 0; i < 3; i++) await track(`  chat with audio out #${i + 1}`, audioChat);
      await track('  text chat', chatRequest());
      await track('  speech (no disk)', speechRequest('mp3'));
      const b = await createBatch(url, 3, `full${leave}`);
      all.push(b.file, ...(b.batch ? [b.batch] : []));
      line(
        '  batch upload / create',
        `${b.file.status}${b.file.code ? ` ${b.file.code}` : ''} / ${b.batch ? `${b.batch.status}${b.batch.code ? ` ${b.batch.code}` : ''}` : '-'}`,
      );
      if (running.id) line('  running batch', await batchStatus(url, running.id).then((s) => `${s.status} ${JSON.stringify(s.request_counts)}`));
      await sleep(2000);
    }
    const parts = fs.readdirSync(path.join(dataDir, 'files')).filter((n) => n.endsWith('.part'));
    line('.part files left', parts.length);
    if (parts.length > 0) fail('.part files left behind');
    const alive = server.child.exitCode === null && server.child.signalCode === null;
    line('server alive while full', alive);
    if (!alive) fail(`the server died: ${server.stderr().slice(-2000)}`);

    // Space returns.
    fs.rmSync(filler);
    line(`space returned: ${Math.round(freeBytes(mnt) / 1024 / 1024)} MB free`, '');
    const again = await track('  upload 2 MB', upload(2 * 1024 * 1024));
    const chat = await track('  chat with audio out', audioChat);
    const fresh = await createBatch(url, 3, 'after');
    line('  new batch', `${fresh.batch?.status} ${fresh.id}`);
    if (again.status !== 200 || chat.status !== 200 || !fresh.id) fail('no recovery once space returned');
    for (const id of [running.id, fresh.id]) {
      if (!id) continue;
      const deadline = Date.now() + 300_000;
      let s = await batchStatus(url, id);
      while (!['completed', 'failed', 'expired', 'cancelled'].includes(s.status) && Date.now() < deadline) {
        await sleep(1000);
        s = await batchStatus(url, id);
      }
      line(`  batch ${id.slice(0, 14)}…`, `${s.status} ${JSON.stringify(s.request_counts)}`);
      if (s.status !== 'completed') fail(`batch ${id} did not complete`);
    }
    const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
    const check = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
    db.close();
    line('integrity_check', check);
    if (check !== 'ok') fail('integrity_check');
    const statuses = byStatus(all);
    line('all answers by status', statuses);
    const bad = all.filter((o) => o.status === 0 || (o.status >= 500 && o.status !== 507 && o.status !== 503));
    const wrong507 = all.filter((o) => o.status === 507 && o.code !== 'insufficient_storage');
    if (bad.length > 0 || wrong507.length > 0) fail(`answers other than 2xx/4xx/507/503: ${JSON.stringify(byStatus(bad))}`);
    const faults = serverFaults(server.log);
    line('500s logged / errors logged', `${faults.fiveXx.filter((l) => l.res?.statusCode === 500).length} / ${faults.errors.length}`);
    for (const l of faults.errors.slice(0, 5)) console.log('   error:', JSON.stringify(l).slice(0, 600));
    if (faults.errors.length > 0) fail('errors logged');
  } finally {
    await server?.stop();
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch (e) {
      console.log(`  umount failed: ${e}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  line('verdict', ok ? 'PASS' : 'FAIL');
  return ok;
}
