import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Speaker } from '../src/pipeline/speak.js';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Wraps a pipeline's speaker to count the passages it is asked to speak. */
function countPassages(server: TestServer, model?: string): { count(): number; restore(): void } {
  const engines = server.runtime.services.engines(model);
  const original = engines.speaker;
  let n = 0;
  const spy: Speaker = {
    ...original,
    voiceNames: () => original.voiceNames(),
    synthesize: (r) => {
      n++;
      return original.synthesize(r);
    },
  };
  engines.speaker = spy;
  return { count: () => n, restore: () => void (engines.speaker = original) };
}

describe('model names resolve to pipelines of engines', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = tempDir('parley-pipelines-');
    const model = path.join(dir, 'tiny.gguf');
    writeTinyGguf(model, { asciiOnly: true });
    const config = path.join(dir, 'parley.yaml');
    fs.writeFileSync(
      config,
      [
        'models:',
        '  my-deployment: gpt-4o-mini-audio-preview',
        '  support-line-es:',
        '    capability: chat',
        '    tts: { engine: espeak-ng }',
        '  narrator:',
        '    capability: speech',
        '    tts: { engine: espeak-ng }',
        '    voiceMap: { alloy: { voice: es } }',
      ].join('\n'),
    );
    server = await startTestServer({ PARLEY_CONFIG: config, PARLEY_LLM_MODEL: model, PARLEY_ASR_ENGINE: 'pocketsphinx' });
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the built-in names run on the default pipeline, an alias object on its own engines', () => {
    const s = server.runtime.services;
    assert.equal(s.engines('gpt-4o-mini-audio-preview').voiceTable().engine, 'flite');
    assert.equal(s.engines('my-deployment'), s.engines(), 'a plain alias is the model it names');
    assert.equal(s.engines('support-line-es').voiceTable().engine, 'espeak-ng');
    assert.equal(
      s
        .engines('narrator')
        .voiceTable()
        .map.find((r) => r.name === 'alloy')?.voice,
      'es',
    );
    assert.equal(s.engines('support-line-es').llm, s.engines('support-line-es').llm);
  });

  test('lists pipeline aliases as models and serves each on its capability only', async () => {
    const ids = (await server.client.models.list()).data.map((m) => m.id);
    assert.ok(ids.includes('support-line-es') && ids.includes('narrator') && ids.includes('my-deployment'));
    await assert.rejects(server.client.audio.speech.create({ model: 'support-line-es', voice: 'alloy', input: 'Hola.' }), { status: 400 });
  });

  test('a chat turn on an alias speaks with that pipeline’s voice, not the default one', async () => {
    const mine = countPassages(server, 'support-line-es');
    const theirs = countPassages(server);
    try {
      const res = await server.client.chat.completions.create({
        model: 'support-line-es',
        modalities: ['text', 'audio'],
        audio: { voice: 'alloy', format: 'wav' },
        messages: [{ role: 'user', content: 'Hola, ¿qué tal?' }],
        max_tokens: 24,
        seed: 3,
      });
      assert.ok(res.choices[0]!.message.audio?.data);
      assert.ok(mine.count() > 0, 'the alias pipeline spoke');
      assert.equal(theirs.count(), 0, 'the default pipeline did not');
    } finally {
      mine.restore();
      theirs.restore();
    }
  });

  test('speech on a speech alias uses its voice map', async () => {
    const mine = countPassages(server, 'narrator');
    try {
      const audio = await server.client.audio.speech.create({ model: 'narrator', voice: 'alloy', input: 'Buenos días a todos.', response_format: 'wav' });
      assert.ok((await audio.arrayBuffer()).byteLength > 1000);
      assert.ok(mine.count() > 0);
    } finally {
      mine.restore();
    }
  });
});

describe('parley chat', () => {
  test('runs a turn in-process through the pipeline, also when API keys are configured', () => {
    const dir = tempDir('parley-cli-chat-');
    try {
      const model = path.join(dir, 'tiny.gguf');
      writeTinyGguf(model, { asciiOnly: true });
      const out = path.join(dir, 'reply.wav');
      const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'chat', 'hello there', '--max-tokens', '12', '-o', out], {
        cwd: ROOT,
        env: { ...process.env, PARLEY_API_KEYS: 'k', PARLEY_DATA_DIR: dir, PARLEY_LLM_MODEL: model, PARLEY_OFFLINE: '1', PARLEY_ASR_ENGINE: 'pocketsphinx' },
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(res.status, 0, res.stderr);
      assert.ok(res.stdout.trim().length > 0, 'the answer is printed');
      assert.equal(fs.readFileSync(out).toString('ascii', 0, 4), 'RIFF', 'the spoken answer is written');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
