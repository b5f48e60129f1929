import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PcmAudio } from '../audio/types.js';
import type { AsrEngine } from '../engines/asr/types.js';
import type { VadEngine } from '../engines/vad/types.js';
import { voiceAnalyzerDescriptor } from '../engines/voice/registry.js';
import { Understander } from './understand.js';

const clip: PcmAudio = { sampleRate: 16_000, samples: new Float32Array(16_000).fill(0.2) };

/** Engines whose recogniser waits for `release()` (or the call's abort) and counts its runs. */
function engines() {
  let runs = 0;
  let aborted = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const asr: AsrEngine = {
    id: 'fake',
    capabilities: { translate: false, wordTimestamps: false, languageDetection: false },
    languages: () => ['en'],
    transcribe: async (pcm, options) => {
      runs++;
      if (options?.signal?.aborted) {
        aborted++;
        throw options.signal.reason;
      }
      await new Promise<void>((resolve, reject) => {
        void gate.then(resolve);
        options?.signal?.addEventListener('abort', () => {
          aborted++;
          reject(options.signal!.reason);
        });
      });
      return { text: 'hello', language: 'en', durationSec: pcm.samples.length / pcm.sampleRate, segments: [{ id: 0, start: 0, end: 1, text: 'hello' }] };
    },
    dispose: async () => undefined,
  };
  const vad: VadEngine = { id: 'fake', detect: async () => [{ startSec: 0, endSec: 1 }], dispose: async () => undefined };
  const analyzer = voiceAnalyzerDescriptor('prosody').then((d) => d.create());
  return {
    deps: { asr: async () => asr, vad: async () => vad, analyzer: () => analyzer },
    runs: () => runs,
    aborted: () => aborted,
    release: () => release(),
  };
}

describe('understanding input audio once per clip', () => {
  test('answers a repeated clip from memory', async () => {
    const e = engines();
    const understander = new Understander(e.deps);
    const first = understander.understand(clip, 'd1');
    e.release();
    assert.equal((await first).transcript.text, 'hello');
    assert.equal((await understander.understand(clip, 'd1')).transcript.text, 'hello');
    assert.equal(e.runs(), 1);
  });

  test("one caller's disconnect does not fail another caller waiting for the same clip", async () => {
    const e = engines();
    const understander = new Understander(e.deps);
    const a = new AbortController();
    const b = new AbortController();
    const first = understander.understand(clip, 'd2', a.signal);
    const second = understander.understand(clip, 'd2', b.signal);
    await new Promise((r) => setTimeout(r, 10));
    a.abort(new Error('client a left'));
    await assert.rejects(first, /client a left/);
    e.release();
    assert.equal((await second).transcript.text, 'hello');
    assert.equal(e.aborted(), 0, 'the shared work went on');
    assert.equal(e.runs(), 1);
  });

  test('cancels the work when every caller has left, and does not keep the failure', async () => {
    const e = engines();
    const understander = new Understander(e.deps);
    const a = new AbortController();
    const first = understander.understand(clip, 'd3', a.signal);
    await new Promise((r) => setTimeout(r, 10));
    a.abort(new Error('gone'));
    await assert.rejects(first, /gone/);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(e.aborted(), 1, 'the recognition was stopped');
    const again = understander.understand(clip, 'd3');
    e.release();
    assert.equal((await again).transcript.text, 'hello');
    assert.equal(e.runs(), 2, 'the clip was understood afresh');
  });
});
