/** Unit tests of the pure pieces: segmenting, word merging, CLI parsing, languages, model headers. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { buildTinyWhisperModel } from '../../../test/fixtures/models/make-tiny-whisper.js';
import { hostExecArgv } from '../supervised-child.js';
import { clampTime, defaultTimeoutMs, wordsToSegments } from './common.js';
import { languageName, normaliseLanguage } from './languages.js';
import { parseCliOutput, wavBytes } from './pocketsphinx/cli.js';
import { cleanWord } from './pocketsphinx/ffi.js';
import { timedTexts } from './whisper/engine.js';
import { readWhisperModelInfo } from './whisper/model-file.js';

test('ends a segment after a sentence, at a long pause, or when it grows too long', () => {
  const w = (word: string, start: number, end: number) => ({ word, start, end });
  const segments = wordsToSegments([w('Hello', 0, 0.4), w('there.', 0.5, 0.9), w('How', 1.0, 1.2), w('are', 1.3, 1.4), w('you', 3.0, 3.3)], {
    maxGapSec: 1,
  });
  assert.deepEqual(
    segments.map((s) => [s.id, s.start, s.end, s.text]),
    [
      [0, 0, 0.9, ' Hello there.'],
      [1, 1.0, 1.4, ' How are'],
      [2, 3.0, 3.3, ' you'],
    ],
  );
  const many = Array.from({ length: 50 }, (_, i) => w('la', i, i + 0.5));
  assert.ok(wordsToSegments(many, { maxSegmentSec: 10 }).every((s) => s.end - s.start <= 10));
});

test('turns whisper segments (ms) into trimmed texts timed in seconds inside the audio', () => {
  const timed = timedTexts(
    [
      { text: 'Hello,', t0: 0, t1: 420 },
      { text: '  ', t0: 420, t1: 500 },
      { text: 'world.', t0: 500, t1: 950 },
      { text: 'beyond', t0: 2900, t1: 9000 },
      { text: 'late', t0: 9000, t1: 9500 },
    ],
    3,
  );
  assert.deepEqual(timed, [
    { text: 'Hello,', start: 0, end: 0.42 },
    { text: 'world.', start: 0.5, end: 0.95 },
    { text: 'beyond', start: 2.9, end: 3 },
    { text: 'late', start: 3, end: 3 },
  ]);
});

test('clamps times into the audio and rounds them to milliseconds', () => {
  assert.equal(clampTime(-1, 5), 0);
  assert.equal(clampTime(7.25, 5), 5);
  assert.equal(clampTime(1.23456, 5), 1.235);
});

test('allows two minutes plus ten times the audio by default', () => {
  assert.equal(defaultTimeoutMs(0), 120_000);
  assert.equal(defaultTimeoutMs(10), 220_000);
});

test('parses pocketsphinx_continuous -time output into utterances of words', () => {
  const out = [
    'and mr john',
    '<s> 0.000 0.140 0.999400',
    'and(2) 0.150 0.360 0.260057',
    'mr 0.370 0.620 0.988762',
    '<sil> 0.630 0.700 0.5',
    '[NOISE] 0.710 0.800 0.5',
    'john 0.810 1.000 0.929128',
    '</s> 1.010 1.080 1.000000',
    'hello',
    '<s> 3.000 3.100 0.9',
    'hello 3.110 3.500 0.8',
    '</s> 3.510 3.600 1.0',
  ].join('\n');
  const utterances = parseCliOutput(out);
  assert.equal(utterances.length, 2);
  assert.deepEqual(
    utterances[0]!.map((w) => w.word),
    ['and', 'mr', 'john'],
  );
  assert.equal(utterances[0]![0]!.start, 0.15);
  assert.equal(utterances[0]![0]!.end, 0.37); // the last frame is inclusive
  assert.equal(utterances[1]![0]!.word, 'hello');
});

test('cleans dictionary words: drops fillers and alternative-pronunciation marks', () => {
  assert.equal(cleanWord('and(2)'), 'and');
  assert.equal(cleanWord('<sil>'), '');
  assert.equal(cleanWord('[NOISE]'), '');
  assert.equal(cleanWord('++UH++'), '');
  assert.equal(cleanWord("don't"), "don't");
});

test('writes a 16 kHz mono WAV header the CLI accepts', () => {
  const b = wavBytes(new Float32Array(160));
  assert.equal(b.length, 44 + 320);
  assert.equal(b.toString('ascii', 0, 4), 'RIFF');
  assert.equal(b.readUInt32LE(24), 16000);
  assert.equal(b.readUInt32LE(40), 320);
});

test('understands languages by code, name or region tag', () => {
  assert.equal(normaliseLanguage('de'), 'de');
  assert.equal(normaliseLanguage('German'), 'de');
  assert.equal(normaliseLanguage('en-GB'), 'en');
  assert.equal(normaliseLanguage('xx'), undefined);
  assert.equal(languageName('de'), 'german');
});

test('reads a whisper model header: English-only or multilingual', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-whisper-header-'));
  try {
    const en = path.join(dir, 'en.bin');
    const ml = path.join(dir, 'ml.bin');
    fs.writeFileSync(en, buildTinyWhisperModel());
    fs.writeFileSync(ml, buildTinyWhisperModel({ multilingual: true }));
    assert.deepEqual(await readWhisperModelInfo(en), { nVocab: 51864, nAudioState: 32, nAudioLayer: 4, nTextLayer: 4, multilingual: false, languageCount: 1 });
    assert.equal((await readWhisperModelInfo(ml)).languageCount, 99);
    const gguf = path.join(dir, 'model.gguf');
    fs.writeFileSync(gguf, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60)]));
    await assert.rejects(readWhisperModelInfo(gguf), /GGUF/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('passes loaders to the whisper host but not -e, --inspect or --test', () => {
  assert.deepEqual(
    hostExecArgv(['--import', 'tsx', '--input-type=module', '-e', 'console.log(1)', '--inspect=9229', '--test', '--conditions=dev', '--enable-source-maps']),
    ['--import', 'tsx', '--conditions=dev', '--enable-source-maps'],
  );
  assert.deepEqual(hostExecArgv(['-r', 'ts-node/register', '--experimental-vm-modules']), ['-r', 'ts-node/register', '--experimental-vm-modules']);
});
