/**
 * FLAC (https://xiph.org/flac/format.html), written here: 16-bit mono 24 kHz, fixed block size
 * of 4096 samples, each subframe CONSTANT, FIXED (orders 0–4, Rice-coded residual with
 * partitions) or VERBATIM — whichever is smallest. Lossless; no LPC, so files are a little
 * larger than libFLAC's, at a fraction of the cost and with no WASM to load.
 *
 * Non-streaming holds the frames until `end` so STREAMINFO carries the total sample count,
 * frame sizes and the MD5 of the audio; streaming writes STREAMINFO first with those unknown (0).
 */
import { createHash, type Hash } from 'node:crypto';
import { concatBytes, floatToInt16 } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE } from '../types.js';
import { EMPTY, EncoderBase } from './base.js';

/** Samples per frame (FLAC's block size code 1100 = 4096). */
export const FLAC_BLOCK_SIZE = 4096;
const MAX_PARTITION_ORDER = 6;
const MAX_RICE_PARAM = 14; // 15 is the escape code

export class FlacEncoder extends EncoderBase {
  readonly contentType = 'audio/flac';
  private readonly streaming: boolean;
  private readonly block = new Int32Array(FLAC_BLOCK_SIZE);
  private blockFill = 0;
  private frameNumber = 0;
  private totalSamples = 0;
  private minFrame = Infinity;
  private maxFrame = 0;
  private headerSent = false;
  private readonly held: Uint8Array[] = [];
  private readonly md5: Hash | null;
  private readonly bits = new BitWriter(64 + FLAC_BLOCK_SIZE * 2 + 64);

  constructor(opts: { streaming?: boolean } = {}) {
    super();
    this.streaming = opts.streaming ?? false;
    this.md5 = this.streaming ? null : createHash('md5');
  }

  protected encode(samples: Float32Array): Uint8Array {
    if (samples.length === 0) return EMPTY;
    const pcm = floatToInt16(samples);
    // The MD5 in STREAMINFO is of the samples as s16le bytes (the host order of Int16Array on
    // every platform Node runs on in practice is little-endian; checked below).
    this.md5?.update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    this.totalSamples += pcm.length;
    const frames: Uint8Array[] = [];
    let at = 0;
    while (at < pcm.length) {
      const n = Math.min(FLAC_BLOCK_SIZE - this.blockFill, pcm.length - at);
      for (let i = 0; i < n; i++) this.block[this.blockFill + i] = pcm[at + i]!;
      this.blockFill += n;
      at += n;
      if (this.blockFill === FLAC_BLOCK_SIZE) frames.push(this.encodeFrame());
    }
    return this.emit(frames);
  }

  protected finish(): Uint8Array {
    const last = this.blockFill > 0 ? [this.encodeFrame()] : [];
    if (this.streaming) return this.emit(last);
    this.held.push(...last);
    const info = streamInfo({
      minFrame: this.held.length > 0 ? this.minFrame : 0,
      maxFrame: this.maxFrame,
      totalSamples: this.totalSamples,
      md5: this.md5!.digest(),
    });
    return concatBytes([info, ...this.held]);
  }

  protected override release(): void {
    this.held.length = 0;
  }

  /** Streaming: header (once) then frames. Otherwise hold the frames for `finish`. */
  private emit(frames: Uint8Array[]): Uint8Array {
    if (!this.streaming) {
      this.held.push(...frames);
      return EMPTY;
    }
    if (!this.headerSent) {
      this.headerSent = true;
      frames.unshift(streamInfo({ minFrame: 0, maxFrame: 0, totalSamples: 0, md5: new Uint8Array(16) }));
    }
    return frames.length === 0 ? EMPTY : frames.length === 1 ? frames[0]! : concatBytes(frames);
  }

  private encodeFrame(): Uint8Array {
    const n = this.blockFill;
    const x = this.block.subarray(0, n);
    const w = this.bits;
    w.reset();

    // Frame header.
    w.write(0xfff8, 16); // sync code, reserved 0, fixed-blocksize stream
    const sizeCode = n === FLAC_BLOCK_SIZE ? 0b1100 : 0b0111;
    w.write(sizeCode, 4);
    w.write(0b0111, 4); // 24 kHz
    w.write(0b0000, 4); // mono
    w.write(0b100, 3); // 16 bits per sample
    w.write(0, 1);
    writeUtf8Number(w, this.frameNumber);
    if (sizeCode === 0b0111) w.write(n - 1, 16);
    w.write(crc8(w.bytes(), 0, w.byteLength()), 8);

    writeSubframe(w, x);

    w.alignToByte();
    w.write(crc16(w.bytes(), 0, w.byteLength()), 16);
    const frame = w.bytes().slice(0, w.byteLength());

    this.frameNumber++;
    this.blockFill = 0;
    this.minFrame = Math.min(this.minFrame, frame.length);
    this.maxFrame = Math.max(this.maxFrame, frame.length);
    return frame;
  }
}

// Int16Array is used as s16le bytes for the MD5: make sure the host is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('FlacEncoder assumes a little-endian host');

/** "fLaC" and the STREAMINFO block (the only, hence last, metadata block). */
function streamInfo(p: { minFrame: number; maxFrame: number; totalSamples: number; md5: Uint8Array }): Uint8Array {
  const w = new BitWriter(4 + 4 + 34);
  for (const c of 'fLaC') w.write(c.charCodeAt(0), 8);
  w.write(1, 1); // last metadata block
  w.write(0, 7); // STREAMINFO
  w.write(34, 24);
  w.write(FLAC_BLOCK_SIZE, 16); // min block size
  w.write(FLAC_BLOCK_SIZE, 16); // max block size
  w.write(p.minFrame, 24);
  w.write(p.maxFrame, 24);
  w.write(OUTPUT_SAMPLE_RATE, 20);
  w.write(0, 3); // channels − 1
  w.write(15, 5); // bits per sample − 1
  // Total samples, 36 bits (0 = unknown); past 2^36 it is left unknown.
  const total = p.totalSamples < 2 ** 36 ? p.totalSamples : 0;
  w.write(Math.floor(total / 2 ** 18), 18);
  w.write(total % 2 ** 18, 18);
  for (const b of p.md5) w.write(b, 8);
  return w.bytes().slice(0, w.byteLength());
}

/** The smallest of CONSTANT, FIXED (orders 0–4) and VERBATIM for one channel. */
function writeSubframe(w: BitWriter, x: Int32Array): void {
  const n = x.length;
  let constant = true;
  for (let i = 1; i < n && constant; i++) constant = x[i] === x[0];
  if (constant) {
    w.write(0, 8); // pad bit, type 000000, no wasted bits
    w.write(x[0]! & 0xffff, 16);
    return;
  }

  // Pick the fixed predictor order with the least total absolute residual (as libFLAC does).
  const maxOrder = Math.min(4, n - 1);
  const order = bestFixedOrder(x, maxOrder);
  const residual = fixedResidual(x, order);
  const plan = planRice(residual, n, order);
  const fixedBits = 8 + 16 * order + 2 + 4 + plan.bits;
  const verbatimBits = 8 + 16 * n;

  if (fixedBits >= verbatimBits) {
    w.write(0b00000010, 8); // VERBATIM
    for (let i = 0; i < n; i++) w.write(x[i]! & 0xffff, 16);
    return;
  }
  w.write((0b001000 | order) << 1, 8); // FIXED, order
  for (let i = 0; i < order; i++) w.write(x[i]! & 0xffff, 16); // warm-up samples
  w.write(0b00, 2); // Rice, 4-bit parameters
  w.write(plan.partitionOrder, 4);
  const parts = 1 << plan.partitionOrder;
  const size = n >> plan.partitionOrder;
  let i = 0;
  for (let p = 0; p < parts; p++) {
    const k = plan.params[p]!;
    w.write(k, 4);
    const end = (p + 1) * size - order; // residual index: partition 0 lacks the warm-up samples
    for (; i < end; i++) w.rice(residual[i]!, k);
  }
}

function bestFixedOrder(x: Int32Array, maxOrder: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  const start = Math.min(4, x.length);
  for (let i = start; i < x.length; i++) {
    const a = x[i]!;
    const b = x[i - 1]!;
    const c = x[i - 2]!;
    const d = x[i - 3]!;
    const e = x[i - 4]!;
    s0 += Math.abs(a);
    s1 += Math.abs(a - b);
    s2 += Math.abs(a - 2 * b + c);
    s3 += Math.abs(a - 3 * b + 3 * c - d);
    s4 += Math.abs(a - 4 * b + 6 * c - 4 * d + e);
  }
  const sums = [s0, s1, s2, s3, s4];
  let best = 0;
  for (let o = 1; o <= maxOrder; o++) if (sums[o]! < sums[best]!) best = o;
  return best;
}

/** Residual of the fixed predictor of `order`, for samples order … n−1. */
function fixedResidual(x: Int32Array, order: number): Int32Array {
  const n = x.length;
  const r = new Int32Array(n - order);
  for (let i = order; i < n; i++) {
    let v: number;
    switch (order) {
      case 0:
        v = x[i]!;
        break;
      case 1:
        v = x[i]! - x[i - 1]!;
        break;
      case 2:
        v = x[i]! - 2 * x[i - 1]! + x[i - 2]!;
        break;
      case 3:
        v = x[i]! - 3 * x[i - 1]! + 3 * x[i - 2]! - x[i - 3]!;
        break;
      default:
        v = x[i]! - 4 * x[i - 1]! + 6 * x[i - 2]! - 4 * x[i - 3]! + x[i - 4]!;
    }
    r[i - order] = v;
  }
  return r;
}

interface RicePlan {
  partitionOrder: number;
  params: number[];
  /** Exact bits of the partitions (parameters and codes). */
  bits: number;
}

/** Choose the partition order and per-partition Rice parameters with the fewest bits. */
function planRice(residual: Int32Array, n: number, order: number): RicePlan {
  // Zig-zag folded magnitudes (what Rice codes), summed per finest partition.
  const u = new Uint32Array(residual.length);
  for (let i = 0; i < residual.length; i++) {
    const v = residual[i]!;
    u[i] = v >= 0 ? 2 * v : -2 * v - 1;
  }
  let maxP = 0;
  while (maxP < MAX_PARTITION_ORDER && n % (1 << (maxP + 1)) === 0 && n >> (maxP + 1) > order) maxP++;

  let best: RicePlan | null = null;
  for (let p = 0; p <= maxP; p++) {
    const parts = 1 << p;
    const size = n >> p;
    const params: number[] = [];
    let bits = 0;
    let i = 0;
    for (let part = 0; part < parts; part++) {
      const end = (part + 1) * size - order;
      const start = i;
      let sum = 0;
      for (; i < end; i++) sum += u[i]!;
      const count = end - start;
      const k = bestParam(sum, count);
      params.push(k);
      bits += 4 + exactRiceBits(u, start, end, k);
    }
    if (!best || bits < best.bits) best = { partitionOrder: p, params, bits };
  }
  return best!;
}

/** Rice parameter minimising the estimated cost count·(k+1) + sum/2^k. */
function bestParam(sum: number, count: number): number {
  if (count === 0 || sum === 0) return 0;
  const guess = Math.max(0, Math.floor(Math.log2(sum / count)));
  let best = 0;
  let bestCost = Infinity;
  for (let k = Math.max(0, guess - 1); k <= Math.min(MAX_RICE_PARAM, guess + 1); k++) {
    const cost = count * (k + 1) + sum / 2 ** k;
    if (cost < bestCost) {
      bestCost = cost;
      best = k;
    }
  }
  return best;
}

function exactRiceBits(u: Uint32Array, start: number, end: number, k: number): number {
  let bits = (end - start) * (k + 1);
  for (let i = start; i < end; i++) bits += u[i]! >>> k;
  return bits;
}

/** Frame number as FLAC's extended UTF-8 (up to 36 bits, 1–7 bytes). */
function writeUtf8Number(w: BitWriter, v: number): void {
  if (v < 0x80) {
    w.write(v, 8);
    return;
  }
  let bytes = 2;
  while (bytes < 7 && v >= 2 ** (5 * bytes + 1)) bytes++;
  const lead = (0xff00 >> bytes) & 0xff;
  w.write(lead | Math.floor(v / 2 ** (6 * (bytes - 1))), 8);
  for (let b = bytes - 2; b >= 0; b--) w.write(0x80 | (Math.floor(v / 2 ** (6 * b)) & 0x3f), 8);
}

/** MSB-first bit writer over a fixed buffer (sized for the worst case by the caller). */
class BitWriter {
  private buf: Uint8Array;
  private pos = 0;
  private acc = 0;
  private nbits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.pos = 0;
    this.acc = 0;
    this.nbits = 0;
  }

  /** Write the low `n` bits of `v` (n ≤ 24). */
  write(v: number, n: number): void {
    this.acc = (this.acc << n) | (v & ((1 << n) - 1));
    this.nbits += n;
    while (this.nbits >= 8) {
      this.nbits -= 8;
      this.put((this.acc >>> this.nbits) & 0xff);
    }
    this.acc &= (1 << this.nbits) - 1;
  }

  /** Rice code of a signed value with parameter k: zig-zag, unary quotient, k low bits. */
  rice(v: number, k: number): void {
    const u = v >= 0 ? 2 * v : -2 * v - 1;
    let q = u >>> k;
    const low = (1 << k) | (u & ((1 << k) - 1)); // the unary terminator and the remainder
    if (q + 1 + k <= 24) {
      this.write(low, q + 1 + k);
      return;
    }
    for (; q >= 24; q -= 24) this.write(0, 24);
    if (q > 0) this.write(0, q);
    this.write(low, k + 1);
  }

  alignToByte(): void {
    if (this.nbits > 0) this.write(0, 8 - this.nbits);
  }

  /** The buffer (valid up to byteLength()). */
  bytes(): Uint8Array {
    return this.buf;
  }

  /** Whole bytes written. */
  byteLength(): number {
    return this.pos;
  }

  private put(b: number): void {
    if (this.pos === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.pos++] = b;
  }
}

const CRC8 = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i;
    for (let k = 0; k < 8; k++) r = r & 0x80 ? ((r << 1) ^ 0x07) & 0xff : (r << 1) & 0xff;
    t[i] = r;
  }
  return t;
})();

const CRC16 = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 8;
    for (let k = 0; k < 8; k++) r = r & 0x8000 ? ((r << 1) ^ 0x8005) & 0xffff : (r << 1) & 0xffff;
    t[i] = r;
  }
  return t;
})();

/** CRC-8, polynomial x^8 + x^2 + x + 1, initial 0 (frame header). */
function crc8(b: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = CRC8[c ^ b[i]!]!;
  return c;
}

/** CRC-16, polynomial x^16 + x^15 + x^2 + 1, initial 0 (whole frame). */
function crc16(b: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = ((c << 8) ^ CRC16[((c >> 8) ^ b[i]!) & 0xff]!) & 0xffff;
  return c;
}
