import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { decodeAudio } from '../../../audio/decode/index.js';
import { resample } from '../../../audio/resample.js';
import { tone, whiteNoise } from '../../../audio/test-signals.js';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import { vadEngineDescriptor } from '../registry.js';
import type { SpeechSegment } from '../types.js';
import { planWindows } from '../windows.js';
import { createSileroVad, speechSegments } from './index.js';

const speechDir = new URL('../../../../test/fixtures/speech/', import.meta.url);
const vad = createSileroVad();
after(() => vad.dispose());

async function load(name: string): Promise<PcmAudio> {
  const a = await decodeAudio(readFileSync(new URL(name, speechDir)), { param: 'file' });
  return { samples: a.samples, sampleRate: a.sampleRate };
}

/** `pcm` at 16 kHz with `before`/`after` seconds of faint noise around it. */
function padded(pcm: PcmAudio, before: number, after: number): PcmAudio {
  const a = pcm.sampleRate === 16000 ? pcm : resample(pcm, 16000);
  const out = whiteNoise(Math.round((before + after) * 16000) + a.samples.length, 0.0005, 3);
  for (let i = 0; i < a.samples.length; i++) out[Math.round(before * 16000) + i]! += a.samples[i]!;
  return { samples: out, sampleRate: 16000 };
}

/** 20 ms frames of `pcm` louder than 20 dB below its loudest frame: where there surely is voice (LibriVox's noise floor is at −25 dB). */
function loudFrames(pcm: PcmAudio): number[] {
  const n = Math.round(pcm.sampleRate * 0.02);
  const levels: number[] = [];
  for (let i = 0; i + n <= pcm.samples.length; i += n) {
    let e = 0;
    for (let j = i; j < i + n; j++) e += pcm.samples[j]! ** 2;
    levels.push(Math.sqrt(e / n));
  }
  const peak = Math.max(...levels);
  return levels.flatMap((l, k) => (l > peak * 0.1 ? [k * 0.02 + 0.01] : []));
}

const inside = (t: number, segs: SpeechSegment[]) => segs.some((s) => t >= s.startSec && t <= s.endSec);

describe('Silero VAD', () => {
  it('finds no speech in digital silence', async () => {
    assert.deepEqual(await vad.detect({ samples: new Float32Array(16000 * 5), sampleRate: 16000 }), []);
  });

  it('finds no speech in faint noise at 44.1 kHz', async () => {
    assert.deepEqual(await vad.detect({ samples: whiteNoise(44100 * 5, 0.003), sampleRate: 44100 }), []);
  });

  it('returns nothing for empty audio without loading anything', async () => {
    const fresh = createSileroVad({ model: '/nonexistent.onnx' });
    assert.deepEqual(await fresh.detect({ samples: new Float32Array(0), sampleRate: 16000 }), []);
  });

  for (const [name, seconds] of [
    ['librivox-0880.wav', 2.99],
    ['librivox-0890.wav', 5.3],
    ['allison-agent-pass.wav', 3.29],
  ] as const) {
    it(`finds the speech of ${name} and none in the second of silence around it`, async (t) => {
      const pcm = padded(await load(name), 1, 1);
      const t0 = performance.now();
      const segs = await vad.detect(pcm);
      t.diagnostic(
        `RTF ${((performance.now() - t0) / 1000 / (seconds + 2)).toFixed(4)}; segments ${JSON.stringify(segs.map((s) => [s.startSec.toFixed(2), s.endSec.toFixed(2)]))}`,
      );
      assert.ok(segs.length >= 1);
      assert.ok(segs[0]!.startSec >= 0.8, `speech starts at ${segs[0]!.startSec}`);
      assert.ok(segs.at(-1)!.endSec <= 1 + seconds + 0.2, `speech ends at ${segs.at(-1)!.endSec}`);
      const loud = loudFrames(pcm);
      const covered = loud.filter((x) => inside(x, segs)).length / loud.length;
      assert.ok(covered >= 0.95, `${(covered * 100).toFixed(1)}% of the loud frames are in segments`);
    });
  }

  it('hears the pauses between the clauses of a long telephone prompt (8 kHz)', async () => {
    const pcm = await load('allison-conf-adminmenu.wav');
    const segs = await vad.detect(pcm);
    assert.ok(segs.length >= 3, `${segs.length} segments`);
    for (let i = 1; i < segs.length; i++) assert.ok(segs[i]!.startSec >= segs[i - 1]!.endSec);
  });

  it('rejects with request_cancelled when aborted', async () => {
    const ac = new AbortController();
    const p = vad.detect({ samples: whiteNoise(16000 * 60, 0.1), sampleRate: 16000 }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === 'request_cancelled');
  });

  it('gives the same answer to concurrent calls sharing the model, and after dispose', async () => {
    const pcm = await load('librivox-0890.wav');
    const [a, b, c] = await Promise.all([vad.detect(pcm), vad.detect(pcm), vad.detect(pcm)]);
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
    await vad.dispose();
    assert.deepEqual(await vad.detect(pcm), a);
  });

  it('says what is missing when the model file is not there', async () => {
    const broken = createSileroVad({ model: '/nonexistent/silero.onnx' });
    await assert.rejects(
      broken.detect({ samples: new Float32Array(16000), sampleRate: 16000 }),
      (e: unknown) => e instanceof ApiError && e.code === 'engine_unavailable',
    );
  });

  it('is found in the registry', async () => {
    const d = await vadEngineDescriptor('silero');
    assert.equal(d.id, 'silero');
    await assert.rejects(vadEngineDescriptor('nope'), (e: unknown) => e instanceof ApiError);
  });

  it('windows a 70 s recording into pieces of at most 30 s cut inside its pauses', async (t) => {
    // Real recordings one after another with known pauses between them.
    const parts = [
      'librivox-0880.wav',
      'allison-conf-adminmenu.wav',
      'librivox-0890.wav',
      'allison-agent-pass.wav',
      'librivox-0880.wav',
      'allison-conf-adminmenu.wav',
      'librivox-0890.wav',
    ];
    const pauses = [1.2, 2.0, 1.5, 1.0, 2.5, 1.8];
    const pieces: Float32Array[] = [];
    const gaps: Array<[number, number]> = [];
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = await load(parts[i]!);
      const s = p.sampleRate === 16000 ? p.samples : resample(p, 16000).samples;
      pieces.push(s);
      at += s.length / 16000;
      if (i < pauses.length) {
        pieces.push(whiteNoise(Math.round(pauses[i]! * 16000), 0.0005, i + 1));
        gaps.push([at, at + pauses[i]!]);
        at += pauses[i]!;
      }
    }
    const samples = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of pieces) {
      samples.set(p, offset);
      offset += p.length;
    }
    const total = samples.length / 16000;
    assert.ok(total > 60, `${total} s`);

    const t0 = performance.now();
    const segs = await vad.detect({ samples, sampleRate: 16000 });
    t.diagnostic(`VAD of ${total.toFixed(1)} s took ${(performance.now() - t0).toFixed(0)} ms (RTF ${((performance.now() - t0) / 1000 / total).toFixed(4)})`);
    const windows = planWindows(segs, total);
    t.diagnostic(`windows ${JSON.stringify(windows.map((w) => [w.startSec.toFixed(2), w.endSec.toFixed(2)]))}`);
    assert.ok(windows.length >= 3);
    for (const w of windows) {
      assert.ok(w.endSec - w.startSec <= 30 + 1e-9, `window of ${w.endSec - w.startSec} s`);
      assert.equal(w.cutInSpeech, false);
    }
    // Every bit of detected speech is in a window.
    for (const s of segs)
      assert.ok(
        windows.some((w) => w.startSec <= s.startSec && w.endSec >= s.endSec),
        `segment ${s.startSec}–${s.endSec} split or dropped`,
      );
    // Every cut between two windows falls inside one of the pauses we put in.
    for (let i = 1; i < windows.length; i++) {
      const cut = (windows[i - 1]!.endSec + windows[i]!.startSec) / 2;
      assert.ok(
        gaps.some(([a, b]) => cut > a && cut < b),
        `cut at ${cut.toFixed(2)} s is not in an inserted pause`,
      );
    }
  });
});

describe('speechSegments (probabilities → segments)', () => {
  const o = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 100, padMs: 30 };
  const W = 1536; // 96 ms windows at 16 kHz

  it('turns a run of confident windows into one padded segment', () => {
    const probs = Float32Array.from([0, 0, 0.9, 0.95, 0.9, 0.8, 0.9, 0, 0, 0, 0]);
    const segs = speechSegments(probs, W, probs.length * W, o);
    assert.equal(segs.length, 1);
    assert.ok(Math.abs(segs[0]!.startSec - (2 * W - 480) / 16000) < 1e-9);
    assert.ok(Math.abs(segs[0]!.endSec - (7 * W + 480) / 16000) < 1e-9);
  });

  it('drops runs shorter than minSpeechMs', () => {
    const probs = Float32Array.from([0, 0.9, 0.9, 0, 0, 0, 0]); // 192 ms
    assert.deepEqual(speechSegments(probs, W, probs.length * W, o), []);
  });

  it('bridges a dip shorter than minSilenceMs and between the two thresholds', () => {
    const probs = Float32Array.from([0.9, 0.9, 0.9, 0.4, 0.9, 0.9, 0.1, 0.9, 0.9, 0, 0, 0]);
    const segs = speechSegments(probs, W, probs.length * W, o);
    assert.equal(segs.length, 1);
  });

  it('keeps speech running to the end of the audio', () => {
    const probs = Float32Array.from([0, 0, 0.9, 0.9, 0.9, 0.9]);
    const segs = speechSegments(probs, W, probs.length * W, o);
    assert.equal(segs.at(-1)!.endSec, (probs.length * W) / 16000);
  });

  it('does not treat a steady tone as silence-free speech everywhere', async () => {
    // Not a contract of Silero, a sanity check that the model is really running: a pure tone is
    // mostly classified as non-speech.
    const segs = await vad.detect({ samples: tone(1000, 16000, 3, 0.3), sampleRate: 16000 });
    const speech = segs.reduce((n, s) => n + s.endSec - s.startSec, 0);
    assert.ok(speech < 1.5, `${speech} s of a 3 s tone called speech`);
  });
});
