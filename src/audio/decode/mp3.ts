/**
 * MP3 (and MPEG-1/2 Layer I/II) in process with `mpg123-decoder` (libmpg123 compiled to WASM).
 *
 * The input is fed in 64 KB pieces and each piece's stereo output is averaged straight into one
 * mono buffer sized from a scan of the frame headers, so memory is input + mono output + one
 * piece. Between pieces the event loop gets a turn (a 20 MB file takes seconds) and the abort
 * signal is checked. mpg123 always returns two channels (mono sources are duplicated), so
 * averaging is right for both.
 */
import type { MPEGDecoder as MpegDecoderType } from 'mpg123-decoder';
import { ApiError } from '../../errors.js';
import { StreamingResampler } from '../resample.js';
import { DecodeFailure } from './failure.js';
import { MonoBuffer } from './mono-buffer.js';
import { countMpegFrames, findMpegStream, skipId3v2 } from './sniff.js';

/** Bytes fed to the decoder at once (its own input buffer is 64 KB). */
const PIECE_BYTES = 64 * 1024;
/** Pieces decoded between two turns of the event loop (~0.1 s of work). */
const PIECES_PER_TURN = 4;

export interface DecodedMp3 {
  samples: Float32Array;
  sampleRate: number;
  /** The stream's own rate (above `sampleRate` when `maxRate` applied). */
  sourceRate: number;
  channels: number;
}

export async function decodeMp3(
  bytes: Uint8Array,
  opts: { maxDurationSec: number; maxRate?: number; signal?: AbortSignal; log?: (message: string) => void },
): Promise<DecodedMp3> {
  const start = findMpegStream(bytes, skipId3v2(bytes));
  if (!start) throw new DecodeFailure('MP3: no chain of MPEG audio frames');
  const { header } = start;
  const scan = countMpegFrames(bytes, start.offset);
  // Scale the scanned part up when the chain broke early (junk in between, truncated, VBR gaps).
  const scanned = scan.endOffset - start.offset;
  const estimate = scanned >= (bytes.length - start.offset) * 0.9 ? scan.samples : (scan.samples / Math.max(1, scanned)) * (bytes.length - start.offset) * 1.1;
  // Above `maxRate`, resample each decoded piece at once: the full-rate floats never pile up.
  const outRate = opts.maxRate !== undefined && opts.maxRate < header.sampleRate ? opts.maxRate : header.sampleRate;
  const resampler = outRate !== header.sampleRate ? new StreamingResampler(header.sampleRate, outRate) : null;
  const maxSamples = Math.floor(opts.maxDurationSec * outRate);
  const out = new MonoBuffer((estimate * outRate) / header.sampleRate, maxSamples, opts.maxDurationSec);
  const append = (mono: Float32Array) => {
    const dst = out.reserve(mono.length);
    dst.set(mono, out.length);
    out.length += mono.length;
  };

  const { MPEGDecoder } = await loadMpg123();
  const decoder: MpegDecoderType = new MPEGDecoder();
  let errors = 0;
  let sampleRate = 0;
  try {
    await decoder.ready;
    let piece = 0;
    for (let pos = start.offset; pos < bytes.length; pos += PIECE_BYTES) {
      if (opts.signal?.aborted) throw ApiError.cancelled();
      const result = quietly(() => decoder.decode(bytes.subarray(pos, pos + PIECE_BYTES)));
      errors += result.errors.length;
      const n = result.samplesDecoded;
      if (n > 0) {
        if (sampleRate === 0) sampleRate = result.sampleRate;
        else if (result.sampleRate !== sampleRate) {
          // Concatenated streams at different rates; we keep one rate rather than mix them.
          opts.log?.(`mp3: sample rate changed from ${sampleRate} to ${result.sampleRate} Hz; rest ignored`);
          break;
        }
        const left = result.channelData[0]!;
        const right = result.channelData[1] ?? left;
        const mono = new Float32Array(n);
        for (let i = 0; i < n; i++) mono[i] = (left[i]! + right[i]!) * 0.5;
        append(resampler ? resampler.push(mono) : mono);
      }
      if (++piece % PIECES_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (resampler) append(resampler.flush());
  } finally {
    decoder.free();
  }
  if (out.length === 0 && errors > 0) throw new DecodeFailure(`MP3: no audio decoded (${errors} decoder errors)`);
  if (errors > 0) opts.log?.(`mp3: ${errors} decoder errors; damaged frames skipped`);
  return { samples: out.finish(), sampleRate: resampler ? outRate : sampleRate || header.sampleRate, sourceRate: header.sampleRate, channels: header.channels };
}

async function loadMpg123(): Promise<typeof import('mpg123-decoder')> {
  try {
    return await import('mpg123-decoder');
  } catch (cause) {
    throw ApiError.engineUnavailable('MP3 decoding needs the npm package mpg123-decoder: run `npm ci`.', cause);
  }
}

/**
 * mpg123-decoder prints every damaged frame with console.error (the errors also come back in the
 * result, where we count them). The decode call is synchronous, so silencing console.error for
 * its duration hides exactly its messages and nothing else.
 */
function quietly<T>(fn: () => T): T {
  const original = console.error;
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.error = original;
  }
}
