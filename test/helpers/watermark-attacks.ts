/**
 * What a watermark must survive (issue 11), as functions of 24 kHz mono floats → the audio a
 * verifier would get (samples + rate). Codecs run through a real ffmpeg (Debian's, else the npm
 * one) on raw float PCM, so nothing but the attack touches the audio.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resample } from '../../src/audio/resample.js';
import { ffmpegBinary } from './audio.js';

export interface AttackedAudio {
  samples: Float32Array;
  sampleRate: number;
}

/** An attack: a name and what it does to 24 kHz audio. `cropStart` picks where a crop begins (seconds). */
export interface Attack {
  name: string;
  apply(samples: Float32Array, rate: number, cropStart?: number): AttackedAudio;
}

function ffmpegRoundTrip(samples: Float32Array, rate: number, encodeArgs: string[], ext: string, outRate = rate): Float32Array {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-wm-'));
  try {
    const raw = path.join(dir, 'in.f32');
    const coded = path.join(dir, `coded.${ext}`);
    fs.writeFileSync(raw, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
    execFileSync(ffmpegBinary(), ['-v', 'error', '-y', '-f', 'f32le', '-ar', String(rate), '-ac', '1', '-i', raw, ...encodeArgs, coded], { stdio: 'ignore' });
    const out = execFileSync(ffmpegBinary(), ['-v', 'error', '-i', coded, '-f', 'f32le', '-ac', '1', '-ar', String(outRate), '-'], {
      maxBuffer: 1 << 28,
    });
    return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4).slice();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** 3 s starting at `start` seconds (default: a second in, where speech is). */
export function crop(samples: Float32Array, rate: number, start = 1, seconds = 3): Float32Array {
  const from = Math.min(Math.max(0, Math.round(start * rate)), Math.max(0, samples.length - Math.round(seconds * rate)));
  return samples.slice(from, from + Math.round(seconds * rate));
}

function addNoise(samples: Float32Array, snrDb: number, seed = 7): Float32Array {
  let power = 0;
  for (const v of samples) power += v * v;
  power /= samples.length;
  const sigma = Math.sqrt(power / 10 ** (snrDb / 10));
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return samples.map((v) => v + sigma * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

/** The attacks the mark must survive. */
export const SURVIVES: readonly Attack[] = [
  { name: 'none', apply: (s, r) => ({ samples: s, sampleRate: r }) },
  { name: 'mp3 64 kbit/s', apply: (s, r) => ({ samples: ffmpegRoundTrip(s, r, ['-c:a', 'libmp3lame', '-b:a', '64k'], 'mp3'), sampleRate: r }) },
  { name: 'aac 64 kbit/s', apply: (s, r) => ({ samples: ffmpegRoundTrip(s, r, ['-c:a', 'aac', '-b:a', '64k'], 'm4a'), sampleRate: r }) },
  { name: 'resample 16 kHz', apply: (s, r) => resample({ samples: s, sampleRate: r }, 16_000) },
  { name: 'gain −10 dB', apply: (s, r) => ({ samples: s.map((v) => v * 10 ** (-10 / 20)), sampleRate: r }) },
  { name: 'crop 3 s', apply: (s, r, start) => ({ samples: crop(s, r, start), sampleRate: r }) },
  {
    name: 'mp3 64 kbit/s + 16 kHz + −10 dB + crop 3 s',
    apply: (s, r, start) => {
      const coded = ffmpegRoundTrip(crop(s, r, start), r, ['-c:a', 'libmp3lame', '-b:a', '64k'], 'mp3', 16_000);
      return { samples: coded.map((v) => v * 10 ** (-10 / 20)), sampleRate: 16_000 };
    },
  },
];

/** Attacks the mark is allowed to fail (measured and documented, not required). */
export const MAY_FAIL: readonly Attack[] = [
  {
    name: '8 kHz telephony (μ-law)',
    apply: (s, r) => ({ samples: ffmpegRoundTrip(s, r, ['-ar', '8000', '-c:a', 'pcm_mulaw'], 'wav', 8000), sampleRate: 8000 }),
  },
  { name: 'white noise at 10 dB SNR', apply: (s, r) => ({ samples: addNoise(s, 10), sampleRate: r }) },
  { name: 'white noise at 0 dB SNR', apply: (s, r) => ({ samples: addNoise(s, 0), sampleRate: r }) },
  {
    name: 'speed ×1.05 (atempo)',
    apply: (s, r) => ({ samples: ffmpegRoundTrip(s, r, ['-filter:a', 'atempo=1.05', '-c:a', 'pcm_f32le'], 'wav'), sampleRate: r }),
  },
  { name: 'pitch+speed ×1.02 (resampled playback)', apply: (s, r) => ({ samples: s, sampleRate: Math.round(r * 1.02) }) },
  { name: 'opus 24 kbit/s', apply: (s, r) => ({ samples: ffmpegRoundTrip(s, r, ['-c:a', 'libopus', '-b:a', '24k'], 'ogg', 48_000), sampleRate: 48_000 }) },
];
