/**
 * What the bytes are, from their first bytes (never from the file name or the client's `format`):
 * RIFF/WAVE, ID3/MPEG audio frames, fLaC, OggS, EBML (WebM/Matroska), ISO-BMFF (mp4/m4a), ADTS.
 * MPEG audio has no magic number, so it is accepted only when several consecutive frame headers
 * chain up with the same version, layer and rate (random bytes almost never do that, while mpg123
 * would happily "decode" them).
 */
import type { Container } from './types.js';
import { isWav } from './wav.js';

/** How far past ID3 tags we look for the first MPEG audio frame. */
const MPEG_SCAN_BYTES = 64 * 1024;
/** Consecutive frames that must chain up (fewer only when the file ends exactly after them). */
const MPEG_CHAIN = 4;

/** The container of `bytes`, or null when it is none we decode. */
export function sniffContainer(bytes: Uint8Array): Container | null {
  if (bytes.length < 4) return null;
  if (isWav(bytes) || ascii(bytes, 0) === 'RIFX') return 'wav';
  const start = skipId3v2(bytes);
  const at = (s: string, pos: number) => bytes.length >= pos + s.length && ascii(bytes, pos, s.length) === s;
  if (at('fLaC', start)) return 'flac';
  if (at('OggS', 0) && bytes[4] === 0) return 'ogg';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  if (isIsoBmff(bytes)) return 'mp4';
  if (findMpegStream(bytes, start) !== null) return 'mp3';
  if (isAdtsChain(bytes, start)) return 'aac';
  return null;
}

/** Offset just past any ID3v2 tags at the start (0 when there are none). */
export function skipId3v2(bytes: Uint8Array): number {
  let pos = 0;
  // ID3v2: "ID3", version (2 bytes), flags, size as 4 syncsafe bytes; +10 with a footer.
  while (pos + 10 <= bytes.length && bytes[pos] === 0x49 && bytes[pos + 1] === 0x44 && bytes[pos + 2] === 0x33) {
    const s = [bytes[pos + 6]!, bytes[pos + 7]!, bytes[pos + 8]!, bytes[pos + 9]!];
    if (s.some((b) => b & 0x80)) break;
    const size = (s[0]! << 21) | (s[1]! << 14) | (s[2]! << 7) | s[3]!;
    pos += 10 + size + (bytes[pos + 5]! & 0x10 ? 10 : 0);
  }
  return Math.min(pos, bytes.length);
}

/** One MPEG audio (Layer I/II/III) frame header. */
export interface MpegFrameHeader {
  /** 1 (MPEG-1), 2 (MPEG-2) or 2.5. */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  sampleRate: number;
  /** Frame length in bytes, header included. */
  frameBytes: number;
  /** PCM samples per channel the frame decodes to. */
  samplesPerFrame: number;
  /** 1 for mono, else 2. */
  channels: 1 | 2;
}

const BITRATES: Record<string, readonly number[]> = {
  // kbit/s by bitrate index 1–14, per version-layer.
  '1-1': [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES: Record<string, readonly number[]> = { '1': [44100, 48000, 32000], '2': [22050, 24000, 16000], '2.5': [11025, 12000, 8000] };

/** Parse the 4-byte MPEG audio frame header at `pos`, or null when there is none (free format is not supported). */
export function parseMpegHeader(bytes: Uint8Array, pos: number): MpegFrameHeader | null {
  if (pos + 4 > bytes.length) return null;
  const b1 = bytes[pos + 1]!;
  const b2 = bytes[pos + 2]!;
  if (bytes[pos] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const v = (b1 >> 3) & 3;
  const l = (b1 >> 1) & 3;
  const bi = b2 >> 4;
  const si = (b2 >> 2) & 3;
  if (v === 1 || l === 0 || bi === 0 || bi === 15 || si === 3) return null;
  const version = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const kbps = BITRATES[`${version === 1 ? 1 : 2}-${layer}`]![bi - 1]!;
  const sampleRate = RATES[String(version)]![si]!;
  const padding = (b2 >> 1) & 1;
  let frameBytes: number;
  let samplesPerFrame: number;
  if (layer === 1) {
    frameBytes = (Math.floor((12 * kbps * 1000) / sampleRate) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    frameBytes = Math.floor((144 * kbps * 1000) / sampleRate) + padding;
    samplesPerFrame = 1152;
  } else {
    frameBytes = Math.floor((72 * kbps * 1000) / sampleRate) + padding;
    samplesPerFrame = 576;
  }
  const channels = bytes[pos + 3]! >> 6 === 3 ? 1 : 2;
  return { version, layer, sampleRate, frameBytes, samplesPerFrame, channels };
}

/** Where the MPEG audio stream begins, with its first header, or null when no chain of frames is found. */
export function findMpegStream(bytes: Uint8Array, from: number): { offset: number; header: MpegFrameHeader } | null {
  const limit = Math.min(bytes.length - 4, from + MPEG_SCAN_BYTES);
  for (let pos = from; pos <= limit; pos++) {
    if (bytes[pos] !== 0xff) continue;
    const header = parseMpegHeader(bytes, pos);
    if (header && chains(bytes, pos, header)) return { offset: pos, header };
  }
  return null;
}

/** Counts the frames from `offset` on (stopping at the first break in the chain); for size estimates. */
export function countMpegFrames(bytes: Uint8Array, offset: number): { frames: number; samples: number; endOffset: number } {
  let pos = offset;
  let frames = 0;
  let samples = 0;
  for (;;) {
    const h = parseMpegHeader(bytes, pos);
    if (!h || pos + h.frameBytes > bytes.length) break;
    frames++;
    samples += h.samplesPerFrame;
    pos += h.frameBytes;
  }
  return { frames, samples, endOffset: pos };
}

function chains(bytes: Uint8Array, pos: number, first: MpegFrameHeader): boolean {
  let p = pos;
  for (let n = 0; n < MPEG_CHAIN; n++) {
    const h = parseMpegHeader(bytes, p);
    if (!h || h.version !== first.version || h.layer !== first.layer || h.sampleRate !== first.sampleRate) return false;
    p += h.frameBytes;
    // A short file that ends exactly at a frame boundary counts as a chain.
    if (p === bytes.length) return true;
    if (p > bytes.length) return false;
  }
  return true;
}

/** ADTS (raw AAC): 0xFFF sync with layer 00, chaining frame lengths. */
function isAdtsChain(bytes: Uint8Array, from: number): boolean {
  let p = from;
  for (let n = 0; n < MPEG_CHAIN; n++) {
    if (p + 7 > bytes.length) return false;
    if (bytes[p] !== 0xff || (bytes[p + 1]! & 0xf6) !== 0xf0) return false;
    if (((bytes[p + 2]! >> 2) & 0x0f) > 12) return false; // sampling frequency index
    const len = ((bytes[p + 3]! & 0x03) << 11) | (bytes[p + 4]! << 3) | (bytes[p + 5]! >> 5);
    if (len < 7) return false;
    p += len;
    if (p === bytes.length) return true;
    if (p > bytes.length) return false;
  }
  return true;
}

/** ISO base media (mp4, m4a, mov, 3gp): a plausible first box, normally `ftyp`. */
function isIsoBmff(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const type = ascii(bytes, 4);
  const size = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  if (type === 'ftyp') return size >= 8 && size <= 4096;
  // QuickTime files may start with other top-level boxes.
  return (type === 'moov' || type === 'mdat' || type === 'wide' || type === 'free' || type === 'skip') && (size === 1 || size >= 8);
}

function ascii(bytes: Uint8Array, pos: number, n = 4): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[pos + i] ?? 0);
  return s;
}
