import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { test } from 'node:test';
import { ffmpegPath } from './ffmpeg.js';

test('finds an ffmpeg binary that runs, on PATH or from the npm package', () => {
  const bin = ffmpegPath();
  assert.ok(bin !== null, 'ffmpeg (system or @ffmpeg-installer/ffmpeg) should be installed');
  assert.ok(isAbsolute(bin));
  assert.match(execFileSync(bin, ['-hide_banner', '-version']).toString(), /^ffmpeg version/);
});

test('returns the same answer every time without looking again', () => {
  assert.equal(ffmpegPath(), ffmpegPath());
});
