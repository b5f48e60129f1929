/**
 * Property-based fuzzing of `decodeAudio` with fast-check: valid files made here (wav in several
 * encodings, mp3, flac, Ogg Opus, WebM) are mutated — bytes flipped, cut short, size fields that
 * lie, pieces spliced in from elsewhere — and every call must either return audio or throw an
 * ApiError with a 4xx status, within a time bound. Runs are bounded (FUZZ_RUNS scales them; a
 * failure prints the seed, FUZZ_SEED replays it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiError } from '../../errors.js';
import { encodeAll } from '../encode/index.js';
import { ffmpegPath } from '../ffmpeg.js';
import { tone, whiteNoise } from '../test-signals.js';
import { decodeAudio } from './index.js';

interface Corpus {
  validWavCases(): { name: string; bytes: Uint8Array }[];
  ffmpegEncode(ffmpeg: string, wav: Uint8Array, format: string, args: string[]): Uint8Array;
}
// The corpus lives under test/fixtures, outside tsconfig.json's rootDir: imported by URL.
const corpus = (await import(new URL('../../../test/fixtures/audio-in/make-corpus.ts', import.meta.url).href)) as Corpus;

const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Longest one decode may take before the case fails as a hang (ffmpeg's own limit is below it). */
const CASE_MS = 20_000;
const FFMPEG_TIMEOUT_MS = 10_000;

/** Source files by container, made once. */
const sources: Record<string, Uint8Array[]> = {};

before(async () => {
  // Speech-like: harmonics, a pause, noise; short so that each decode is cheap.
  const pcm = tone(150, 24_000, 0.6, 0.6, [1, 0.5, 0.3]);
  pcm.set(whiteNoise(3000, 0.2, 5), 9000);
  pcm.fill(0, 4000, 6000);
  const wavs = corpus.validWavCases().filter((c) => /PCM|float|EXTENSIBLE|law/i.test(c.name));
  sources.wav = [await encodeAll('wav', pcm), ...wavs.slice(0, 6).map((c) => c.bytes)];
  sources.mp3 = [await encodeAll('mp3', pcm)];
  sources.flac = [await encodeAll('flac', pcm)];
  sources.ogg = [await encodeAll('opus', pcm)];
  const ffmpeg = ffmpegPath();
  assert.ok(ffmpeg, 'ffmpeg is needed for the WebM source');
  sources.webm = [corpus.ffmpegEncode(ffmpeg, sources.wav[0]!, 'webm', ['-c:a', 'libopus', '-b:a', '24k'])];
});

after(() => {
  for (const k of Object.keys(sources)) delete sources[k];
});

/** One change to a file. Positions are taken modulo the file's length. */
type Mutation =
  | { kind: 'flip'; at: number; value: number; header: boolean }
  | { kind: 'truncate'; at: number }
  | { kind: 'lie'; at: number; value: number; bigEndian: boolean; header: boolean }
  | { kind: 'splice'; from: number; length: number; to: number; donor: number }
  | { kind: 'repeat'; from: number; length: number; times: number };

/** Size-like values that break parsers: zero, tiny, just past the data, huge, sign bits. */
const LIES = [0, 1, 2, 3, 4, 8, 44, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), header: fc.boolean() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('lie' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...LIES), fc.nat()),
    bigEndian: fc.boolean(),
    header: fc.constant(true),
  }),
  fc.record({ kind: fc.constant('splice' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 4096 }), to: fc.nat(), donor: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 512 }), times: fc.integer({ min: 2, max: 64 }) }),
);

/** The donors for splices: every source file, whatever its container. */
function donors(): Uint8Array[] {
  return Object.values(sources).flat();
}

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  if (n === 0) return bytes;
  // Header mutations land in the first 128 bytes, where the size fields and codec setup live.
  const pos = (at: number, header: boolean): number => at % (header ? Math.min(n, 128) : n);
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice();
      out[pos(m.at, m.header)] = m.value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.at % n);
    case 'lie': {
      if (n < 4) return bytes;
      const out = bytes.slice();
      const at = Math.min(pos(m.at, m.header), Math.max(0, n - 4));
      new DataView(out.buffer).setUint32(at, m.value >>> 0, !m.bigEndian);
      return out;
    }
    case 'splice': {
      const all = donors();
      const donor = all[m.donor % all.length]!;
      const from = m.from % donor.length;
      const piece = donor.subarray(from, from + m.length);
      const to = m.to % (n + 1);
      return Buffer.concat([bytes.subarray(0, to), piece, bytes.subarray(to)]);
    }
    case 'repeat': {
      const from = m.from % n;
      const piece = bytes.subarray(from, from + m.length);
      return Buffer.concat([bytes.subarray(0, from), ...Array.from({ length: m.times }, () => piece), bytes.subarray(from)]);
    }
  }
}

/** Decodes `bytes`; the case fails if it takes longer than CASE_MS or fails any other way than a 4xx ApiError. */
async function decodesOrRefuses(bytes: Uint8Array, format: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`decodeAudio did not finish within ${CASE_MS} ms (${bytes.length} bytes)`)), CASE_MS);
  });
  const ac = new AbortController();
  try {
    const out = await Promise.race([
      decodeAudio(bytes, { param: 'file', format, maxDurationSec: 30, timeoutMs: FFMPEG_TIMEOUT_MS, signal: ac.signal }),
      deadline,
    ]);
    assert.ok(out.samples instanceof Float32Array);
    assert.ok(Number.isInteger(out.sampleRate) && out.sampleRate > 0, `sample rate ${out.sampleRate}`);
    assert.ok(Number.isFinite(out.durationSec) && out.durationSec <= 30, `duration ${out.durationSec}`);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    assert.ok(e.status >= 400 && e.status < 500, `a ${e.status} (${e.code}): ${String((e.cause as Error | undefined)?.message ?? e.message)}`);
  } finally {
    clearTimeout(timer);
    ac.abort(); // a decode still running after a failed case is stopped, its ffmpeg child with it
  }
}

/** Runs per container: the in-process decoders are cheap, the ffmpeg ones cost a process each. */
const RUNS: Record<string, number> = { wav: 150, mp3: 100, flac: 30, ogg: 30, webm: 25 };

describe('decodeAudio under fuzzing: audio or a 4xx, never anything else, never a hang', () => {
  for (const container of Object.keys(RUNS)) {
    it(`mutated ${container} files`, async () => {
      const files = sources[container]!;
      const arb = fc.record({ file: fc.nat({ max: files.length - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) });
      await fc.assert(
        fc.asyncProperty(arb, async ({ file, mutations }) => {
          const bytes = mutations.reduce(apply, files[file]!);
          await decodesOrRefuses(bytes, container);
        }),
        { numRuns: Math.max(1, Math.round(RUNS[container]! * SCALE)), seed: SEED },
      );
    });
  }

  it('unmutated sources decode (the property is not vacuous)', async () => {
    for (const [container, files] of Object.entries(sources)) {
      for (const bytes of files) {
        const out = await decodeAudio(bytes, { param: 'file', format: container });
        assert.ok(out.durationSec > 0.2, `${container}: ${out.durationSec} s`);
      }
    }
  });
});
