/**
 * The analyzer on real synthetic speech: sentences spoken by the flite TTS engine (engines/tts),
 * with the text it spoke given as the transcript.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { PcmAudio } from '../../audio/types.js';
import { descriptor as fliteDescriptor } from '../tts/flite/index.js';
import type { TtsEngine, VoiceRendering } from '../tts/types.js';
import { describeForModel } from './describe.js';
import { createProsodyAnalyzer } from './prosody/index.js';
import type { VoiceAnalysis } from './types.js';

const POSITIVE = 'I am so happy with how everything turned out today, thank you so much!';
const NEGATIVE = 'This is terrible, I hate how everything went wrong today.';
const NEUTRAL = "The meeting is scheduled for three o'clock in the main conference room.";
/** flite's natural (clustergen) voices: the ones the OpenAI voice map uses. */
const VOICES = ['slt', 'rms', 'awb'] as const;
/** Slow and low vs fast and high, as the issue asks. */
const SLOW_LOW = { pitch: 0.75, rate: 0.7 } as const;
const FAST_HIGH = { pitch: 1.5, rate: 1.6 } as const;

const analyzer = createProsodyAnalyzer();
let tts: TtsEngine;
before(async () => {
  tts = await fliteDescriptor.create({ modelsDir: os.tmpdir(), concurrency: 2 });
});
after(async () => {
  await tts.dispose();
  await analyzer.dispose();
});

async function speak(text: string, rendering: VoiceRendering): Promise<PcmAudio> {
  return tts.synthesize({ text, rendering, speed: 1 });
}

async function hear(text: string, rendering: VoiceRendering): Promise<VoiceAnalysis> {
  return analyzer.analyze({ pcm: await speak(text, rendering), transcript: { text } });
}

const show = (a: VoiceAnalysis) => `${a.arousalScore} ${describeForModel(a)} ${JSON.stringify(a.arousalTerms)}`;

describe('the analyzer on speech from the flite TTS engine', () => {
  for (const voice of ['slt', 'rms'] as const) {
    test(`a spoken positive sentence is positive and a negative one negative (${voice})`, async () => {
      const pos = await hear(POSITIVE, { voice });
      const neg = await hear(NEGATIVE, { voice });
      assert.equal(pos.sentiment, 'positive', show(pos));
      assert.equal(neg.sentiment, 'negative', show(neg));
      assert.ok(pos.score >= 0.5 && neg.score <= -0.5);
      assert.ok(
        neg.cues.some((c) => c.startsWith('negative words:') && c.includes("'hate'")),
        neg.cues.join(),
      );
      assert.match(describeForModel(neg), /^\[voice: (?:(?:angry|sad) \(prosody 0\.\d\d\); )?negative sentiment \(-0\.\d\d\): 'hate'/);
    });
  }

  for (const voice of VOICES) {
    test(`the same sentence slow and low is calm, fast and high is excited (${voice})`, async () => {
      for (const text of [NEUTRAL, NEGATIVE]) {
        const plain = await hear(text, { voice });
        const calm = await hear(text, { voice, ...SLOW_LOW });
        const excited = await hear(text, { voice, ...FAST_HIGH });
        assert.equal(calm.arousal, 'calm', show(calm));
        assert.equal(excited.arousal, 'excited', show(excited));
        assert.ok(
          calm.arousalScore < plain.arousalScore && plain.arousalScore < excited.arousalScore,
          `${calm.arousalScore} < ${plain.arousalScore} < ${excited.arousalScore}`,
        );
        // The words decide the sentiment, not the voice.
        assert.equal(calm.sentiment, excited.sentiment);
        // No emotion model: negative words said slow and low are sad, fast and high angry.
        if (text === NEGATIVE) {
          assert.deepEqual([calm.emotion.label, calm.emotion.source], ['sad', 'prosody'], show(calm));
          assert.deepEqual([excited.emotion.label, excited.emotion.source], ['angry', 'prosody'], show(excited));
        }
        assert.ok(excited.cues.includes('fast speech'), excited.cues.join());
        assert.ok(excited.measures.rate!.wordsPerSec > calm.measures.rate!.wordsPerSec * 1.8);
        assert.ok(
          excited.measures.pitch!.medianHz > calm.measures.pitch!.medianHz * 1.6,
          `${excited.measures.pitch!.medianHz} vs ${calm.measures.pitch!.medianHz} Hz`,
        );
      }
    });
  }

  test('the robotic diphone voice (kal16) still orders slow-low below fast-high', async () => {
    const calm = await hear(NEUTRAL, { voice: 'kal16', ...SLOW_LOW });
    const excited = await hear(NEUTRAL, { voice: 'kal16', ...FAST_HIGH });
    assert.equal(calm.arousal, 'calm', show(calm));
    assert.ok(excited.arousalScore > calm.arousalScore + 0.6, `${calm.arousalScore} → ${excited.arousalScore}`);
  });

  test('without a transcript the rate is estimated from the sound and still tells slow from fast', async () => {
    const slow = await analyzer.analyze({ pcm: await speak(NEUTRAL, { voice: 'rms', ...SLOW_LOW }) });
    const fast = await analyzer.analyze({ pcm: await speak(NEUTRAL, { voice: 'rms', ...FAST_HIGH }) });
    assert.equal(slow.measures.rate?.source, 'syllable-estimate');
    assert.equal(slow.measures.text, null);
    assert.ok(
      fast.measures.rate!.syllablesPerSec! > 1.6 * slow.measures.rate!.syllablesPerSec!,
      `${slow.measures.rate!.syllablesPerSec} → ${fast.measures.rate!.syllablesPerSec}`,
    );
    assert.equal(slow.arousal, 'calm', show(slow));
    // An estimated rate weighs 0.6× and undercounts fast speech, so "fast and high" lands on the
    // excited side of neutral rather than always past the threshold.
    assert.ok(fast.arousalScore > 0.1 && fast.arousalScore > slow.arousalScore + 0.6, `${show(slow)} → ${show(fast)}`);
    assert.ok(fast.cues.includes('fast speech'), fast.cues.join());
  });
});
