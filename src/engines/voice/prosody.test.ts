import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { decodeAudio } from '../../audio/decode/index.js';
import { tone, whiteNoise } from '../../audio/test-signals.js';
import type { PcmAudio } from '../../audio/types.js';
import { isApiError } from '../../errors.js';
import { createSileroVad } from '../vad/silero/index.js';
import { describeForModel } from './describe.js';
import { createProsodyAnalyzer } from './prosody/index.js';
import { countTextUnits, wordSyllables } from './prosody/syllables.js';
import { voiceAnalyzerDescriptor } from './registry.js';

const speechDir = new URL('../../../test/fixtures/speech/', import.meta.url);
const transcripts = new Map(
  readFileSync(new URL('transcripts.tsv', speechDir), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t') as [string, string]),
);
const analyzer = createProsodyAnalyzer();
const vad = createSileroVad();
after(async () => {
  await analyzer.dispose();
  await vad.dispose();
});

async function load(name: string): Promise<PcmAudio> {
  const a = await decodeAudio(readFileSync(new URL(name, speechDir)), { param: 'file' });
  return { samples: a.samples, sampleRate: a.sampleRate };
}

/** Clips joined with `gapSec` of silence between them (same rate). */
function join(clips: PcmAudio[], gapSec: number): PcmAudio {
  const rate = clips[0]!.sampleRate;
  const gap = Math.round(gapSec * rate);
  const out = new Float32Array(clips.reduce((n, c) => n + c.samples.length, 0) + gap * (clips.length - 1));
  let at = 0;
  for (const c of clips) {
    out.set(c.samples, at);
    at += c.samples.length + gap;
  }
  return { samples: out, sampleRate: rate };
}

/**
 * Speech-like test signal: `count` syllables of a harmonic tone at `f0`, each 0.16 s with a
 * raised-cosine envelope, `perSec` per second, at peak amplitude `amp`.
 */
function syllables(f0: number, count: number, perSec: number, rate = 16000, amp = 0.3): Float32Array {
  const period = 1 / perSec;
  const out = new Float32Array(Math.round(count * period * rate));
  const voice = tone(f0, rate, 0.16, amp, [1, 0.7, 0.5, 0.35, 0.2]);
  for (let k = 0; k < count; k++) {
    const start = Math.round(k * period * rate);
    for (let i = 0; i < voice.length && start + i < out.length; i++) {
      out[start + i] = voice[i]! * 0.5 * (1 - Math.cos((2 * Math.PI * i) / voice.length));
    }
  }
  return out;
}

describe('the prosody analyzer', () => {
  test('is found in the registry by its id', async () => {
    const d = await voiceAnalyzerDescriptor('prosody');
    assert.equal(d.id, 'prosody');
    await assert.rejects(voiceAnalyzerDescriptor('nope'), (e: unknown) => isApiError(e) && e.code === 'engine_unavailable');
  });

  test('digital silence is neutral, with no pitch, no rate, no crash', async () => {
    const a = await analyzer.analyze({ pcm: { samples: new Float32Array(16000 * 2), sampleRate: 16000 } });
    assert.equal(a.sentiment, 'neutral');
    assert.equal(a.score, 0);
    assert.equal(a.arousal, 'neutral');
    assert.equal(a.arousalScore, 0);
    assert.equal(a.measures.pitch, null);
    assert.equal(a.measures.rate, null);
    assert.equal(a.measures.text, null);
    assert.equal(a.measures.speechSec, 0);
    assert.equal(a.measures.loudness.rmsDb, -120);
    assert.deepEqual(a.cues, ['no speech']);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a); // no NaN or Infinity
  });

  test('empty audio, faint noise and a transcript over silence do not crash', async () => {
    const empty = await analyzer.analyze({ pcm: { samples: new Float32Array(0), sampleRate: 24000 } });
    assert.equal(empty.measures.durationSec, 0);
    assert.equal(empty.arousal, 'neutral');
    const noise = await analyzer.analyze({ pcm: { samples: whiteNoise(16000 * 2, 0.002), sampleRate: 16000 } });
    assert.equal(noise.measures.pitch, null);
    const words = await analyzer.analyze({ pcm: { samples: new Float32Array(8000), sampleRate: 8000 }, transcript: { text: 'I love it' } });
    assert.equal(words.sentiment, 'positive');
    assert.equal(words.measures.rate, null);
    assert.equal(describeForModel(words), `[voice: positive sentiment (${words.score.toFixed(2)}): 'love'; no speech]`);
  });

  test('measures pitch, level, syllable rate and a pause on a speech-like signal', async () => {
    const rate = 16000;
    const part = syllables(150, 8, 4, rate);
    const pcm = { samples: new Float32Array(part.length * 2 + rate * 1.2), sampleRate: rate };
    pcm.samples.set(part, 0);
    pcm.samples.set(part, part.length + rate * 1.2);
    const a = await analyzer.analyze({ pcm });
    const m = a.measures;
    assert.ok(m.pitch && Math.abs(m.pitch.medianHz - 150) < 2, JSON.stringify(m.pitch));
    assert.ok(m.pitch.rangeSemitones < 1);
    assert.equal(m.pauses.source, 'energy');
    assert.equal(m.pauses.count, 1);
    assert.ok(Math.abs(m.pauses.longestSec - 1.3) < 0.15, `pause ${m.pauses.longestSec}`); // 1.2 s + the last syllable's 0.09 s tail
    assert.equal(m.rate?.source, 'syllable-estimate');
    const sps = m.rate.syllablesPerSec!;
    assert.ok(Math.abs(16 / m.speechSec - sps) < 0.6, `${sps} syllables/s vs ${16 / m.speechSec}`);
    assert.ok(m.loudness.peakDb > -11 && m.loudness.peakDb < -10, `peak ${m.loudness.peakDb}`); // amp 0.3 = -10.5 dBFS
    assert.ok(m.loudness.speechRmsDb > m.loudness.rmsDb);
  });

  test('VAD segments, when given, decide speech and pauses', async () => {
    const pcm = { samples: syllables(200, 20, 4), sampleRate: 16000 };
    const a = await analyzer.analyze({
      pcm,
      speech: [
        { startSec: 0, endSec: 2 },
        { startSec: 3, endSec: 4.8 },
        { startSec: 4.5, endSec: 9 },
      ],
    });
    assert.equal(a.measures.pauses.source, 'vad');
    assert.equal(a.measures.pauses.count, 1);
    assert.equal(a.measures.pauses.longestSec, 1);
    assert.equal(a.measures.speechSec, 4); // 0–2 and 3–5 (the audio ends at 5 s), overlaps merged
  });

  test('a cancelled analysis rejects with a cancellation error', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      analyzer.analyze({ pcm: { samples: syllables(150, 8, 4), sampleRate: 16000 }, signal: ac.signal }),
      (e: unknown) => isApiError(e) && e.code === 'request_cancelled',
    );
  });

  test('a transcript in another language than English gets no sentiment', async () => {
    const a = await analyzer.analyze({
      pcm: { samples: syllables(150, 8, 4), sampleRate: 16000 },
      transcript: { text: 'Das ist die schlechteste Idee', language: 'de' },
    });
    assert.equal(a.measures.text, null);
    assert.equal(a.sentiment, 'neutral');
    assert.equal(a.measures.rate?.source, 'transcript'); // the words still give the rate
  });

  test('counts syllables in text by spelling', () => {
    assert.deepEqual(
      ['he', 'was', 'disposed', 'make', 'table', 'wanted', 'moved', 'conference', "o'clock", '1989', 'beautiful'].map(wordSyllables),
      [1, 1, 2, 1, 2, 2, 1, 3, 2, 4, 3],
    );
    assert.deepEqual(countTextUnits('he was not an ill disposed young man'), { words: 8, syllables: 9 });
    assert.deepEqual(countTextUnits('  , - '), { words: 0, syllables: 0 });
    assert.deepEqual(countTextUnits('你好世界'), { words: 4 / 1.5, syllables: 4 });
  });

  for (const name of ['librivox-0880.wav', 'librivox-0890.wav']) {
    test(`measures are sane on a real recording (${name}): pitch 70–300 Hz, 1.5–4.5 words/s`, async (t) => {
      const pcm = await load(name);
      const text = transcripts.get(name)!;
      const speech = await vad.detect(pcm);
      for (const input of [
        { pcm, transcript: { text } },
        { pcm, transcript: { text }, speech },
      ]) {
        const t0 = performance.now();
        const a = await analyzer.analyze(input);
        const ms = performance.now() - t0;
        const m = a.measures;
        assert.ok(m.pitch && m.pitch.medianHz >= 70 && m.pitch.medianHz <= 300, JSON.stringify(m.pitch));
        assert.ok(m.pitch.p10Hz >= 60 && m.pitch.p90Hz <= 300, JSON.stringify(m.pitch));
        assert.ok(m.rate && m.rate.wordsPerSec >= 1.5 && m.rate.wordsPerSec <= 4.5, JSON.stringify(m.rate));
        assert.ok(m.speechSec > 0.6 * m.durationSec && m.speechSec <= m.durationSec, `speech ${m.speechSec} of ${m.durationSec}`);
        assert.ok(m.loudness.speechRmsDb > -40 && m.loudness.speechRmsDb < -10, JSON.stringify(m.loudness));
        t.diagnostic(`${ms.toFixed(0)} ms for ${m.durationSec} s of audio`);
      }
    });
  }

  test('the syllable estimate without a transcript is close to the counted rate on real speech', async () => {
    for (const name of ['librivox-0880.wav', 'librivox-0890.wav', 'allison-agent-pass.wav']) {
      const pcm = await load(name);
      const counted = (await analyzer.analyze({ pcm, transcript: { text: transcripts.get(name)! } })).measures.rate!;
      const estimated = (await analyzer.analyze({ pcm })).measures.rate!;
      assert.equal(estimated.source, 'syllable-estimate');
      const ratio = estimated.syllablesPerSec! / counted.syllablesPerSec!;
      assert.ok(ratio > 0.7 && ratio < 1.3, `${name}: estimated ${estimated.syllablesPerSec} vs counted ${counted.syllablesPerSec}`);
    }
  });

  test('finds the pause between two real sentences, from energy and from Silero VAD alike', async () => {
    const pcm = join([await load('librivox-0880.wav'), await load('librivox-0890.wav')], 1.2);
    const text = `${transcripts.get('librivox-0880.wav')} ${transcripts.get('librivox-0890.wav')}`;
    const byEnergy = await analyzer.analyze({ pcm, transcript: { text } });
    const byVad = await analyzer.analyze({ pcm, transcript: { text }, speech: await vad.detect(pcm) });
    for (const a of [byEnergy, byVad]) {
      const p = a.measures.pauses;
      assert.ok(p.count >= 1 && p.longestSec >= 1.2 && p.longestSec < 2.2, `${p.source}: ${JSON.stringify(p)}`);
      assert.ok(a.cues.includes('long pause'), a.cues.join());
    }
    assert.equal(byVad.measures.pauses.source, 'vad');
  });

  test('an 8 kHz telephone recording of a female voice has its pitch in the female range', async () => {
    const a = await analyzer.analyze({ pcm: await load('allison-conf-adminmenu.wav'), transcript: { text: transcripts.get('allison-conf-adminmenu.wav')! } });
    assert.ok(a.measures.pitch && a.measures.pitch.medianHz > 160 && a.measures.pitch.medianHz < 260, JSON.stringify(a.measures.pitch));
    assert.equal(a.sentiment, 'positive'); // VADER reads "please" as polite-positive
  });
});
