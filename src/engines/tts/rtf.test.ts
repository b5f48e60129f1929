/**
 * Real-time factor (synthesis time / audio duration) of the WebAssembly engines, measured on a
 * few sentences one at a time, after a warm-up (worker start and module instantiation of the
 * first call are reported apart). Printed as diagnostics; the assertion only catches a collapse.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { createTtsEngine } from './registry.js';
import type { TtsEngine, VoiceRendering } from './types.js';

const SENTENCES = [
  'Hello, and thank you for calling.',
  'Your order has shipped and should arrive within three business days.',
  'The quick brown fox jumps over the lazy dog, and then it runs away into the forest.',
  'Is there anything else I can help you with today?',
  'Please hold while I transfer your call to the next available agent, it should only take a moment.',
];

async function rtf(engine: TtsEngine, rendering: VoiceRendering, language?: string): Promise<{ cold: number; warm: number; audio: number }> {
  const t0 = performance.now();
  await engine.synthesize({ text: 'Warm up.', rendering, speed: 1, ...(language ? { language } : {}) });
  const cold = performance.now() - t0;
  let ms = 0;
  let audio = 0;
  for (const text of SENTENCES) {
    const t = performance.now();
    const pcm = await engine.synthesize({ text, rendering, speed: 1 });
    ms += performance.now() - t;
    audio += pcm.samples.length / pcm.sampleRate;
  }
  return { cold, warm: ms / 1000 / audio, audio };
}

describe('real-time factor', () => {
  const opts = { modelsDir: os.tmpdir(), concurrency: 1 };
  let flite: TtsEngine;
  let espeak: TtsEngine;
  before(async () => {
    flite = await createTtsEngine('flite', opts);
    espeak = await createTtsEngine('espeak-ng', opts);
  });
  after(async () => {
    await Promise.all([flite.dispose(), espeak.dispose()]);
  });

  for (const voice of ['slt', 'rms', 'awb', 'kal16', 'kal']) {
    test(`flite ${voice} synthesises much faster than real time`, async (t) => {
      const r = await rtf(flite, { voice });
      t.diagnostic(`flite ${voice}: RTF ${r.warm.toFixed(4)} over ${r.audio.toFixed(1)} s of audio; first call ${r.cold.toFixed(0)} ms`);
      assert.ok(r.warm < 0.3, `RTF ${r.warm}`);
    });
  }

  test('flite rms with a resampled pitch synthesises much faster than real time', async (t) => {
    const r = await rtf(flite, { voice: 'rms', pitch: 0.85 });
    t.diagnostic(`flite rms pitch 0.85: RTF ${r.warm.toFixed(4)} over ${r.audio.toFixed(1)} s`);
    assert.ok(r.warm < 0.3);
  });

  test('espeak-ng synthesises much faster than real time', async (t) => {
    const r = await rtf(espeak, { voice: 'en-us+f3' });
    t.diagnostic(`espeak-ng en-us+f3: RTF ${r.warm.toFixed(4)} over ${r.audio.toFixed(1)} s of audio; first call ${r.cold.toFixed(0)} ms`);
    assert.ok(r.warm < 0.3, `RTF ${r.warm}`);
  });
});
