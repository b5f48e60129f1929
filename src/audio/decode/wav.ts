/**
 * Our own RIFF/WAVE reader: PCM 8/16/24/32-bit, float 32/64, µ-law, A-law, WAVE_FORMAT_EXTENSIBLE,
 * RF64, 1 kHz–384 kHz, 1–32 channels. It reads straight from the input bytes into one mono
 * Float32Array (channels averaged), so memory is the input plus the output and nothing else.
 *
 * Leniency, because real files lie (see the cases in test/fixtures/audio-in/make-corpus.ts):
 * - the RIFF size is ignored; chunks are walked to the end of the file;
 * - a data size beyond the end of the file means "truncated": what is there is used;
 * - 0xFFFFFFFF (and 0 followed by no further chunks) is the streaming convention: data runs to the end;
 * - odd-sized chunks are followed by a pad byte, unless the writer forgot it (then the next chunk
 *   id is found without it);
 * - a trailing partial frame is dropped.
 * Anything else (no fmt or data chunk, absurd rate or channel count, unknown sample size) is a
 * DecodeFailure. Encodings other than the ones above (ADPCM, GSM, MP3-in-WAV, …) are reported as
 * `foreign` so the caller can hand the file to ffmpeg.
 *
 * Spec: http://www-mmsp.ece.mcgill.ca/Documents/AudioFormats/WAVE/WAVE.html, EBU Tech 3306 (RF64).
 */
import { DecodeFailure, TooLongFailure } from './failure.js';
import { ALAW_TABLE, MULAW_TABLE } from './g711.js';
import type { MonoBuffer } from './mono-buffer.js';

/** Lowest and highest accepted sample rates, Hz. */
export const MIN_SAMPLE_RATE = 1000;
export const MAX_SAMPLE_RATE = 384_000;
/** Most channels accepted. */
export const MAX_CHANNELS = 32;

const TAG_PCM = 0x0001;
const TAG_FLOAT = 0x0003;
const TAG_ALAW = 0x0006;
const TAG_MULAW = 0x0007;
const TAG_EXTENSIBLE = 0xfffe;
/** Bytes 2–15 of every KSDATAFORMAT_SUBTYPE_* GUID whose first two bytes are a format tag. */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const STREAMING_SIZE = 0xffffffff;

/** How samples are stored. `foreign` = a valid WAV whose codec we leave to ffmpeg. */
export type WavEncoding = 'pcm' | 'float' | 'mulaw' | 'alaw' | 'foreign';

export interface WavFormat {
  /** Sample encoding. */
  encoding: WavEncoding;
  /** The format tag (the sub-format's for WAVE_FORMAT_EXTENSIBLE). */
  tag: number;
  /** Interleaved channels. */
  channels: number;
  /** Samples per second per channel. */
  sampleRate: number;
  /** Bytes of one sample of one channel (the container size). */
  bytesPerSample: number;
  /** Bytes of one frame (one sample of every channel). */
  frameBytes: number;
}

export interface WavLayout {
  format: WavFormat;
  /** Offset of the first sample byte. */
  dataOffset: number;
  /** Bytes of whole frames available; null in stream mode (the data runs to the end of the stream). */
  dataBytes: number | null;
}

/** Result of `decodeWav`. */
export interface DecodedWav {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

/** True when the bytes start like a RIFF/RF64 WAVE file. */
export function isWav(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const id = ascii(bytes, 0);
  return (id === 'RIFF' || id === 'RF64' || id === 'BW64') && ascii(bytes, 8) === 'WAVE';
}

/**
 * Read the header. In `stream` mode (ffmpeg's output, arriving in pieces) returns null until the
 * `data` chunk header has arrived, and the data is taken to run to the end of the stream.
 */
export function parseWavHeader(bytes: Uint8Array, mode: 'file' | 'stream' = 'file'): WavLayout | null {
  const len = bytes.length;
  if (len < 12) {
    if (mode === 'stream') return null;
    throw new DecodeFailure('WAV: shorter than a RIFF header');
  }
  const riff = ascii(bytes, 0);
  if (riff === 'RIFX') throw new DecodeFailure('WAV: big-endian RIFX is not supported');
  if (!isWav(bytes)) throw new DecodeFailure('WAV: no RIFF/WAVE header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riffSize = view.getUint32(4, true);
  // Data beyond the RIFF chunk is only cut off when the RIFF size is plausible.
  const riffEnd = riffSize >= 4 && riffSize !== STREAMING_SIZE && 8 + riffSize <= len ? 8 + riffSize : len;

  let format: WavFormat | null = null;
  let ds64DataSize: number | null = null;
  let dataStart = -1;
  let declared = 0;
  let pos = 12;
  while (pos + 8 <= len) {
    const id = ascii(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (body + Math.max(size, 16) > len) {
        if (mode === 'stream') return null;
        throw new DecodeFailure('WAV: fmt chunk cut off');
      }
      format ??= parseFmt(view, body, size);
    } else if (id === 'ds64' && body + 16 <= len && size >= 16) {
      // RF64: 64-bit RIFF size, then 64-bit data size.
      ds64DataSize = view.getUint32(body + 8, true) + view.getUint32(body + 12, true) * 2 ** 32;
    } else if (id === 'data') {
      dataStart = body;
      declared = size;
      break;
    }
    pos = nextChunk(bytes, body, size);
  }

  if (dataStart < 0) {
    if (mode === 'stream') return null;
    throw new DecodeFailure(format ? 'WAV: no data chunk' : 'WAV: no fmt chunk');
  }
  if (!format) throw new DecodeFailure('WAV: data chunk before any fmt chunk');
  if (mode === 'stream') return { format, dataOffset: dataStart, dataBytes: null };

  const available = len - dataStart;
  let bytesOfData: number;
  if (declared === STREAMING_SIZE) {
    bytesOfData = ds64DataSize !== null ? Math.min(ds64DataSize, available) : Math.max(0, (riffEnd > dataStart ? riffEnd : len) - dataStart);
  } else if (declared > available) {
    bytesOfData = available; // truncated file: use what is there
  } else if (declared === 0 && available > 0 && !chunksFollow(bytes, dataStart)) {
    bytesOfData = available; // a recorder that never went back to fill the size in
  } else {
    bytesOfData = declared;
  }
  bytesOfData -= bytesOfData % format.frameBytes;
  return { format, dataOffset: dataStart, dataBytes: bytesOfData };
}

/** Decode a whole WAV file to mono floats. Throws DecodeFailure; `foreign` encodings are the caller's. */
export function decodeWav(bytes: Uint8Array, layout: WavLayout, maxSamples: number, limitSec: number): DecodedWav {
  const { format } = layout;
  if (format.encoding === 'foreign' || layout.dataBytes === null) throw new DecodeFailure(`WAV: encoding 0x${format.tag.toString(16)} needs ffmpeg`);
  const frames = layout.dataBytes / format.frameBytes;
  if (frames > maxSamples) throw new TooLongFailure(limitSec);
  const samples = new Float32Array(frames);
  decodeFramesInto(bytes, layout.dataOffset, frames, format, samples, 0);
  return { samples, sampleRate: format.sampleRate, channels: format.channels };
}

/**
 * Decode `frames` interleaved frames starting at `offset` of `bytes` into `out[outOffset…]`,
 * averaging the channels. Non-finite floats become 0 so NaN never reaches an engine.
 */
export function decodeFramesInto(bytes: Uint8Array, offset: number, frames: number, format: WavFormat, out: Float32Array, outOffset: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ch = format.channels;
  const step = format.bytesPerSample;
  const inv = 1 / ch;
  let p = offset;
  let o = outOffset;
  const end = outOffset + frames;
  switch (format.encoding) {
    case 'pcm':
      switch (step) {
        case 1:
          for (; o < end; o++) {
            let acc = 0;
            for (let c = 0; c < ch; c++, p++) acc += bytes[p]! - 128;
            out[o] = (acc * inv) / 128;
          }
          return;
        case 2:
          for (; o < end; o++) {
            let acc = 0;
            for (let c = 0; c < ch; c++, p += 2) acc += view.getInt16(p, true);
            out[o] = (acc * inv) / 32768;
          }
          return;
        case 3:
          for (; o < end; o++) {
            let acc = 0;
            for (let c = 0; c < ch; c++, p += 3) acc += ((bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16)) << 8) >> 8;
            out[o] = (acc * inv) / 8388608;
          }
          return;
        default:
          for (; o < end; o++) {
            let acc = 0;
            for (let c = 0; c < ch; c++, p += 4) acc += view.getInt32(p, true);
            out[o] = (acc * inv) / 2147483648;
          }
          return;
      }
    case 'float':
      if (step === 4) {
        for (; o < end; o++) {
          let acc = 0;
          for (let c = 0; c < ch; c++, p += 4) {
            const v = view.getFloat32(p, true);
            if (Number.isFinite(v)) acc += v;
          }
          out[o] = acc * inv;
        }
      } else {
        for (; o < end; o++) {
          let acc = 0;
          for (let c = 0; c < ch; c++, p += 8) {
            const v = view.getFloat64(p, true);
            if (Number.isFinite(v)) acc += v;
          }
          out[o] = acc * inv;
        }
      }
      return;
    case 'mulaw':
    case 'alaw': {
      const table = format.encoding === 'mulaw' ? MULAW_TABLE : ALAW_TABLE;
      for (; o < end; o++) {
        let acc = 0;
        for (let c = 0; c < ch; c++, p++) acc += table[bytes[p]!]!;
        out[o] = acc * inv;
      }
      return;
    }
    case 'foreign':
      throw new DecodeFailure('WAV: cannot decode a foreign encoding in process');
  }
}

/**
 * Decodes a WAV stream arriving in pieces (ffmpeg's stdout): the header is parsed once it is
 * complete, then every chunk is decoded as it comes, carrying a partial frame to the next one.
 */
export class WavStreamDecoder {
  private head: Uint8Array = new Uint8Array(0);
  private carry: Uint8Array = new Uint8Array(0);
  /** The format, once the header has arrived. */
  format: WavFormat | null = null;
  /** Where samples go, created by `makeSink` once the format is known. */
  sink: MonoBuffer | null = null;

  constructor(private readonly makeSink: (format: WavFormat) => MonoBuffer) {}

  /** Feed the next bytes of the stream. Throws DecodeFailure or TooLongFailure. */
  push(chunk: Uint8Array): void {
    if (!this.format || !this.sink) {
      this.head = concat(this.head, chunk);
      const layout = parseWavHeader(this.head, 'stream');
      if (!layout) {
        if (this.head.length > 1 << 20) throw new DecodeFailure('WAV stream: no data chunk in the first MB');
        return;
      }
      if (layout.format.encoding === 'foreign') throw new DecodeFailure('WAV stream: unexpected encoding');
      this.format = layout.format;
      this.sink = this.makeSink(layout.format);
      chunk = this.head.subarray(layout.dataOffset);
      this.head = new Uint8Array(0);
    }
    const fb = this.format.frameBytes;
    const bytes = this.carry.length > 0 ? concat(this.carry, chunk) : chunk;
    const frames = Math.floor(bytes.length / fb);
    if (frames > 0) {
      decodeFramesInto(bytes, 0, frames, this.format, this.sink.reserve(frames), this.sink.length);
      this.sink.length += frames;
    }
    this.carry = bytes.slice(frames * fb);
  }
}

function parseFmt(view: DataView, body: number, size: number): WavFormat {
  if (size < 16) throw new DecodeFailure(`WAV: fmt chunk of ${size} bytes`);
  let tag = view.getUint16(body, true);
  const channels = view.getUint16(body + 2, true);
  const sampleRate = view.getUint32(body + 4, true);
  const bits = view.getUint16(body + 14, true);
  if (tag === TAG_EXTENSIBLE) {
    if (size < 40 || body + 40 > view.byteLength) throw new DecodeFailure('WAV: WAVE_FORMAT_EXTENSIBLE fmt chunk too short');
    tag = view.getUint16(body + 24, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (view.getUint8(body + 26 + i) !== GUID_TAIL[i]) throw new DecodeFailure('WAV: unknown WAVE_FORMAT_EXTENSIBLE sub-format');
    }
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw new DecodeFailure(`WAV: ${channels} channels`);
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) throw new DecodeFailure(`WAV: sample rate ${sampleRate}`);
  let encoding: WavEncoding;
  let bytesPerSample: number;
  switch (tag) {
    case TAG_PCM:
      if (bits < 8 || bits > 32) throw new DecodeFailure(`WAV: ${bits}-bit PCM`);
      encoding = 'pcm';
      bytesPerSample = Math.ceil(bits / 8);
      break;
    case TAG_FLOAT:
      if (bits !== 32 && bits !== 64) throw new DecodeFailure(`WAV: ${bits}-bit float`);
      encoding = 'float';
      bytesPerSample = bits / 8;
      break;
    case TAG_MULAW:
    case TAG_ALAW:
      if (bits !== 8) throw new DecodeFailure(`WAV: ${bits}-bit G.711`);
      encoding = tag === TAG_MULAW ? 'mulaw' : 'alaw';
      bytesPerSample = 1;
      break;
    default: {
      // ADPCM, GSM, MP3-in-WAV…: ffmpeg knows them; its own checks decide.
      const blockAlign = view.getUint16(body + 12, true);
      if (blockAlign === 0) throw new DecodeFailure(`WAV: encoding 0x${tag.toString(16)} with block size 0`);
      encoding = 'foreign';
      bytesPerSample = 1;
    }
  }
  return { encoding, tag, channels, sampleRate, bytesPerSample, frameBytes: bytesPerSample * channels };
}

/** Chunk ids seen in the wild, to tell where the next chunk starts after an unpadded odd chunk. */
const KNOWN_CHUNKS = new Set([
  'data',
  'fmt ',
  'LIST',
  'fact',
  'cue ',
  'smpl',
  'inst',
  'bext',
  'JUNK',
  'junk',
  'PAD ',
  'pad ',
  'FLLR',
  'id3 ',
  'ID3 ',
  'iXML',
  'acid',
  'plst',
  'PEAK',
  'cart',
  'levl',
  'axml',
  'umid',
  'DISP',
  'afsp',
  'ds64',
  'minf',
  'elm1',
  'regn',
  'ovwf',
]);

/** Offset of the chunk after the one whose body starts at `body`, honouring (or not) the pad byte. */
function nextChunk(bytes: Uint8Array, body: number, size: number): number {
  const next = body + size;
  if (size % 2 === 0) return next;
  // RIFF pads odd chunks to even length; some writers forget. Decide by which position holds a
  // known chunk id, then by which holds a plausible chunk header.
  if (KNOWN_CHUNKS.has(asciiAt(bytes, next + 1))) return next + 1;
  if (KNOWN_CHUNKS.has(asciiAt(bytes, next))) return next;
  if (!chunksFollow(bytes, next + 1) && isChunkId(bytes, next)) return next;
  return next + 1;
}

function asciiAt(bytes: Uint8Array, pos: number): string {
  return pos + 4 <= bytes.length ? ascii(bytes, pos) : '';
}

/** True when a plausible chunk header (printable id, size within the file) starts at `pos`. */
function chunksFollow(bytes: Uint8Array, pos: number): boolean {
  if (!isChunkId(bytes, pos) || pos + 8 > bytes.length) return false;
  const size = (bytes[pos + 4]! | (bytes[pos + 5]! << 8) | (bytes[pos + 6]! << 16) | (bytes[pos + 7]! << 24)) >>> 0;
  return pos + 8 + size <= bytes.length + 1;
}

function isChunkId(bytes: Uint8Array, pos: number): boolean {
  if (pos + 4 > bytes.length) return false;
  for (let i = 0; i < 4; i++) {
    const b = bytes[pos + i]!;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

function ascii(bytes: Uint8Array, pos: number): string {
  return String.fromCharCode(bytes[pos]!, bytes[pos + 1]!, bytes[pos + 2]!, bytes[pos + 3]!);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
