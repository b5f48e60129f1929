/**
 * `npm run load -- kill9`: `kill -9` of the server while it takes slow uploads (chunked, cut by
 * the kill), streams long speech, and runs a 40-line speech batch (plus a chat batch), in
 * LOAD_KILLS (default 2) rounds on one data folder. After each kill: SQLite `PRAGMA
 * integrity_check` on the folder as the crash left it; restart on the same folder; every listed
 * file's content is whole (its length = its `bytes`, and the uploads that finished are byte for
 * byte what was sent); no upload cut by the kill is listed. At the end every batch completes with
 * each custom_id exactly once in its output/error files, and integrity_check is ok again.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import OpenAI, { toFile } from 'openai';
import { DATABASE_FILE } from '../../src/store/db.js';
import { childProcesses, conditions, line, type ServerProcess, send, sleep, speechRequest, startServer, tempDir, tinyModel } from './lib.js';

const KILLS = Number(process.env.LOAD_KILLS ?? 2);

/** Uploads `total` bytes in 64 KiB chunks every `everyMs` without a Content-Length (cut when the server dies). */
function slowUpload(url: string, total: number, everyMs: number): Promise<number> {
  return new Promise((resolve) => {
    const boundary = 'kill9-boundary';
    const req = http.request(`${url}/v1/files`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.write(
      `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n`,
    );
    let sent = 0;
    const tick = () => {
      if (req.destroyed) return;
      if (sent >= total) {
        req.end(`\r\n--${boundary}--\r\n`);
        return;
      }
      req.write(Buffer.alloc(65_536, 's'));
      sent += 65_536;
      setTimeout(tick, everyMs);
    };
    tick();
  });
}

function integrity(dataDir: string): string {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

export default async function kill9(): Promise<boolean> {
  console.log(`conditions: ${conditions()}; ${KILLS} kills`);
  const dir = tempDir('parley-kill9-');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const env = { PARLEY_LLM_MODEL: tinyModel(dir) };
  let server: ServerProcess = await startServer({ dataDir, env });
  const port = server.port;
  let ok = true;
  const fail = (why: string) => {
    ok = false;
    console.log(`   FAIL: ${why}`);
  };
  const client = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-none', maxRetries: 0, timeout: 60_000 });
  const whole = new Map<string, string>(); // file id → sha256 of what was sent
  const batches: Array<{ id: string; ids: string[] }> = [];
  try {
    for (let round = 0; round < KILLS; round++) {
      const c = client();
      // A batch: 40 speech lines, then a chat batch.
      const lines = Array.from({ length: 40 }, (_, i) => ({
        custom_id: `r${round}-s${i}`,
        method: 'POST',
        url: '/v1/audio/speech',
        body: { model: 'tts-1', voice: 'alloy', input: `Round ${round}, line number ${i} of the batch.`, response_format: 'wav' },
      }));
      const input = await c.files.create({
        file: await toFile(Buffer.from(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`), 'in.jsonl'),
        purpose: 'batch',
      });
      const batch = await c.batches.create({ input_file_id: input.id, endpoint: '/v1/audio/speech' as '/v1/chat/completions', completion_window: '24h' });
      batches.push({ id: batch.id, ids: lines.map((l) => l.custom_id) });
      const chatLines = Array.from({ length: 10 }, (_, i) => ({
        custom_id: `r${round}-c${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gpt-4o-mini-audio-preview', messages: [{ role: 'user', content: `Hello ${i}` }], max_tokens: 8 },
      }));
      const chatInput = await c.files.create({
        file: await toFile(Buffer.from(`${chatLines.map((l) => JSON.stringify(l)).join('\n')}\n`), 'chat.jsonl'),
        purpose: 'batch',
      });
      const chatBatch = await c.batches.create({ input_file_id: chatInput.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      batches.push({ id: chatBatch.id, ids: chatLines.map((l) => l.custom_id) });
      // Finished uploads whose bytes must survive.
      for (let i = 0; i < 3; i++) {
        const data = crypto.randomBytes(300_000 + i);
        const f = await c.files.create({ file: await toFile(data, `kept-${round}-${i}.bin`), purpose: 'user_data' });
        whole.set(f.id, crypto.createHash('sha256').update(data).digest('hex'));
      }
      // In flight at the kill: slow uploads (64 MB at 1.3 MB/s), long speech streams.
      const uploads = Array.from({ length: 4 }, () => slowUpload(server.url, 64 * 1024 * 1024, 50));
      const streams = Array.from({ length: 4 }, (_, i) => send(server.url, speechRequest(i % 2 ? 'mp3' : 'wav', 'A long answer. '.repeat(40))));
      // Kill once the batch has made some progress.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const b = await c.batches.retrieve(batch.id);
        if ((b.request_counts?.completed ?? 0) >= 5 || Date.now() > deadline) break;
        await sleep(200);
      }
      const before = await c.batches.retrieve(batch.id);
      process.kill(server.pid, 'SIGKILL');
      await server.exited;
      const orphans = childProcesses(server.pid);
      const uploadStatuses = await Promise.all(uploads);
      await Promise.all(streams);
      const finishedSlow = uploadStatuses.filter((st) => st === 200).length;
      const parts = fs.readdirSync(path.join(dataDir, 'files')).filter((n) => n.endsWith('.part')).length;
      const check = integrity(dataDir);
      line(
        `round ${round + 1}: killed`,
        `batch at ${before.request_counts?.completed}/${before.request_counts?.total} (${before.status}); 4 uploads and 4 streams in flight`,
      );
      line('  integrity_check after the kill', check);
      line('  .part files left on disk (never listed)', parts);
      line('  children of the dead server', orphans);
      if (check !== 'ok') fail('integrity_check after kill');
      server = await startServer({ dataDir, env, port });
      const c2 = client();
      const listed = (await c2.files.list()).data;
      let wrong = 0;
      let slowListed = 0;
      for (const f of listed) {
        const bytes = Buffer.from(await (await c2.files.content(f.id)).arrayBuffer());
        if (bytes.length !== f.bytes) wrong++;
        const want = whole.get(f.id);
        if (want && crypto.createHash('sha256').update(bytes).digest('hex') !== want) wrong++;
        if (f.filename === 'slow.bin') slowListed++;
      }
      if (slowListed !== finishedSlow) wrong++;
      const missing = [...whole.keys()].filter((id) => !listed.some((f) => f.id === id));
      line(
        '  after restart: files listed / not whole / lost',
        `${listed.length} / ${wrong} / ${missing.length} (cut uploads listed: ${slowListed - finishedSlow})`,
      );
      if (wrong > 0 || missing.length > 0) fail('a listed file is not whole, a cut upload is listed, or a finished upload was lost');
    }
    // Every batch completes, each line exactly once.
    const c = client();
    for (const b of batches) {
      const deadline = Date.now() + 300_000;
      let batch = await c.batches.retrieve(b.id);
      while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status) && Date.now() < deadline) {
        await sleep(500);
        batch = await c.batches.retrieve(b.id);
      }
      const seen: string[] = [];
      for (const fid of [batch.output_file_id, batch.error_file_id]) {
        if (!fid) continue;
        const text = await (await c.files.content(fid)).text();
        for (const l of text.split('\n').filter(Boolean)) seen.push((JSON.parse(l) as { custom_id: string }).custom_id);
      }
      const once = b.ids.every((id) => seen.filter((s) => s === id).length === 1) && seen.length === b.ids.length;
      line(
        `batch ${b.id.slice(0, 14)}…`,
        `${batch.status}: ${batch.request_counts?.completed} completed, ${batch.request_counts?.failed} failed; each line exactly once: ${once}`,
      );
      if (batch.status !== 'completed' || !once) fail(`batch ${b.id}`);
    }
    const check = integrity(dataDir);
    line('integrity_check at the end', check);
    if (check !== 'ok') fail('integrity_check at the end');
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  line('verdict', ok ? 'PASS' : 'FAIL');
  return ok;
}
