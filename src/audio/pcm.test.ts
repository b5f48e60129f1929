import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatBytes, concatFloat32, floatToInt16, floatToS16le, int16ToFloat, S16leStreamDecoder, s16leToFloat } from './pcm.js';

test('writes little-endian 16-bit samples', () => {
  const bytes = floatToS16le(new Float32Array([0, 0.5, -0.5, -1]));
  assert.deepEqual([...bytes], [0x00, 0x00, 0x00, 0x40, 0x00, 0xc0, 0x00, 0x80]);
});

test('clips samples outside [-1, 1] instead of wrapping', () => {
  assert.deepEqual([...floatToInt16(new Float32Array([1, 1.5, -1.5, 100, -100]))], [32767, 32767, -32768, 32767, -32768]);
});

test('turns NaN into silence', () => {
  assert.deepEqual([...floatToInt16(new Float32Array([NaN]))], [0]);
});

test('round-trips every int16 value exactly through floats and bytes', () => {
  const all = new Int16Array(65536);
  for (let i = 0; i < all.length; i++) all[i] = i - 32768;
  const floats = int16ToFloat(all);
  assert.deepEqual(floatToInt16(floats), all);
  assert.deepEqual(s16leToFloat(floatToS16le(floats)), floats);
});

test('ignores a trailing odd byte in one-shot decoding', () => {
  assert.equal(s16leToFloat(new Uint8Array([0, 0x40, 7])).length, 1);
});

test('decodes a byte stream split at odd offsets like the whole', () => {
  const floats = int16ToFloat(new Int16Array([1, -2, 300, -32768, 32767, 12345, -1]));
  const bytes = floatToS16le(floats);
  const d = new S16leStreamDecoder();
  const parts = [
    d.push(bytes.subarray(0, 1)),
    d.push(bytes.subarray(1, 1)),
    d.push(bytes.subarray(1, 4)),
    d.push(bytes.subarray(4, 9)),
    d.push(bytes.subarray(9)),
  ];
  assert.deepEqual(concatFloat32(parts), floats);
  assert.equal(d.hasPartialSample(), false);
  d.push(new Uint8Array([1]));
  assert.equal(d.hasPartialSample(), true);
});

test('concatenates chunks, empty ones included', () => {
  assert.deepEqual(concatFloat32([new Float32Array([1]), new Float32Array(0), new Float32Array([2, 3])]), new Float32Array([1, 2, 3]));
  assert.deepEqual(concatBytes([new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])]), new Uint8Array([1, 2, 3]));
  assert.equal(concatFloat32([]).length, 0);
});

test('returns a copy when concatenating a single chunk', () => {
  const one = new Float32Array([1, 2]);
  const out = concatFloat32([one]);
  out[0] = 9;
  assert.equal(one[0], 1);
});
