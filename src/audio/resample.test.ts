import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resample, resampledLength, StreamingResampler } from './resample.js';
import { amplitudeAt, dominantFrequency, rms, tone, whiteNoise } from './test-signals.js';

/** The middle of a signal, away from the filter's edge transients. */
function middle(x: Float32Array, rate: number, edgeSeconds = 0.05): Float32Array {
  const e = Math.round(edgeSeconds * rate);
  return x.subarray(e, x.length - e);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

for (const from of [8000, 16_000, 22_050, 44_100, 48_000]) {
  test(`keeps the frequency and amplitude of a sine from ${from} Hz to 24 kHz`, () => {
    for (const f of [220, 1000, 3000]) {
      const input = tone(f, from, 1, 0.5);
      const out = resample({ samples: input, sampleRate: from }, 24_000);
      assert.equal(out.sampleRate, 24_000);
      const mid = middle(out.samples, 24_000);
      const measured = dominantFrequency(mid, 24_000);
      assert.ok(Math.abs(measured - f) < 0.5, `${f} Hz came out at ${measured}`);
      const amp = amplitudeAt(mid, 24_000, f);
      assert.ok(Math.abs(amp - 0.5) < 0.005, `${f} Hz amplitude ${amp}`);
      // Nothing but the tone: the residual after removing it is tiny (no images or aliases).
      const ref = tone(f, 24_000, out.samples.length / 24_000, 0.5);
      const err = new Float32Array(mid.length);
      const off = Math.round(0.05 * 24_000);
      for (let i = 0; i < mid.length; i++) err[i] = mid[i]! - ref[i + off]!;
      assert.ok(rms(err) < 1e-3, `${f} Hz residual rms ${rms(err)}`);
    }
  });
}

test('returns round(n · to / from) samples', () => {
  for (const [from, to] of [
    [8000, 24_000],
    [22_050, 24_000],
    [48_000, 24_000],
    [44_100, 24_000],
    [24_000, 16_000],
    [11_025, 24_000],
  ] as const) {
    for (const n of [0, 1, 2, 7, 100, 1001, 22_051]) {
      const out = resample({ samples: whiteNoise(n), sampleRate: from }, to);
      assert.equal(out.samples.length, Math.round((n * to) / from), `${from}→${to}, n=${n}`);
      assert.equal(out.samples.length, resampledLength(n, from, to));
    }
  }
});

test('attenuates content above the new Nyquist when downsampling', () => {
  // 48 kHz → 24 kHz: a 15 kHz tone would alias to 9 kHz; a 13 kHz tone to 11 kHz.
  for (const f of [13_000, 15_000, 20_000]) {
    const out = resample({ samples: tone(f, 48_000, 0.5, 0.5), sampleRate: 48_000 }, 24_000);
    const level = rms(middle(out.samples, 24_000));
    assert.ok(level < 0.5 * 10 ** (-60 / 20), `${f} Hz leaked at ${(20 * Math.log10(level / 0.354)).toFixed(1)} dB`);
  }
  // 24 kHz → 16 kHz: 10 kHz is above the new 8 kHz Nyquist.
  const out = resample({ samples: tone(10_000, 24_000, 0.5, 0.5), sampleRate: 24_000 }, 16_000);
  assert.ok(rms(middle(out.samples, 16_000)) < 0.5 * 10 ** (-60 / 20));
});

test('keeps a constant constant', () => {
  const out = resample({ samples: new Float32Array(4000).fill(0.25), sampleRate: 22_050 }, 24_000);
  for (const v of middle(out.samples, 24_000)) assert.ok(Math.abs(v - 0.25) < 1e-4, `${v}`);
});

test('returns a copy when the rates are equal', () => {
  const samples = tone(440, 24_000, 0.1);
  const out = resample({ samples, sampleRate: 24_000 }, 24_000);
  assert.deepEqual(out.samples, samples);
  assert.notEqual(out.samples, samples);
});

for (const [from, to] of [
  [22_050, 24_000],
  [8000, 24_000],
  [48_000, 24_000],
  [24_000, 24_000],
  [24_000, 23_999], // more phases than are precomputed
] as const) {
  test(`streams ${from} → ${to} Hz in uneven chunks exactly like the one-shot resampler`, () => {
    const input = whiteNoise(30_011, 0.5, 7);
    const oneShot = resample({ samples: input, sampleRate: from }, to).samples;
    for (const sizes of [[1], [0, 3, 1, 500], [4096], [30_011], [17, 1000, 0, 2, 9999]]) {
      const r = new StreamingResampler(from, to);
      const parts: Float32Array[] = [];
      let at = 0;
      let i = 0;
      while (at < input.length) {
        const size = sizes[i++ % sizes.length]!;
        parts.push(r.push(input.subarray(at, at + size)));
        at += size;
      }
      parts.push(r.flush());
      assert.deepEqual(concat(parts), oneShot, `chunk sizes ${sizes.join(',')}`);
    }
  });
}

test('returns nothing from a stream that received nothing', () => {
  const r = new StreamingResampler(16_000, 24_000);
  assert.equal(r.push(new Float32Array(0)).length, 0);
  assert.equal(r.flush().length, 0);
  assert.equal(r.flush().length, 0);
});

test('emits output before the stream ends, lagging only the filter length', () => {
  const r = new StreamingResampler(22_050, 24_000);
  const out = r.push(tone(300, 22_050, 0.5));
  const expected = resampledLength(Math.round(0.5 * 22_050), 22_050, 24_000);
  assert.ok(out.length > expected - 100, `${out.length} of ${expected}`);
});

test('rejects a non-integer or non-positive rate', () => {
  assert.throws(() => new StreamingResampler(0, 24_000), RangeError);
  assert.throws(() => new StreamingResampler(22_050.5, 24_000), RangeError);
});
