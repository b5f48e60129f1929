/**
 * The speech host on real sherpa-onnx with tiny models written at test time: loading, crashes of
 * the child (sherpa's exit(-1) on bad metadata, an uncaught ONNX Runtime error while speaking),
 * aborts, timeouts, RSS recycling and disposal — and the JavaScript metadata check that refuses a
 * broken model before sherpa sees it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeTinyKokoro, writeTinySenseVoice } from '../../../test/fixtures/models/make-tiny-sherpa.js';
import { GraphBuilder, writeOnnxModel } from '../../../test/fixtures/models/onnx-writer.js';
import { whiteNoise } from '../../audio/test-signals.js';
import { ApiError, isApiError } from '../../errors.js';
import { processExists } from '../../lib/process.js';
import { SpeechHost, type SpeechModel } from './client.js';
import { checkModelMetadata, metadataProblems, SENSEVOICE_METADATA } from './model-checks.js';
import { readOnnxMetadata } from './onnx-metadata.js';

const ESPEAK = '/usr/lib/x86_64-linux-gnu/espeak-ng-data';
let dir: string;
let good: SpeechModel;
let slow: SpeechModel;
let noVocab: SpeechModel;
let badKokoro: SpeechModel;
let fragileKokoro: SpeechModel;
const hosts: SpeechHost[] = [];

function senseVoice(folder: string, name: string): SpeechModel {
  return {
    kind: 'recognizer',
    key: `sv:${folder}`,
    name,
    fix: `Run \`parley models pull ${name}\`.`,
    config: {
      featConfig: { sampleRate: 16_000, featureDim: 80 },
      modelConfig: {
        senseVoice: { model: path.join(folder, 'model.onnx'), language: '', useInverseTextNormalization: 0 },
        tokens: path.join(folder, 'tokens.txt'),
        numThreads: 1,
        debug: 0,
      },
    },
  };
}

function kokoro(folder: string, name: string): SpeechModel {
  return {
    kind: 'tts',
    key: `kokoro:${folder}`,
    name,
    fix: `Run \`parley models pull ${name}\`.`,
    config: {
      model: {
        kokoro: {
          model: path.join(folder, 'model.onnx'),
          voices: path.join(folder, 'voices.bin'),
          tokens: path.join(folder, 'tokens.txt'),
          dataDir: ESPEAK,
          lang: 'en-us',
        },
        numThreads: 1,
        debug: 0,
      },
      maxNumSentences: 1,
    },
  };
}

function newHost(options: Partial<ConstructorParameters<typeof SpeechHost>[0]> = {}): SpeechHost {
  const host = new SpeechHost({ name: 'test', ...options });
  hosts.push(host);
  return host;
}

/** Loud white noise (every frame voiced), 16 kHz. */
function noise(seconds: number): Float32Array {
  return whiteNoise(Math.round(seconds * 16_000), 0.3);
}

const isAbortError = (e: unknown): boolean => e instanceof Error && e.name === 'AbortError';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-speech-host-'));
  good = senseVoice(writeTinySenseVoice(path.join(dir, 'good')), 'tiny-sensevoice');
  // ~2 s of matrix products per 30-s window on this machine: slow enough to abort mid-call.
  slow = senseVoice(writeTinySenseVoice(path.join(dir, 'slow'), { slowLayers: 60 }), 'slow-sensevoice');
  noVocab = senseVoice(writeTinySenseVoice(path.join(dir, 'no-vocab'), { omitMetadata: ['vocab_size'] }), 'broken-sensevoice');
  badKokoro = kokoro(writeTinyKokoro(path.join(dir, 'bad-kokoro'), { styleDim: [510, 2, 8] }), 'broken-kokoro');
  fragileKokoro = kokoro(writeTinyKokoro(path.join(dir, 'fragile-kokoro'), { failAboveTokens: 40 }), 'fragile-kokoro');
});

after(async () => {
  await Promise.all(hosts.map((h) => h.dispose()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the ONNX metadata reader', () => {
  test('reads the metadata_props of a model without loading it', async () => {
    const metadata = await readOnnxMetadata(path.join(dir, 'good', 'model.onnx'));
    assert.equal(metadata.get('vocab_size'), '30');
    assert.equal(metadata.get('lfr_window_size'), '7');
    assert.equal(metadata.get('neg_mean')?.split(',').length, 560);
    assert.deepEqual(metadataProblems(metadata, SENSEVOICE_METADATA), []);
  });

  test('skips a large graph by its length and still finds the metadata after it', async () => {
    const g = new GraphBuilder('big');
    g.input('x', 'float', [1, 1000]);
    g.output(g.op('Add', ['x', g.floats(new Float32Array(4_000_000), [4000, 1000])]), 'y', 'float', [4000, 1000]);
    const file = path.join(dir, 'big.onnx');
    writeOnnxModel(file, g, { metadata: { sample_rate: 22050, language: 'English' } });
    assert.ok(fs.statSync(file).size > 16_000_000);
    const metadata = await readOnnxMetadata(file);
    assert.equal(metadata.get('sample_rate'), '22050');
    assert.equal(metadata.get('language'), 'English');
  });

  test('names the missing key and the file, and says what to run, for a model sherpa would stop on', async () => {
    await assert.rejects(checkModelMetadata(path.join(dir, 'no-vocab', 'model.onnx'), SENSEVOICE_METADATA, 'Run `parley models pull x`.'), (e: unknown) => {
      assert.ok(isApiError(e));
      assert.equal(e.status, 503);
      assert.equal(e.code, 'engine_unavailable');
      assert.match(e.message, /model\.onnx/);
      assert.match(e.message, /'vocab_size' is missing/);
      assert.match(e.message, /parley models pull x/);
      return true;
    });
  });

  test('refuses a file that is not an ONNX model with engine_unavailable', async () => {
    const file = path.join(dir, 'not-onnx.onnx');
    fs.writeFileSync(file, 'this is not a protobuf at all, just text that goes on and on');
    await assert.rejects(
      checkModelMetadata(file, SENSEVOICE_METADATA, 'Fix it.'),
      (e: unknown) => isApiError(e) && e.code === 'engine_unavailable' && /not a readable ONNX model/.test(e.message),
    );
  });

  test('flags negative integers and non-numeric vectors as sherpa would', () => {
    const problems = metadataProblems(
      new Map([
        ['sample_rate', '-1'],
        ['n_speakers', '1'],
        ['has_espeak', '1'],
        ['style_dim', '510,x,8'],
      ]),
      {
        integers: ['sample_rate', 'n_speakers', 'has_espeak'],
        vectors: ['style_dim'],
      },
    );
    assert.deepEqual(problems, ["the metadata key 'sample_rate' is negative (-1)", "the metadata key 'style_dim' is not a list of numbers"]);
  });
});

describe('a speech host', () => {
  test('loads a model and recognises audio in its child process', async () => {
    const host = newHost();
    const result = await host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 });
    assert.equal(result.emotion, '<|ANGRY|>');
    assert.match(result.text, /^ ?hello world this is a test/);
    assert.ok(host.pid !== undefined && host.pid !== process.pid && processExists(host.pid));
    assert.ok(host.lastRssBytes > 10_000_000, `rss ${host.lastRssBytes}`);
  });

  test('survives sherpa exiting on bad metadata: that request gets 503 naming the model, the next good one succeeds in a new child', async () => {
    const host = newHost();
    await host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 });
    const before = host.pid!;
    await assert.rejects(host.recognize(noVocab, noise(1), 16_000, { timeoutMs: 60_000 }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 503);
      assert.equal(e.code, 'engine_unavailable');
      assert.match(e.message, /'broken-sensevoice'/);
      assert.match(e.message, /exited with code 255/);
      assert.match(e.message, /parley models pull broken-sensevoice/);
      return true;
    });
    assert.equal(processExists(before), false, 'the crashed child is gone');
    const result = await host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 });
    assert.match(result.text, /hello/);
    assert.ok(host.pid !== before);
    assert.equal(host.starts, 2);
  });

  test('a Kokoro model with a bad style_dim ends the child while loading: 503 naming it, and the host loads a good model next', async () => {
    const host = newHost();
    await assert.rejects(
      host.load(badKokoro, { timeoutMs: 60_000 }),
      (e: unknown) => isApiError(e) && e.code === 'engine_unavailable' && /'broken-kokoro'/.test(e.message),
    );
    const info = await host.load(kokoro(path.join(dir, 'fragile-kokoro'), 'fragile-kokoro'), { timeoutMs: 60_000 });
    assert.equal(info.sampleRate, 24_000);
    assert.equal(info.numSpeakers, 53);
  });

  test('an ONNX Runtime error while speaking ends the child: that passage gets 503, the next passage is spoken by a fresh one', async () => {
    const host = newHost();
    const short = await host.synthesize(fragileKokoro, { text: 'Hello.', sid: 0, speed: 1 }, { timeoutMs: 60_000 });
    assert.ok(short.samples.length > 0);
    const first = host.pid!;
    const long = 'This sentence is long enough to give the fragile model more phoneme tokens than it accepts.';
    await assert.rejects(host.synthesize(fragileKokoro, { text: long, sid: 0, speed: 1 }, { timeoutMs: 60_000 }), (e: unknown) => {
      assert.ok(isApiError(e));
      assert.equal(e.code, 'engine_unavailable');
      assert.match(e.message, /while speaking \(model 'fragile-kokoro'\)/);
      return true;
    });
    assert.equal(processExists(first), false);
    const again = await host.synthesize(fragileKokoro, { text: 'Hello again.', sid: 3, speed: 1 }, { timeoutMs: 60_000 });
    assert.ok(again.samples.length > 0);
  });

  test('an abort rejects at once and kills a child that is mid-call; the next request starts a new one', async () => {
    const host = newHost();
    await host.load(slow, { timeoutMs: 60_000 });
    const busy = host.pid!;
    const controller = new AbortController();
    const call = host.recognize(slow, noise(30), 16_000, { timeoutMs: 120_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(call, isAbortError);
    await waitUntil(() => !processExists(busy));
    const result = await host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 });
    assert.match(result.text, /hello/);
    assert.notEqual(host.pid, busy);
  });

  test('a timeout rejects with 504 engine_timeout and kills the busy child', async () => {
    const host = newHost();
    await host.load(slow, { timeoutMs: 60_000 });
    const busy = host.pid!;
    await assert.rejects(
      host.recognize(slow, noise(30), 16_000, { timeoutMs: 150 }),
      (e: unknown) => isApiError(e) && e.status === 504 && e.code === 'engine_timeout',
    );
    await waitUntil(() => !processExists(busy));
  });

  test('a request aborted while queued leaves the queue without reaching the child', async () => {
    const host = newHost();
    await host.load(slow, { timeoutMs: 60_000 });
    const first = host.recognize(slow, noise(10), 16_000, { timeoutMs: 120_000 });
    const controller = new AbortController();
    const queued = host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await assert.rejects(queued, isAbortError);
    const result = await first;
    assert.equal(result.emotion, '<|ANGRY|>');
    assert.equal(host.starts, 1, 'the running call was not disturbed');
  });

  test('refuses more than 30 s per recognition call', async () => {
    const host = newHost();
    await assert.rejects(host.recognize(good, noise(31), 16_000, { timeoutMs: 60_000 }), (e: unknown) => isApiError(e) && e.status === 500);
  });

  test('recycles the child when its RSS passes the ceiling', async () => {
    const host = newHost({ maxRssBytes: 1 });
    await host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 });
    const first = host.starts;
    await host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 });
    assert.equal(host.starts, first + 1, 'a fresh child for the second request');
  });

  test('leaves no child process after dispose, and refuses work afterwards', async () => {
    const host = newHost();
    await host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 });
    const pid = host.pid!;
    assert.ok(processExists(pid));
    await host.dispose();
    assert.equal(processExists(pid), false);
    await assert.rejects(host.recognize(good, noise(1), 16_000, { timeoutMs: 60_000 }), (e: unknown) => isApiError(e) && e.status === 500);
  });
});

async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
