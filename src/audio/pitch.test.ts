import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianPitch, pitchRange, trackPitch, trackPitchDetailed } from './pitch.js';
import { tone as toneSamples, whiteNoise } from './test-signals.js';
import type { PcmAudio } from './types.js';

/** A tone with the given f0 and harmonic amplitudes (1st = fundamental), as audio. */
function tone(f0: number, sampleRate: number, seconds: number, harmonics: number[] = [1], amp = 0.5): PcmAudio {
  return { samples: toneSamples(f0, sampleRate, seconds, amp, harmonics), sampleRate };
}

/** Deterministic white noise, uniform in [-amp, amp], as audio. */
function noise(sampleRate: number, seconds: number, amp = 0.3): PcmAudio {
  return { samples: whiteNoise(Math.round(seconds * sampleRate), amp), sampleRate };
}

function voicedFraction(f0: Float32Array): number {
  let v = 0;
  for (const f of f0) if (f > 0) v++;
  return f0.length === 0 ? 0 : v / f0.length;
}

for (const sampleRate of [16_000, 24_000]) {
  for (const f0 of [100, 150, 220]) {
    test(`finds the f0 of a ${f0} Hz sine at ${sampleRate / 1000} kHz within 0.5 %`, () => {
      const median = medianPitch(tone(f0, sampleRate, 1));
      assert.ok(median !== null);
      assert.ok(Math.abs(median - f0) / f0 < 0.005, `median ${median}`);
    });

    test(`finds the f0 of a ${f0} Hz harmonic tone at ${sampleRate / 1000} kHz and not an octave off`, () => {
      // A strong second and third harmonic tempt a tracker to answer 2·f0.
      const track = trackPitch(tone(f0, sampleRate, 1, [0.6, 1, 0.8, 0.4, 0.2]));
      assert.ok(voicedFraction(track) > 0.9, `voiced ${voicedFraction(track)}`);
      for (const f of track) if (f > 0) assert.ok(Math.abs(f - f0) / f0 < 0.01, `frame f0 ${f}`);
    });
  }
}

test('tracks a tone at 8 kHz, 22.05 kHz and 48 kHz too', () => {
  for (const sampleRate of [8000, 22_050, 48_000]) {
    const median = medianPitch(tone(180, sampleRate, 0.5, [1, 0.5, 0.25]));
    assert.ok(median !== null && Math.abs(median - 180) < 1, `${sampleRate}: ${median}`);
  }
});

test('follows a change of pitch from one half to the other', () => {
  const sr = 24_000;
  const a = tone(120, sr, 0.5, [1, 0.5]).samples;
  const b = tone(240, sr, 0.5, [1, 0.5]).samples;
  const samples = new Float32Array(a.length + b.length);
  samples.set(a);
  samples.set(b, a.length);
  const t = trackPitchDetailed({ samples, sampleRate: sr });
  const at = (sec: number): number => t.f0[Math.round((sec - t.offsetSeconds) / t.hopSeconds)] ?? 0;
  assert.ok(Math.abs(at(0.2) - 120) < 1, `at 0.2 s: ${at(0.2)}`);
  assert.ok(Math.abs(at(0.8) - 240) < 2, `at 0.8 s: ${at(0.8)}`);
});

test('reports a range whose percentiles bracket the median', () => {
  const sr = 16_000;
  const parts = [110, 130, 150, 170, 190].map((f) => tone(f, sr, 0.3, [1, 0.4]).samples);
  const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    samples.set(p, o);
    o += p.length;
  }
  const r = pitchRange({ samples, sampleRate: sr });
  assert.ok(r !== null);
  assert.ok(r.min <= r.p10 && r.p10 <= r.median && r.median <= r.p90 && r.p90 <= r.max);
  assert.ok(Math.abs(r.median - 150) < 3, `median ${r.median}`);
  assert.ok(r.min > 100 && r.max < 200, `min ${r.min} max ${r.max}`);
});

test('returns null for silence', () => {
  const pcm = { samples: new Float32Array(24_000), sampleRate: 24_000 };
  assert.equal(medianPitch(pcm), null);
  assert.equal(pitchRange(pcm), null);
  assert.equal(voicedFraction(trackPitch(pcm)), 0);
});

test('returns null for a clip too short to analyse', () => {
  assert.equal(medianPitch(tone(200, 24_000, 0.01)), null);
  assert.equal(trackPitch({ samples: new Float32Array(0), sampleRate: 24_000 }).length, 0);
});

test('leaves white noise mostly unvoiced', () => {
  for (const sampleRate of [16_000, 24_000]) {
    const pcm = noise(sampleRate, 2);
    assert.ok(voicedFraction(trackPitch(pcm)) < 0.05, `${sampleRate}: ${voicedFraction(trackPitch(pcm))}`);
    assert.equal(medianPitch(pcm), null);
  }
});

test('ignores a tone outside the search range', () => {
  assert.equal(medianPitch(tone(30, 24_000, 1)), null);
});

test('honours minHz and maxHz options', () => {
  const median = medianPitch(tone(600, 24_000, 0.5, [1, 0.5]), { minHz: 300, maxHz: 1000 });
  assert.ok(median !== null && Math.abs(median - 600) < 3, `${median}`);
});

test('emits one estimate per hop', () => {
  const t = trackPitchDetailed(tone(200, 24_000, 2));
  assert.equal(t.hopSeconds, 0.01);
  // 2 s at 10 ms hops, less the frames the window and the longest lag need at the end.
  assert.ok(t.f0.length > 190 && t.f0.length <= 200, `${t.f0.length}`);
});

test('finds the median pitch of 10 s of a harmonic tone in noise at 24 kHz', () => {
  const pcm = tone(140, 24_000, 10, [1, 0.7, 0.5, 0.3]);
  const mixed = noise(24_000, 10, 0.05);
  for (let i = 0; i < pcm.samples.length; i++) pcm.samples[i]! += mixed.samples[i]!;
  const median = medianPitch(pcm);
  assert.ok(median !== null && Math.abs(median - 140) < 1.5, `${median}`);
});
