/**
 * Reads the 16-bit PCM WAV files the WebAssembly engines write (flite, espeak-ng) into PcmAudio.
 * Not a general WAV decoder (that is audio/decode/wav.ts): these files are always mono s16le, and
 * anything else means the engine misbehaved.
 */
import { s16leToFloat } from '../../audio/pcm.js';
import type { PcmAudio } from '../../audio/types.js';

/** Mono 16-bit PCM WAV bytes → PcmAudio. Throws on anything else. */
export function pcm16WavToPcm(bytes: Uint8Array): PcmAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('engine output is not a WAV file');
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const declared = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
    } else if (id === 'data') {
      if (channels !== 1 || bits !== 16 || !(sampleRate > 0)) {
        throw new Error(`engine output is not mono 16-bit PCM (channels ${channels}, bits ${bits}, rate ${sampleRate})`);
      }
      // Writers that stream may leave the size at 0 or too large: take what is there.
      const end = declared === 0 || body + declared > bytes.length ? bytes.length : body + declared;
      return { samples: s16leToFloat(bytes.subarray(body, end)), sampleRate };
    }
    at = body + declared + (declared & 1);
  }
  throw new Error('engine output WAV has no data chunk');
}
