#!/usr/bin/env node
// After `tsc`: make the CLI executable and link it as ./node_modules/.bin/parley, so the
// command works right after `npm ci` in this checkout (npm links only dependencies' bins).
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
fs.chmodSync(cli, 0o755);
const binDir = path.join(root, 'node_modules', '.bin');
if (fs.existsSync(path.join(root, 'node_modules'))) {
  fs.mkdirSync(binDir, { recursive: true });
  const link = path.join(binDir, 'parley');
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.relative(binDir, cli), link);
}
