import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../../test/helpers/server.js';
import { loadConfig } from '../config/index.js';
import { hashApiKey } from '../store/context.js';
import { openStore } from '../store/db.js';
import { NO_USAGE } from '../store/usage.js';
import { formatTable, parseTime, usageTable } from './usage.js';

test('times: unix seconds, ISO dates, ages and now', () => {
  const now = 1_800_000_000;
  assert.equal(parseTime('now', now, '--since'), now);
  assert.equal(parseTime('1700000000', now, '--since'), 1_700_000_000);
  assert.equal(parseTime('7d', now, '--since'), now - 7 * 86_400);
  assert.equal(parseTime('90m', now, '--since'), now - 5400);
  assert.equal(parseTime('2026-12-01T00:00:00Z', now, '--since'), Date.UTC(2026, 11, 1) / 1000);
  assert.throws(() => parseTime('yesterday-ish', now, '--since'), /--since: expected/);
});

test('the table sums the ledger per group, with both costs; `parley usage` prints it', async () => {
  const dir = tempDir('parley-usage-cli-');
  try {
    const store = openStore({ dataDir: dir });
    const key = hashApiKey('sk-cli');
    const base = { ...NO_USAGE, owner: key, createdAt: 1_000_000 };
    store.usage.record({
      ...base,
      requestId: 'a',
      endpoint: '/v1/audio/speech',
      model: 'tts-1',
      characters: 40,
      audioOutSec: 3,
      completionAudioTokens: 60,
      promptTextTokens: 10,
      engineSec: 36,
    });
    store.usage.record({
      ...base,
      requestId: 'b',
      endpoint: '/v1/audio/speech',
      model: 'tts-1',
      characters: 2,
      audioOutSec: 0.5,
      completionAudioTokens: 10,
      promptTextTokens: 1,
      engineSec: 0,
    });
    store.usage.record({ ...base, requestId: 'c', endpoint: '/v1/moderations', model: 'omni-moderation-latest', promptTextTokens: 5 });
    store.close();
    const config = loadConfig({ env: { PARLEY_DATA_DIR: dir, PARLEY_CORE_HOUR_USD: '1' } });
    const rows = usageTable(config, { since: 999_000, until: 1_001_000, groupBy: ['kind', 'key'] });
    const [header, ...body] = rows;
    const col = (name: string) => header!.indexOf(name);
    const speech = body.find((r) => r[col('kind')] === 'audio_speeches')!;
    assert.equal(speech[col('key')], `key_${key.slice(0, 16)}`);
    assert.deepEqual([speech[col('requests')], speech[col('characters')], speech[col('engine (core-s)')]], ['2', '42', '36.0']);
    assert.equal(speech[col('Parley $')], '0.0100', '36 core-seconds at $1 per core-hour');
    assert.equal(body.find((r) => r[col('kind')] === 'moderations')![col('OpenAI list $')], '0', 'moderations are free');
    assert.match(formatTable(rows), /^kind +key +requests/);

    const main = path.resolve(import.meta.dirname, 'main.ts');
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', main, 'usage', '--data-dir', dir, '--since', '999000', '--until', '1001000', '--group-by', 'model'],
      { env: { ...process.env, PARLEY_LOG_LEVEL: 'silent' } },
    );
    assert.match(stdout, /^model +requests/m);
    assert.match(stdout, /^tts-1 +2 /m);
    const help = await run(process.execPath, ['--import', 'tsx', main, 'usage', '--help']);
    assert.match(help.stdout, /--group-by <fields>/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
