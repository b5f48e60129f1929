import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { probe } from './helpers/audio.js';
import { assertEachOnce, type InputLine, readResults, speechLines, submitBatch, waitForBatch } from './helpers/batch.js';
import { expectApiError } from './helpers/errors.js';
import { assertMatchesSchema } from './helpers/openapi.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'sk-batch-a';
const OTHER_KEY = 'sk-batch-b';
const QUESTION = fs.readFileSync(path.join(ROOT, 'test/fixtures/speech/librivox-0880.wav'));
const MODEL = 'gpt-4o-mini-audio-preview';

/**
 * OpenAI's 2025-01 spec lists the batch timestamps and file ids without `nullable`, but the API
 * (and its own example object) sends null until they are reached: check the rest of the shape.
 */
function assertBatchShape(batch: object): void {
  assertMatchesSchema('Batch', Object.fromEntries(Object.entries(batch).filter(([, v]) => v !== null)));
}

/** Runs the CLI in a child process (async: the server under test lives in this process). */
function runCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function chatLine(customId: string, extra: Record<string, unknown>, content: unknown = 'Say hello.'): InputLine {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: MODEL, messages: [{ role: 'user', content }], max_tokens: 12, seed: 3, temperature: 0, ...extra },
  };
}

describe('/v1/batches with the embedded worker, through the official SDK', () => {
  let server: TestServer;
  let client: OpenAI;
  let dir: string;
  before(async () => {
    dir = tempDir('parley-batch-');
    const model = path.join(dir, 'tiny.gguf');
    writeTinyGguf(model);
    server = await startTestServer(
      { PARLEY_API_KEYS: `${KEY},${OTHER_KEY}`, PARLEY_LLM_MODEL: model, PARLEY_ASR_ENGINE: 'pocketsphinx' },
      { batch: { pollMs: 100 } },
    );
    client = server.client;
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('completes a mixed chat batch (audio out in several voices, audio in, text, a bad line) with the right counts and files', async () => {
    const lines: Array<InputLine | string> = [
      chatLine('alloy-wav', { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }),
      chatLine('echo-mp3', { modalities: ['text', 'audio'], audio: { voice: 'echo', format: 'mp3' } }),
      chatLine('shimmer-flac', { modalities: ['text', 'audio'], audio: { voice: 'shimmer', format: 'flac' } }),
      chatLine('text-only', {}),
      chatLine('heard', { modalities: ['text', 'audio'], audio: { voice: 'verse', format: 'wav' } }, [
        { type: 'input_audio', input_audio: { data: QUESTION.toString('base64'), format: 'wav' } },
      ]),
      '{"custom_id": "broken", "method": "POST", "url": ',
      chatLine('bad-voice', { modalities: ['text', 'audio'], audio: { voice: 'nobody', format: 'wav' } }),
    ];
    const created = await submitBatch(client, lines, '/v1/chat/completions', { metadata: { run: 'mixed' } });
    assertBatchShape(created);
    assert.equal(created.status, 'validating');
    assert.match(created.id, /^batch_[0-9a-f]{32}$/);
    assert.deepEqual(created.metadata, { run: 'mixed' });
    assert.equal(created.expires_at, created.created_at + 24 * 3600);

    const done = await waitForBatch(client, created.id);
    assertBatchShape(done);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.request_counts, { total: 7, completed: 5, failed: 2 });
    for (const t of [done.in_progress_at, done.finalizing_at, done.completed_at]) assert.ok(typeof t === 'number' && t >= done.created_at);
    assert.equal(done.failed_at, null);
    assert.equal(done.cancelled_at, null);
    assert.deepEqual(done.errors?.data, [{ code: 'invalid_json_line', message: 'Line 6: This line is not valid JSON.', param: null, line: 6 }]);

    const output = await readResults(client, done.output_file_id);
    const errors = await readResults(client, done.error_file_id);
    assertEachOnce(['alloy-wav', 'echo-mp3', 'shimmer-flac', 'text-only', 'heard', 'bad-voice'], output, errors);
    assert.deepEqual(
      output.map((l) => l.custom_id),
      ['alloy-wav', 'echo-mp3', 'shimmer-flac', 'text-only', 'heard'],
      'output in input order',
    );
    const outFile = await client.files.retrieve(done.output_file_id!);
    assert.equal(outFile.purpose, 'batch_output');
    assert.equal(outFile.filename, `${done.id}_output.jsonl`);
    for (const line of output) {
      assert.match(line.id, /^batch_req_[0-9a-f]{32}$/);
      assert.equal(line.error, null);
      assert.equal(line.response!.status_code, 200);
      assert.match(line.response!.request_id, /^req_/);
      assertMatchesSchema('CreateChatCompletionResponse', line.response!.body);
    }
    const byId = new Map(output.map((l) => [l.custom_id, l.response!.body]));
    for (const [id, ext] of [
      ['alloy-wav', 'wav'],
      ['echo-mp3', 'mp3'],
      ['shimmer-flac', 'flac'],
      ['heard', 'wav'],
    ] as const) {
      const audio = byId.get(id).choices[0].message.audio;
      assert.match(audio.id, /^audio_[0-9a-f]{32}$/);
      const info = probe(Buffer.from(audio.data, 'base64'), ext);
      if (audio.transcript.trim().length > 0) assert.ok(info.durationSec > 0.05, `${id}: ${info.durationSec} s`);
    }
    assert.ok(byId.get('heard').usage.prompt_tokens_details.audio_tokens > 0, 'the spoken question was heard and metered');
    assert.equal(typeof byId.get('text-only').choices[0].message.content, 'string');

    const broken = errors.find((l) => l.custom_id === null)!;
    assert.equal(broken.response, null);
    assert.equal(broken.error!.code, 'invalid_json_line');
    const badVoice = errors.find((l) => l.custom_id === 'bad-voice')!;
    assert.equal(badVoice.error, null);
    assert.equal(badVoice.response!.status_code, 400);
    assert.equal(badVoice.response!.body.error.code, 'invalid_value');
    assert.equal(badVoice.response!.body.error.param, 'audio.voice');
  });

  test('runs /v1/audio/speech and /v1/audio/transcriptions lines with the audio base64 in the JSON body', async () => {
    const speech = await submitBatch(
      client,
      [
        ...speechLines(2, () => 'The quick brown fox jumps over the lazy dog.', 'wav'),
        { ...speechLines(1, () => 'Hello there.', 'mp3')[0]!, custom_id: 'mp3' },
      ],
      '/v1/audio/speech',
    );
    const transcription = await submitBatch(
      client,
      [
        {
          custom_id: 'json',
          method: 'POST',
          url: '/v1/audio/transcriptions',
          body: { model: 'whisper-1', file: QUESTION.toString('base64'), filename: 'q.wav' },
        },
        {
          custom_id: 'text',
          method: 'POST',
          url: '/v1/audio/transcriptions',
          body: { model: 'whisper-1', file: QUESTION.toString('base64'), response_format: 'text' },
        },
        { custom_id: 'no-file', method: 'POST', url: '/v1/audio/transcriptions', body: { model: 'whisper-1' } },
      ],
      '/v1/audio/transcriptions',
    );
    const s = await waitForBatch(client, speech.id);
    assert.deepEqual(s.request_counts, { total: 3, completed: 3, failed: 0 });
    assert.equal(s.error_file_id, null);
    for (const line of await readResults(client, s.output_file_id)) {
      const body = line.response!.body as { audio: string; format: string; content_type: string };
      const ext = line.custom_id === 'mp3' ? 'mp3' : 'wav';
      assert.equal(body.format, ext);
      assert.equal(body.content_type, ext === 'mp3' ? 'audio/mpeg' : 'audio/wav');
      const bytes = Buffer.from(body.audio, 'base64');
      if (ext === 'wav') assert.equal(bytes.readUInt32LE(4), bytes.length - 8, 'whole WAV: the RIFF size is filled in');
      assert.ok(probe(bytes, ext).durationSec > 0.5);
    }
    const t = await waitForBatch(client, transcription.id);
    assert.deepEqual(t.request_counts, { total: 3, completed: 2, failed: 1 });
    const out = new Map((await readResults(client, t.output_file_id)).map((l) => [l.custom_id, l.response!.body]));
    assert.ok(typeof out.get('json').text === 'string' && out.get('json').text.length > 0);
    assert.ok(typeof out.get('text') === 'string' && out.get('text').length > 0);
    const [noFile] = await readResults(client, t.error_file_id);
    assert.equal(noFile!.response!.status_code, 400);
    assert.equal(noFile!.response!.body.error.param, 'file');
  });

  test('cancels mid-batch: no new line starts, finished lines are kept, the rest are reported once', async () => {
    const lines = speechLines(80);
    const created = await submitBatch(client, lines, '/v1/audio/speech');
    const running = await waitForBatch(client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 3);
    const cancelling = await client.batches.cancel(created.id);
    assert.ok(['cancelling', 'cancelled'].includes(cancelling.status));
    assert.ok(cancelling.cancelling_at !== null);
    const done = await waitForBatch(client, created.id);
    assert.equal(done.status, 'cancelled');
    assert.ok(done.cancelled_at !== null && done.completed_at === null);
    const completed = done.request_counts!.completed;
    assert.ok(completed >= running.request_counts!.completed && completed < 80, `completed ${completed}`);
    // In flight at most 2 × cores lines, plus what finished between the poll and the cancel.
    assert.ok(completed <= running.request_counts!.completed + 4 * server.config.concurrency + 2, 'only lines already running finished after the cancel');
    const output = await readResults(client, done.output_file_id);
    const errors = await readResults(client, done.error_file_id);
    assert.equal(output.length, completed);
    assert.ok(errors.every((l) => l.error?.code === 'batch_cancelled' && l.response === null));
    assertEachOnce(
      lines.map((l) => l.custom_id),
      output,
      errors,
    );
    // Cancelling again answers the batch as it is.
    assert.equal((await client.batches.cancel(created.id)).status, 'cancelled');
  });

  test('expires a batch at the end of its completion window, keeping what was done', async () => {
    const lines = speechLines(300, (i) => `This is line number ${i} of a batch that cannot finish in time.`);
    const created = await submitBatch(client, lines, '/v1/audio/speech', { window: '1s' });
    assert.equal(created.expires_at, created.created_at + 1);
    const done = await waitForBatch(client, created.id);
    assert.equal(done.status, 'expired', JSON.stringify(done.request_counts));
    assert.ok(typeof done.expired_at === 'number' && done.expired_at >= done.expires_at!);
    const output = await readResults(client, done.output_file_id);
    const errors = await readResults(client, done.error_file_id);
    assert.equal(output.length, done.request_counts!.completed);
    assert.ok(output.length < 300);
    assert.ok(errors.length > 0 && errors.every((l) => l.error?.code === 'batch_expired'));
    assertEachOnce(
      lines.map((l) => l.custom_id),
      output,
      errors,
    );
  });

  test('answers a live request promptly while a batch runs', async (t) => {
    const say = async () => {
      const t = performance.now();
      const res = await client.audio.speech.create({ model: 'tts-1', voice: 'echo', input: 'Is anyone there?', response_format: 'pcm' });
      await res.arrayBuffer();
      return performance.now() - t;
    };
    await say();
    const idle = Math.min(await say(), await say());
    const created = await submitBatch(
      client,
      speechLines(60, (i) => `Batch line number ${i} keeps the engines busy. It has three sentences. Each is synthesised on its own.`),
      '/v1/audio/speech',
    );
    await waitForBatch(client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 2);
    const busy: number[] = [];
    for (let i = 0; i < 3; i++) busy.push(await say());
    const during = await client.batches.retrieve(created.id);
    assert.equal(during.status, 'in_progress', 'the batch was still running');
    const worst = Math.max(...busy);
    t.diagnostic(`live speech: ${idle.toFixed(0)} ms idle, ${busy.map((b) => b.toFixed(0)).join('/')} ms during the batch`);
    assert.ok(worst < idle * 4 + 1500, `live request took ${worst.toFixed(0)} ms during the batch, ${idle.toFixed(0)} ms idle`);
    await client.batches.cancel(created.id);
    await waitForBatch(client, created.id);
  });

  test('lists, retrieves and refuses batches as OpenAI does', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submitBatch(client, speechLines(1), '/v1/audio/speech', { metadata: { n: String(i) } })).id);
    const page = await client.batches.list({ limit: 2 });
    assert.deepEqual(
      page.data.map((b) => b.id),
      [ids[2], ids[1]],
    );
    assert.equal(page.has_more, true);
    const next = await client.batches.list({ limit: 2, after: ids[1] });
    assert.equal(next.data[0]?.id, ids[0]);
    for (const b of next.data) assertBatchShape(b);
    for (const id of ids) await waitForBatch(client, id);

    const other = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: OTHER_KEY, maxRetries: 0 });
    await expectApiError(other.batches.retrieve(ids[0]!), 404, null);
    await expectApiError(other.batches.cancel(ids[0]!), 404, null);
    assert.ok(!(await other.batches.list()).data.some((b) => ids.includes(b.id)));
    await expectApiError(client.batches.retrieve('batch_nope'), 404, null);

    const file = await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'x.jsonl'), purpose: 'batch' });
    const notBatch = await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'x.jsonl'), purpose: 'user_data' });
    await expectApiError(
      client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' }),
      400,
      'invalid_value',
      'endpoint',
    );
    await expectApiError(
      client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: 'forever' as '24h' }),
      400,
      'invalid_value',
      'completion_window',
    );
    await expectApiError(
      client.batches.create({ input_file_id: notBatch.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
      400,
      'invalid_value',
      'input_file_id',
    );
    await expectApiError(
      client.batches.create({ input_file_id: 'file-000000000000000000000000', endpoint: '/v1/chat/completions', completion_window: '24h' }),
      404,
      null,
      'input_file_id',
    );
    await expectApiError(
      other.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
      404,
      null,
      'input_file_id',
    );
    await expectApiError(
      client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
      }),
      400,
      'object_above_max_properties',
      'metadata',
    );

    // A file with no valid request fails the batch, listing each problem with its line.
    const bad = await submitBatch(
      client,
      [
        'not json',
        '{"custom_id":"x","method":"GET","url":"/v1/audio/speech","body":{}}',
        { custom_id: 'y', method: 'POST', url: '/v1/chat/completions', body: {} },
      ],
      '/v1/audio/speech',
    );
    const failed = await waitForBatch(client, bad.id);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.failed_at !== null);
    assert.deepEqual(
      failed.errors?.data?.map((e) => [e.code, e.line]),
      [
        ['no_valid_requests', null],
        ['invalid_json_line', 1],
        ['invalid_value', 2],
        ['mismatched_url', 3],
      ],
    );
  });

  test('serves batches under Azure /openai/batches with Azure-style line urls', async () => {
    const azure = new AzureOpenAI({ endpoint: server.url, apiKey: KEY, apiVersion: '2025-01-01-preview', maxRetries: 0 });
    const text = `${JSON.stringify({ custom_id: 'az', method: 'POST', url: '/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content: 'Hi.' }], max_tokens: 4 } })}\n`;
    const file = await azure.files.create({ file: await toFile(Buffer.from(text), 'az.jsonl'), purpose: 'batch' });
    const created = await azure.batches.create({ input_file_id: file.id, endpoint: '/chat/completions' as '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForBatch(azure as unknown as OpenAI, created.id);
    assert.deepEqual(done.request_counts, { total: 1, completed: 1, failed: 0 });
    assert.equal((await readResults(client, done.output_file_id))[0]!.custom_id, 'az');
  });

  test('`parley batch submit --wait` shows progress and `parley batch results` prints the output', async () => {
    const file = path.join(dir, 'cli.jsonl');
    fs.writeFileSync(
      file,
      `${speechLines(4)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    );
    const cli = (...args: string[]) => runCli(['batch', ...args, '--url', server.url, '--key', KEY], { PARLEY_DATA_DIR: dir });
    const submit = await cli('submit', file, '--wait', '--interval', '200');
    assert.equal(submit.status, 0, submit.stderr);
    const id = submit.stdout.trim();
    assert.match(id, /^batch_[0-9a-f]{32}$/);
    assert.match(submit.stderr, /4\/4 lines \| completed/);
    assert.match(submit.stderr, /ETA/);
    const results = await cli('results', id);
    assert.equal(results.status, 0, results.stderr);
    assert.deepEqual(
      results.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).custom_id),
      ['s-0', 's-1', 's-2', 's-3'],
    );
    const status = await cli('status', id);
    assert.match(status.stdout, /completed/);
    assert.match((await cli('list')).stdout, new RegExp(id));
  });
});

/** A server in a child process on `dataDir` (SIGKILL-able). */
async function startChild(dataDir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/batch-server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_API_KEYS: KEY, PARLEY_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return { child, url: (JSON.parse(first) as { url: string }).url };
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('batch durability across kill -9 (a real server process)', () => {
  test('a batch killed three times mid-run completes on restart with every line exactly once', async () => {
    const dataDir = tempDir('parley-batch-crash-');
    const lines = speechLines(60, (i) => `Durable line ${i}, spoken once and only once.`);
    let server = await startChild(dataDir);
    try {
      const client = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
      const created = await submitBatch(client(), lines, '/v1/audio/speech');
      let lastCompleted = -1;
      for (const target of [4, 14, 24]) {
        const b = await waitForBatch(client(), created.id, (x) => (x.request_counts?.completed ?? 0) >= target || x.status === 'completed', 60_000);
        assert.notEqual(b.status, 'completed', 'the batch outran the kills: make it longer');
        assert.ok(b.request_counts!.completed >= lastCompleted, 'committed lines survive the kill');
        lastCompleted = b.request_counts!.completed;
        // Kill at an arbitrary moment, not right after a poll.
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
        await kill9(server.child);
        server = await startChild(dataDir);
      }
      const done = await waitForBatch(client(), created.id, undefined, 90_000);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 60, completed: 60, failed: 0 });
      const output = await readResults(client(), done.output_file_id);
      assert.equal(done.error_file_id, null);
      assertEachOnce(
        lines.map((l) => l.custom_id),
        output,
      );
      assert.deepEqual(
        output.map((l) => l.custom_id),
        lines.map((l) => l.custom_id),
      );
      for (const l of output.slice(0, 3)) assert.ok(probe(Buffer.from(l.response!.body.audio, 'base64'), 'wav').durationSec > 0.5);
      // Exactly one output file was written, and no partial file is left.
      const files = fs.readdirSync(path.join(dataDir, 'files'));
      assert.ok(
        files.every((f) => !f.endsWith('.part')),
        files.join(' '),
      );
      assert.equal((await client().files.list({ purpose: 'batch_output' })).data.length, 1);
    } finally {
      await kill9(server.child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
