/**
 * Float ↔ 16-bit PCM conversion and concatenation.
 *
 * Scale: a float x maps to round(x · 32768) clipped to [−32768, 32767]; an int16 v maps back to
 * v / 32768, so int16 → float → int16 is exact. Byte order is little-endian on every host.
 */

/** Floats in [−1, 1] to int16, clipping what lies outside. */
export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = toInt16(samples[i]!);
  return out;
}

/** Floats in [−1, 1] to s16le bytes (2 per sample), clipping what lies outside. */
export function floatToS16le(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0, o = 0; i < samples.length; i++, o += 2) {
    const v = toInt16(samples[i]!);
    out[o] = v & 0xff;
    out[o + 1] = (v >> 8) & 0xff;
  }
  return out;
}

/** int16 samples to floats in [−1, 1). */
export function int16ToFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/** s16le bytes to floats in [−1, 1). A trailing odd byte is ignored (use S16leStreamDecoder for streams). */
export function s16leToFloat(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    const u = bytes[o]! | (bytes[o + 1]! << 8);
    out[i] = (u >= 0x8000 ? u - 0x10000 : u) / 32768;
  }
  return out;
}

/** Turns s16le bytes arriving in arbitrary chunks (odd lengths included) into floats. */
export class S16leStreamDecoder {
  private carry: number | null = null;

  /** Decode a chunk; a dangling odd byte is kept for the next chunk. */
  push(bytes: Uint8Array): Float32Array {
    let input = bytes;
    if (this.carry !== null && bytes.length > 0) {
      input = new Uint8Array(bytes.length + 1);
      input[0] = this.carry;
      input.set(bytes, 1);
      this.carry = null;
    }
    if (input.length % 2 === 1) {
      this.carry = input[input.length - 1]!;
      input = input.subarray(0, input.length - 1);
    }
    return s16leToFloat(input);
  }

  /** True when a dangling byte is held (the stream ended mid-sample if this is true at the end). */
  hasPartialSample(): boolean {
    return this.carry !== null;
  }
}

/** Concatenate float chunks into one array. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!.slice();
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Concatenate byte chunks into one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One float to int16 with rounding and clipping (NaN becomes 0). */
function toInt16(x: number): number {
  const v = Math.round(x * 32768);
  if (v > 32767) return 32767;
  if (v < -32768) return -32768;
  return v || 0;
}
