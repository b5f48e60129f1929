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
// The Debian packages the tests use (as .ci/run installs them): real speech recognition,
// throwaway Redis servers, the browser for the playground tests, espeak-ng data for the sherpa
// voices, bzip2 for the model-archive tests. Missing ones are installed when we may (root with
// apt-get, as in CI); otherwise the run stops at once with one line saying what to install,
// instead of a wall of failures.
const NEEDS = [
  { pkg: 'pocketsphinx', present: () => fs.existsSync('/usr/bin/pocketsphinx_continuous') },
  { pkg: 'pocketsphinx-en-us', present: () => fs.existsSync('/usr/share/pocketsphinx/model/en-us/en-us') },
  {
    pkg: 'libpocketsphinx3',
    present: () => ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].some((d) => fs.existsSync(`${d}/libpocketsphinx.so.3`)),
  },
  { pkg: 'redis-server', present: () => onPath('redis-server') },
  { pkg: 'chromium', present: () => onPath('chromium') },
  {
    pkg: 'espeak-ng-data',
    present: () =>
      ['/usr/lib/x86_64-linux-gnu/espeak-ng-data', '/usr/lib/aarch64-linux-gnu/espeak-ng-data', '/usr/share/espeak-ng-data'].some((d) => fs.existsSync(d)),
  },
  { pkg: 'bzip2', present: () => onPath('bzip2') },
];
function onPath(bin) {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, bin)));
}
const missing = NEEDS.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length > 0 && process.env.PARLEY_TEST_SKIP_PACKAGES !== '1') {
  const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    console.error(`npm test: installing the Debian packages the tests use: ${missing.join(' ')}`);
    const quiet = { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
    if (spawnSync('apt-get', ['update', '-qq'], quiet).status !== 0 || spawnSync('sh', ['-c', `${install} -qq`], quiet).status !== 0) {
      console.error(`npm test: could not install them; run: sudo ${install}`);
      process.exit(1);
    }
  } else {
    console.error(`npm test needs Debian packages that are missing: run \`sudo ${install}\` (or PARLEY_TEST_SKIP_PACKAGES=1 npm test to run anyway)`);
    process.exit(1);
  }
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
