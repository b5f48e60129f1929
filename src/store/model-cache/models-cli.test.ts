/** `parley models …` driven through commander in-process, against a local server (as a mirror). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Command } from 'commander';
import { type ModelsCommandOptions, modelsCommand } from '../../cli/models.js';
import type { ModelStatus } from './cache.js';
import type { CatalogueEntry } from './catalogue.js';
import { randomFile, startTestServer, type TestServer } from './test-server.js';

const weights = randomFile(2 * 1024 * 1024);
const catalogue: CatalogueEntry[] = [
  {
    name: 'demo-asr',
    kind: 'asr',
    engine: 'test',
    description: 'one file',
    licence: 'MIT',
    main: 'ggml-demo.bin',
    // A host that cannot resolve: only the mirror makes this downloadable.
    files: [{ path: 'ggml-demo.bin', url: 'https://models.invalid/org/demo/resolve/abc/ggml-demo.bin', sha256: weights.sha256, size: weights.data.length }],
  },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `parley models …ARGS` in-process with `options`, capturing both streams and the exit code. */
async function runModels(options: ModelsCommandOptions, args: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const program = new Command('parley').exitOverride();
  program.addCommand(modelsCommand(async () => options, { stdout, stderr }));
  const before = process.exitCode;
  process.exitCode = undefined;
  let code = 0;
  try {
    await program.parseAsync(['models', ...args], { from: 'user' });
    code = Number(process.exitCode ?? 0);
  } finally {
    process.exitCode = before;
  }
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe('parley models', () => {
  let server: TestServer;
  let dir: string;
  let options: ModelsCommandOptions;

  before(async () => {
    server = await startTestServer({ '/org/demo/resolve/abc/ggml-demo.bin': weights.data });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'parley-models-cli-'));
    options = { modelsDir: dir, offline: false, mirror: server.url, catalogue, download: { retryDelayMs: 5 } };
    server.requests.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const parley = (...args: string[]): Promise<Run> => runModels(options, args);

  it('lists the catalogue as JSON', async () => {
    const run = await parley('list', '--json');
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as ModelStatus[];
    assert.deepEqual(
      rows.map((r) => [r.name, r.kind, r.installed, r.size]),
      [['demo-asr', 'asr', false, weights.data.length]],
    );
    assert.equal(rows[0]!.files[0]!.url, `${server.url}/org/demo/resolve/abc/ggml-demo.bin`);
  });

  it('pulls a model through the mirror, printing its path and plain progress lines', async () => {
    const run = await parley('pull', 'demo-asr');
    assert.equal(run.code, 0, run.stderr);
    const installed = path.join(dir, 'demo-asr', 'ggml-demo.bin');
    assert.equal(run.stdout, `${installed}\n`);
    assert.deepEqual(await readFile(installed), weights.data);
    assert.match(run.stderr, /^Pulling demo-asr \(2\.10 MB, 1 file\)/);
    assert.match(run.stderr, /demo-asr: 100% \(2\.10 MB of 2\.10 MB/);
    assert.match(run.stderr, /demo-asr is ready: downloaded 1 file/);
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ['/org/demo/resolve/abc/ggml-demo.bin'],
    );

    const list = JSON.parse((await parley('list', '--json')).stdout) as ModelStatus[];
    assert.equal(list[0]!.installed, true);
  });

  it('prints a table with name, kind, size and installed state', async () => {
    await parley('pull', 'demo-asr');
    const run = await parley('list');
    assert.equal(run.code, 0);
    const lines = run.stdout.split('\n');
    assert.match(lines[0]!, /^NAME\s+KIND\s+SIZE\s+INSTALLED$/);
    assert.match(lines[1]!, /^demo-asr\s+asr\s+2\.10 MB\s+yes$/);
    assert.ok(run.stdout.includes(`Models folder: ${dir}`));
  });

  it('removes a model', async () => {
    await parley('pull', 'demo-asr');
    const run = await parley('rm', 'demo-asr');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Removed demo-asr \(2\.10 MB freed\)\.$/m);
    assert.equal(existsSync(path.join(dir, 'demo-asr')), false);
  });

  it('exits 1 with the message and no stack trace on failure', async () => {
    const run = await parley('pull', 'no-such-model');
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "parley: Unknown model 'no-such-model'. Models that can be pulled: demo-asr.\n");
  });

  it('refuses to download when offline and says what to do instead', async () => {
    options = { ...options, offline: true };
    const run = await parley('pull', 'demo-asr');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /parley: PARLEY_OFFLINE=1: not downloading model 'demo-asr'/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.equal(server.requests.length, 0);
  });

  it('explains each subcommand in --help', async () => {
    const program = new Command('parley').exitOverride();
    let help = '';
    const models = modelsCommand(async () => options, {
      stdout: new PassThrough().on('data', (c: Buffer) => (help += c.toString())),
      stderr: new PassThrough(),
    });
    program.addCommand(models);
    for (const sub of models.commands) sub.exitOverride();
    await assert.rejects(program.parseAsync(['models', 'pull', '--help'], { from: 'user' }), { code: 'commander.helpDisplayed' });
    assert.match(help, /Usage: parley models pull \[options\] <name>/);
    assert.match(help, /resumes an interrupted download, verifies\s+sha256/);
  });
});

describe('parley models pull recommended', () => {
  // Every model the recommendation can name, each a small file on the local server.
  const names = [
    'sensevoice-small-int8',
    'moonshine-tiny-en-int8',
    'kokoro-82m-int8',
    'piper-en_US-amy-medium',
    'qwen2.5-0.5b-instruct',
    'qwen2.5-1.5b-instruct',
  ];
  const files = new Map(names.map((n) => [n, randomFile(64 * 1024)]));
  const recommendedCatalogue: CatalogueEntry[] = names.map((name) => ({
    name,
    kind: name.startsWith('qwen') ? 'llm' : name.startsWith('sense') ? 'asr' : 'tts',
    engine: 'test',
    description: name,
    licence: 'MIT',
    main: 'model.bin',
    files: [{ path: 'model.bin', url: `https://models.invalid/${name}/model.bin`, sha256: files.get(name)!.sha256, size: 64 * 1024 }],
  }));
  let server: TestServer;
  let dir: string;

  before(async () => {
    server = await startTestServer(Object.fromEntries(names.map((n) => [`/${n}/model.bin`, files.get(n)!.data])));
    dir = await mkdtemp(path.join(tmpdir(), 'parley-models-recommended-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("fetches the set chosen for this machine's RAM and CPU, saying what and why first, with progress", async () => {
    const { recommendedModels, thisMachine } = await import('../../runtime/recommended.js');
    const { ModelCache } = await import('./cache.js');
    const expected = recommendedModels(thisMachine(), new ModelCache(dir, { offline: true, catalogue: recommendedCatalogue })).map((r) => r.model);
    assert.equal(expected.length, 3);
    const options: ModelsCommandOptions = {
      modelsDir: dir,
      offline: false,
      mirror: server.url,
      catalogue: recommendedCatalogue,
      download: { retryDelayMs: 5 },
    };
    const run = await runModels(options, ['pull', 'recommended']);
    assert.equal(run.code, 0, run.stderr);
    const text = run.stderr;
    assert.match(text, /^Recommended for this machine \(196\.6 kB to download\):/);
    for (const name of expected) {
      assert.match(text, new RegExp(`  ${name.replace(/\./g, '\\.')} \\(\\w+, 65\\.5 kB\\): `));
      assert.match(text, new RegExp(`${name.replace(/\./g, '\\.')}: 100%`));
      assert.deepEqual(await readFile(path.join(dir, name, 'model.bin')), files.get(name)!.data);
    }
    assert.deepEqual(
      run.stdout.trim().split('\n'),
      expected.map((n) => path.join(dir, n, 'model.bin')),
    );
    assert.deepEqual(
      server.requests.map((r) => r.path),
      expected.map((n) => `/${n}/model.bin`),
    );
  });
});
