/**
 * The whisper engine on real whisper.cpp with tiny random-weight models (written at test time):
 * the text is nonsense, but loading, the host process, the queue, timestamps, language
 * detection, translation, timeouts, aborts and disposal are all the real code paths.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeTinyWhisperModel } from '../../../../test/fixtures/models/make-tiny-whisper.js';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import { readWav16, SPEECH_FIXTURES } from '../test-support.js';
import type { Transcript } from '../types.js';
import type { WhisperEngine } from './engine.js';
import { createWhisperEngine, whisperDescriptor } from './index.js';

let dir: string;
let englishModel: string;
let multilingualModel: string;
let speech: PcmAudio; // 3 s, 16 kHz
let phone: PcmAudio; // 3.3 s, 8 kHz
let speechSec: number;
let phoneSec: number;
let long: PcmAudio; // the speech 20 times: a minute, two of whisper's 30 s windows — still running when aborted

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-whisper-'));
  englishModel = path.join(dir, 'ggml-tiny-random.en.bin');
  multilingualModel = path.join(dir, 'ggml-tiny-random.bin');
  writeTinyWhisperModel(englishModel, { seed: 42 });
  writeTinyWhisperModel(multilingualModel, { seed: 7, multilingual: true });
  speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0880.wav'));
  phone = readWav16(path.join(SPEECH_FIXTURES, 'allison-agent-pass.wav'));
  speechSec = speech.samples.length / speech.sampleRate;
  phoneSec = phone.samples.length / phone.sampleRate;
  long = { samples: new Float32Array(speech.samples.length * 20), sampleRate: speech.sampleRate };
  for (let i = 0; i < 20; i++) long.samples.set(speech.samples, i * speech.samples.length);
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

// One thread: ggml's worker threads spin at barriers, and on a CI machine shared with other jobs
// 2 threads made decoding 5–15× slower (engines/asr/README.md). The thread count is not what
// these tests are about.
function options(model: string) {
  return { model, modelsDir: dir, threads: 1 };
}

/** Checks the shape every Transcript must have. */
function assertTranscript(t: Transcript, durationSec: number): void {
  assert.equal(typeof t.text, 'string');
  assert.equal(t.text, t.text.trim());
  assert.ok(Math.abs(t.durationSec - durationSec) < 1e-6, `duration ${t.durationSec} ≠ ${durationSec}`);
  assert.equal(typeof t.language, 'string');
  t.segments.forEach((s, i) => {
    assert.equal(s.id, i);
    assert.equal(typeof s.text, 'string');
    assert.ok(Number.isFinite(s.start) && Number.isFinite(s.end));
    assert.ok(s.start >= 0 && s.start <= s.end && s.end <= durationSec, `segment ${s.start}–${s.end} outside 0–${durationSec}`);
  });
}

function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

describe('an English-only model', () => {
  let engine: WhisperEngine;
  before(async () => {
    engine = await createWhisperEngine(options(englishModel));
  });
  after(() => engine.dispose());

  test('loads and transcribes a few seconds of speech into a Transcript', async (t0) => {
    const started = performance.now();
    const t = await engine.transcribe(speech);
    const ms = performance.now() - started;
    assertTranscript(t, speechSec);
    assert.equal(t.language, 'en');
    assert.ok(t.segments.length > 0, 'random weights still produce some tokens');
    assert.equal(t.words, undefined);
    t0.diagnostic(`whisper tiny-random: ${Math.round(ms)} ms for ${speechSec.toFixed(2)} s of audio`);
  });

  test('says it knows English only and cannot translate or detect languages', () => {
    assert.deepEqual(engine.languages(), ['en']);
    assert.deepEqual(engine.capabilities, { translate: false, wordTimestamps: true, languageDetection: false });
  });

  test('resamples 8 kHz telephone audio before recognising it', async () => {
    const t = await engine.transcribe(phone, { language: 'en' });
    assertTranscript(t, phoneSec);
  });

  test('rejects a language other than English with invalid_value', async () => {
    await assert.rejects(engine.transcribe(speech, { language: 'de' }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'invalid_value');
      assert.equal(e.param, 'language');
      return true;
    });
  });
});

describe('a multilingual model', () => {
  let engine: WhisperEngine;
  before(async () => {
    engine = await createWhisperEngine(options(multilingualModel));
  });
  after(() => engine.dispose());

  test('offers every Whisper language, translation and detection', () => {
    assert.equal(engine.languages().length, 99);
    assert.ok(engine.languages().includes('de'));
    assert.deepEqual(engine.capabilities, { translate: true, wordTimestamps: true, languageDetection: true });
  });

  test('detects the language when none is given', async () => {
    const t = await engine.transcribe(speech, { language: 'auto' });
    assertTranscript(t, speechSec);
    assert.ok(engine.languages().includes(t.language), `detected '${t.language}'`);
  });

  test('keeps the language it was given, by code or by name', async () => {
    const t = await engine.transcribe(speech, { language: 'German' });
    assert.equal(t.language, 'de');
  });

  test('runs the translate task', async () => {
    const t = await engine.transcribe(speech, { task: 'translate', language: 'de' });
    assertTranscript(t, speechSec);
  });

  test('returns word timestamps in order within the audio', async () => {
    const t = await engine.transcribe(speech, { wordTimestamps: true, language: 'en', prompt: 'An audiobook.' });
    assertTranscript(t, speechSec);
    assert.ok(t.words && t.words.length > 0);
    let previous = 0;
    for (const w of t.words) {
      assert.ok(w.word.length > 0 && w.word === w.word.trim());
      assert.ok(w.start >= previous - 1e-9 && w.start <= w.end && w.end <= speechSec, `word ${w.word} ${w.start}–${w.end}`);
      previous = w.start;
    }
  });

  test('rejects an unknown language instead of letting whisper.cpp crash', async () => {
    await assert.rejects(engine.transcribe(speech, { language: 'xx' }), (e: unknown) => e instanceof ApiError && e.code === 'invalid_value');
    // and the engine is fine
    assertTranscript(await engine.transcribe(speech, { language: 'en' }), speechSec);
  });
});

describe('guarding calls', () => {
  let engine: WhisperEngine;
  before(async () => {
    engine = await createWhisperEngine(options(englishModel));
  });
  after(() => engine.dispose());

  test('rejects with a 504 engine_timeout after timeoutMs and works again afterwards', async () => {
    const started = performance.now();
    await assert.rejects(engine.transcribe(long, { timeoutMs: 100 }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 504);
      assert.equal(e.code, 'engine_timeout');
      return true;
    });
    assert.ok(performance.now() - started < 1000, 'the timeout fires on time');
    assertTranscript(await engine.transcribe(speech), speechSec);
  });

  test('stops a running call when its signal aborts, and works again afterwards', async () => {
    const controller = new AbortController();
    const running = engine.transcribe(long, { signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    const started = performance.now();
    await assert.rejects(running, isAbortError);
    assert.ok(performance.now() - started < 1000);
    assertTranscript(await engine.transcribe(speech), speechSec);
  });

  test('takes an aborted call out of the queue without disturbing the running one', async () => {
    const controller = new AbortController();
    const first = engine.transcribe(speech);
    const queued = engine.transcribe(long, { signal: controller.signal });
    controller.abort();
    await assert.rejects(queued, isAbortError);
    assertTranscript(await first, speechSec);
  });

  test('rejects at once when the signal is already aborted', async () => {
    await assert.rejects(engine.transcribe(speech, { signal: AbortSignal.abort() }), isAbortError);
  });

  test('runs concurrent calls one after another on one context', async () => {
    const results = await Promise.all([engine.transcribe(speech), engine.transcribe(phone)]);
    assertTranscript(results[0], speechSec);
    assertTranscript(results[1], phoneSec);
  });
});

describe('lifecycle and errors', () => {
  test('dispose stops a running call and refuses new ones', async () => {
    const engine = await createWhisperEngine(options(englishModel));
    const running = engine.transcribe(long);
    await new Promise((r) => setTimeout(r, 100));
    await engine.dispose();
    await assert.rejects(running, (e: unknown) => e instanceof ApiError && e.status === 500);
    await assert.rejects(engine.transcribe(speech), (e: unknown) => e instanceof ApiError);
    await engine.dispose(); // twice is fine
  });

  test('survives a crash of the host process: one call fails with 503 naming the model, the next works', async () => {
    const engine = await createWhisperEngine(options(englishModel));
    try {
      const running = engine.transcribe(long);
      await new Promise((r) => setTimeout(r, 100));
      process.kill(engine.hostPid!, 'SIGSEGV');
      await assert.rejects(running, (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 503);
        assert.equal(e.code, 'engine_unavailable');
        assert.match(e.message, /ggml-tiny-random\.en\.bin/);
        assert.ok(!e.message.includes(dir), 'no local path in the client message');
        assert.match(String((e.cause as Error).message), /whisper host exited \(SIGSEGV\)/);
        return true;
      });
      assertTranscript(await engine.transcribe(speech), speechSec);
    } finally {
      await engine.dispose();
    }
  });

  test('an idle engine does not keep the process alive', async (t) => {
    const script = [
      `import { createWhisperEngine } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};`,
      `const engine = await createWhisperEngine({ model: ${JSON.stringify(englishModel)}, modelsDir: '.', threads: 1 });`,
      `await engine.transcribe({ samples: new Float32Array(16000), sampleRate: 16000 });`,
      `console.log('done'); // no dispose()`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // No time limit of its own (a loaded machine may take long to start tsx and load the model):
    // a process kept alive never exits, and the runner's timeout then fails the test and kills it.
    const stop = () => child.kill('SIGKILL');
    t.signal.addEventListener('abort', stop, { once: true });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.signal.removeEventListener('abort', stop);
    assert.equal(code, 0);
    assert.match(out, /done/);
  });

  test('reports engine_unavailable naming the pull command when the model file is missing', async () => {
    await assert.rejects(createWhisperEngine(options(path.join(dir, 'nope.bin'))), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 503);
      assert.equal(e.code, 'engine_unavailable');
      assert.match(e.message, /parley models pull whisper-base\.en/);
      assert.match(e.message, /PARLEY_ASR_MODEL/);
      return true;
    });
  });

  test('reports engine_unavailable for a file that is not a whisper model', async () => {
    const bogus = path.join(dir, 'bogus.bin');
    fs.writeFileSync(bogus, Buffer.alloc(1024, 1));
    await assert.rejects(createWhisperEngine(options(bogus)), (e: unknown) => e instanceof ApiError && e.code === 'engine_unavailable');
  });

  test('resolves a cache name through the resolver it is given', async () => {
    const seen: string[] = [];
    const engine = await createWhisperEngine({
      model: 'tiny-random',
      modelsDir: dir,
      threads: 1,
      resolveModel: (name) => {
        seen.push(name);
        return englishModel;
      },
    });
    assert.deepEqual(seen, ['tiny-random']);
    assert.equal(engine.modelPath, englishModel);
    await engine.dispose();
  });

  test('probes without loading: available with a model, unavailable without', async () => {
    assert.deepEqual(await whisperDescriptor.probe(options(englishModel)), { available: true });
    const missing = await whisperDescriptor.probe({ modelsDir: dir, threads: 1 });
    assert.equal(missing.available, false);
    assert.match(missing.reason ?? '', /parley models pull whisper-base\.en/);
  });
});
