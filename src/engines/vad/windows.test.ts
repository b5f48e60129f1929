import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpeechSegment } from './types.js';
import { type AudioWindow, planWindows, sliceAudio, trimSilence } from './windows.js';

const seg = (startSec: number, endSec: number): SpeechSegment => ({ startSec, endSec });

/** Every instant of speech lies in some window. */
function assertCovers(windows: AudioWindow[], segments: SpeechSegment[]): void {
  for (const s of segments) {
    // Walk the segment through the windows, which are sorted.
    let t = s.startSec;
    for (const w of windows) if (w.startSec <= t + 1e-9 && w.endSec > t) t = Math.max(t, w.endSec);
    assert.ok(t >= s.endSec - 1e-9, `segment ${s.startSec}–${s.endSec} not covered (reached ${t})`);
  }
}

function assertWithinLimit(windows: AudioWindow[], max = 30): void {
  for (const w of windows) assert.ok(w.endSec - w.startSec <= max + 1e-9, `window ${w.startSec}–${w.endSec} longer than ${max} s`);
}

describe('planWindows', () => {
  it('plans nothing when there is no speech', () => {
    assert.deepEqual(planWindows([], 100), []);
  });

  it('puts short speech in one window padded into the silence around it', () => {
    const w = planWindows([seg(2, 5), seg(6, 9)], 12);
    assert.equal(w.length, 1);
    assert.ok(Math.abs(w[0]!.startSec - 1.8) < 1e-9 && Math.abs(w[0]!.endSec - 9.2) < 1e-9);
    assert.equal(w[0]!.cutInSpeech, false);
    assert.equal(w[0]!.segments.length, 2);
  });

  it('never pads past the start or end of the audio', () => {
    const w = planWindows([seg(0.05, 3), seg(4, 9.95)], 10);
    assert.equal(w[0]!.startSec, 0);
    assert.equal(w[0]!.endSec, 10);
  });

  it('cuts a 70 s unbroken speech run hard at 30 s with a 1 s overlap, dropping nothing', () => {
    const w = planWindows([seg(0, 70)], 70);
    assert.deepEqual(
      w.map((x) => [x.startSec, x.endSec, x.overlapSec, x.cutInSpeech]),
      [
        [0, 30, 0, true],
        [29, 59, 1, true],
        [58, 70, 1, false],
      ],
    );
    assertCovers(w, [seg(0, 70)]);
  });

  it('cuts at the longest pause before the limit', () => {
    // Pauses at 8–8.3, 18–20 (longest), 24–24.4, 27–27.5; speech goes on until 40.
    const segs = [seg(0, 8), seg(8.3, 18), seg(20, 24), seg(24.4, 27), seg(27.5, 40)];
    const w = planWindows(segs, 40);
    assert.equal(w.length, 2);
    assert.ok(Math.abs(w[0]!.endSec - 18.2) < 1e-9, `first window ends at ${w[0]!.endSec}`); // 18 + 0.2 pad
    assert.ok(Math.abs(w[1]!.startSec - 19.8) < 1e-9);
    assertWithinLimit(w);
    assertCovers(w, segs);
  });

  it('cuts at the last of several clean breaks, for fuller windows', () => {
    const segs = [seg(0, 5), seg(6, 12), seg(13, 25), seg(26, 40)];
    const w = planWindows(segs, 40);
    assert.ok(Math.abs(w[0]!.endSec - 25.2) < 1e-9, `first window ends at ${w[0]!.endSec}`);
    assertWithinLimit(w);
    assertCovers(w, segs);
  });

  it('takes a clean break early in the window over short pauses later', () => {
    const segs = [seg(0, 3), seg(6, 15), seg(15.2, 25), seg(25.25, 40)];
    const w = planWindows(segs, 40);
    assert.ok(Math.abs(w[0]!.endSec - 3.2) < 1e-9, `first window ends at ${w[0]!.endSec}`);
  });

  it('never pads past the middle of a pause', () => {
    const segs = [seg(0, 20), seg(20.1, 45)];
    const w = planWindows(segs, 45);
    assert.ok(w[0]!.endSec <= 20.05 + 1e-9 && w[1]!.startSec >= 20.05 - 1e-9);
  });

  it('handles unsorted, overlapping and out-of-range segments', () => {
    const w = planWindows([seg(50, 80), seg(10, 20), seg(15, 25), seg(-3, 2)], 60);
    assertWithinLimit(w);
    assertCovers(w, [seg(0, 2), seg(10, 25), seg(50, 60)]);
    for (const x of w) assert.ok(x.startSec >= 0 && x.endSec <= 60);
  });

  it('covers every segment of a long talk within the limit, cut only in pauses', () => {
    // 10 minutes of 2–12 s utterances with 0.2–1.5 s pauses (deterministic).
    const segs: SpeechSegment[] = [];
    let t = 0.5;
    let s = 7;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    while (t < 600) {
      const len = 2 + rnd() * 10;
      segs.push(seg(t, Math.min(600, t + len)));
      t += len + 0.2 + rnd() * 1.3;
    }
    const w = planWindows(segs, 600);
    assertWithinLimit(w);
    assertCovers(w, segs);
    for (const x of w) {
      assert.equal(x.cutInSpeech, false);
      for (const edge of [x.startSec, x.endSec]) {
        assert.ok(!segs.some((g) => edge > g.startSec + 1e-9 && edge < g.endSec - 1e-9), `edge ${edge} inside speech`);
      }
    }
    // Windows are well filled: the plan is not much longer than greedy packing would be.
    assert.ok(w.length <= Math.ceil(600 / 15), `${w.length} windows`);
  });

  it('respects another window length', () => {
    const w = planWindows([seg(0, 25)], 25, { maxWindowSec: 10, overlapSec: 0.5 });
    assertWithinLimit(w, 10);
    assertCovers(w, [seg(0, 25)]);
    assert.equal(w.length, 3);
  });

  it('rejects a window length it cannot honour', () => {
    assert.throws(() => planWindows([seg(0, 1)], 1, { maxWindowSec: 0 }), RangeError);
    assert.throws(() => planWindows([seg(0, 1)], 1, { maxWindowSec: 2, overlapSec: 1 }), RangeError);
  });
});

describe('trimSilence and sliceAudio', () => {
  const pcm = { samples: Float32Array.from({ length: 16000 * 10 }, (_, i) => i), sampleRate: 16000 };

  it('keeps the audio from the first speech to the last, with padding, without copying', () => {
    const { audio, offsetSec } = trimSilence(pcm, [seg(2, 3), seg(5, 7)], { padSec: 0.5 });
    assert.equal(offsetSec, 1.5);
    assert.equal(audio.samples.length, 16000 * 6);
    assert.equal(audio.samples[0], 16000 * 1.5);
    assert.equal(audio.samples.buffer, pcm.samples.buffer);
  });

  it('returns no samples when there is no speech', () => {
    const { audio } = trimSilence(pcm, []);
    assert.equal(audio.samples.length, 0);
  });

  it('slices within the bounds of the audio', () => {
    assert.equal(sliceAudio(pcm, -1, 0.5).samples.length, 8000);
    assert.equal(sliceAudio(pcm, 9.5, 20).samples.length, 8000);
    assert.equal(sliceAudio(pcm, 5, 4).samples.length, 0);
  });
});
