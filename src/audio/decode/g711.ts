/**
 * G.711 µ-law and A-law expansion tables (ITU-T G.711; bit layout as in Sun's reference g711.c).
 * Values are the 16-bit linear sample / 32768, so full scale is ±0.98 (µ-law) and ±0.984 (A-law).
 */

/** µ-law byte → float. */
export const MULAW_TABLE: Float32Array = buildTable(mulawToLinear);
/** A-law byte → float. */
export const ALAW_TABLE: Float32Array = buildTable(alawToLinear);

function buildTable(expand: (byte: number) => number): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = expand(b) / 32768;
  return t;
}

/** One µ-law byte to a 16-bit linear value (range ±32124). */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

/** One A-law byte to a 16-bit linear value (range ±32256). */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}
