/**
 * Real-time factor (synthesis time / audio duration) of the built-in TTS engines, one sentence at
 * a time after a warm-up (the first call — worker start, module instantiation — reported apart).
 */
import os from 'node:os';
import { createTtsEngine } from '../src/engines/tts/registry.js';
import type { TtsEngine, VoiceRendering } from '../src/engines/tts/types.js';

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

/** Prints each built-in voice's RTF; a benchmark, so it asserts nothing. */
export default async function run(): Promise<void> {
  const opts = { modelsDir: os.tmpdir(), concurrency: 1 };
  const flite = await createTtsEngine('flite', opts);
  const espeak = await createTtsEngine('espeak-ng', opts);
  try {
    const rows: Array<[string, VoiceRendering, TtsEngine]> = [
      ...['slt', 'rms', 'awb', 'kal16', 'kal'].map((voice): [string, VoiceRendering, TtsEngine] => [`flite ${voice}`, { voice }, flite]),
      ['flite rms pitch 0.85', { voice: 'rms', pitch: 0.85 }, flite],
      ['espeak-ng en-us+f3', { voice: 'en-us+f3' }, espeak],
    ];
    console.log('voice                  RTF (warm)  first call  audio');
    for (const [name, rendering, engine] of rows) {
      const r = await rtf(engine, rendering);
      console.log(`${name.padEnd(22)} ${r.warm.toFixed(4).padStart(10)}  ${r.cold.toFixed(0).padStart(7)} ms  ${r.audio.toFixed(1)} s`);
    }
  } finally {
    await Promise.all([flite.dispose(), espeak.dispose()]);
  }
}
