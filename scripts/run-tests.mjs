#!/usr/bin/env node
// Runs every test file (unit tests beside the code in src/, contract tests in test/) with node's
// test runner and tsx. Pass file paths or name fragments to run a subset: `npm test -- speech`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
function walk(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else if (entry.name.endsWith('.test.ts')) out.push(path.relative(root, full));
  }
  return out;
}
const filters = process.argv.slice(2);
let files = [...walk(path.join(root, 'src')), ...walk(path.join(root, 'test'))].sort();
if (filters.length > 0) files = files.filter((f) => filters.some((q) => f.includes(q)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.PARLEY_TEST_CONCURRENCY ?? '2';
// A hung test (or test file: the timeout also bounds each file) fails after this long instead of stalling CI; --test-force-exit ends the run even
// if a test leaked a handle (a child process, a socket) that would keep the event loop alive.
const timeoutMs = process.env.PARLEY_TEST_TIMEOUT_MS ?? '600000';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, '--test-force-exit', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
