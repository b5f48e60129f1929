/**
 * The OpenAI voices must sound different: measured, not assumed. For flite and espeak-ng, every
 * name of the default map is synthesised and its median pitch measured (audio/pitch.ts); alloy,
 * echo and shimmer must differ pairwise by at least 10%, and the male/female names must land where
 * OpenAI's voices are. The medians are printed as test diagnostics.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, type TestContext, test } from 'node:test';
import { medianPitch } from '../../audio/pitch.js';
import { createTtsEngine } from './registry.js';
import { OPENAI_VOICES, type TtsEngine } from './types.js';

const ENGLISH = 'The quick brown fox jumps over the lazy dog, and then it runs away into the forest.';
const GERMAN = 'Der schnelle braune Fuchs springt über den faulen Hund und läuft dann weit in den Wald hinein.';
const MALE = ['echo', 'onyx', 'ash', 'ballad', 'fable', 'verse', 'cedar'];
const FEMALE = ['nova', 'coral', 'shimmer', 'sage', 'marin'];

async function medians(engine: TtsEngine, text: string, language?: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of OPENAI_VOICES) {
    const pcm = await engine.synthesize({ text, rendering: engine.defaultVoiceMap()[name]!, speed: 1, ...(language ? { language } : {}) });
    const hz = medianPitch(pcm);
    assert.ok(hz !== null, `${engine.id} ${name}: no pitch found`);
    out[name] = Math.round(hz * 10) / 10;
  }
  return out;
}

function assertDistinct(t: TestContext, label: string, m: Record<string, number>): void {
  t.diagnostic(`${label}: ${OPENAI_VOICES.map((n) => `${n} ${m[n]} Hz`).join(', ')}`);
  for (const [a, b] of [
    ['alloy', 'echo'],
    ['alloy', 'shimmer'],
    ['echo', 'shimmer'],
  ] as const) {
    const ratio = Math.max(m[a]!, m[b]!) / Math.min(m[a]!, m[b]!);
    assert.ok(ratio >= 1.1, `${label}: ${a} ${m[a]} Hz vs ${b} ${m[b]} Hz differ by only ${((ratio - 1) * 100).toFixed(1)}%`);
  }
  for (const n of MALE) assert.ok(m[n]! < 140, `${label}: ${n} (male) at ${m[n]} Hz`);
  for (const n of FEMALE) assert.ok(m[n]! > 150, `${label}: ${n} (female) at ${m[n]} Hz`);
  assert.ok(m.onyx! < m.echo!, `${label}: onyx should be deeper than echo`);
  assert.ok(m.shimmer! > m.alloy!, `${label}: shimmer should be brighter than alloy`);
}

describe('OpenAI voice maps', () => {
  const opts = { modelsDir: os.tmpdir(), concurrency: 2 };
  let flite: TtsEngine;
  let espeak: TtsEngine;
  before(async () => {
    [flite, espeak] = await Promise.all([createTtsEngine('flite', opts), createTtsEngine('espeak-ng', opts)]);
  });
  after(async () => {
    await Promise.all([flite.dispose(), espeak.dispose()]);
  });

  test('flite: alloy, echo and shimmer differ in median pitch by at least 10% pairwise', async (t) => {
    assertDistinct(t, 'flite', await medians(flite, ENGLISH));
  });

  test('espeak-ng: alloy, echo and shimmer differ in median pitch by at least 10% pairwise', async (t) => {
    assertDistinct(t, 'espeak-ng en', await medians(espeak, ENGLISH));
  });

  test('espeak-ng keeps the voices apart when it speaks German', async (t) => {
    assertDistinct(t, 'espeak-ng de', await medians(espeak, GERMAN, 'de'));
  });
});
