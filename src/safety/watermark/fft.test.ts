import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RealFft } from './fft.js';

function naiveDft(x: readonly number[]): { re: number[]; im: number[] } {
  const n = x.length;
  const re: number[] = [];
  const im: number[] = [];
  for (let k = 0; k <= n / 2; k++) {
    let r = 0;
    let i = 0;
    for (let t = 0; t < n; t++) {
      r += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
      i -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
    re.push(r);
    im.push(i);
  }
  return { re, im };
}

describe('RealFft', () => {
  for (const n of [8, 16, 256, 2048]) {
    test(`matches a naive DFT and inverts exactly at N = ${n}`, () => {
      const fft = new RealFft(n);
      const x = Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 2.1) + ((i * 7919) % 13) / 13 - 0.5);
      const re = new Float64Array(n / 2 + 1);
      const im = new Float64Array(n / 2 + 1);
      fft.forward(x, re, im);
      const want = naiveDft(x);
      for (let k = 0; k <= n / 2; k++) {
        assert.ok(Math.abs(re[k]! - want.re[k]!) < 1e-8 * n, `re[${k}]`);
        assert.ok(Math.abs(im[k]! - want.im[k]!) < 1e-8 * n, `im[${k}]`);
      }
      const back = new Float64Array(n);
      fft.inverse(re, im, back);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(back[i]! - x[i]!) < 1e-12 * n, `x[${i}]`);
    });
  }

  test('refuses a length that is not a power of two', () => {
    assert.throws(() => new RealFft(1000), /power of two/);
  });
});
