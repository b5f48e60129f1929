import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { isApiError } from '../../errors.js';
import { processExists } from '../../lib/process.js';
import { ffmpegPath } from '../ffmpeg.js';
import { concatBytes, floatToInt16, floatToS16le, s16leToFloat } from '../pcm.js';
import { amplitudeAt, dominantFrequency, tone, whiteNoise } from '../test-signals.js';
import type { AudioEncoder, OutputFormat } from '../types.js';
import { AacEncoder, adtsFrameLength } from './aac.js';
import { FrameCounter } from './ffmpeg-encoder.js';
import { CONTENT_TYPES, createEncoder, type EncoderOptions, encodeAll, OUTPUT_FORMATS } from './index.js';
import { idleMp3Instances } from './mp3.js';
import { oggCrc32 } from './ogg.js';
import { OPUS_PRE_SKIP } from './opus.js';

const run = promisify(execFile);
const ffprobeBin = (createRequire(import.meta.url)('@ffprobe-installer/ffprobe') as { path: string }).path;
const RATE = 24_000;
const SECONDS = 1.5;
const FREQ = 220;
const input = tone(FREQ, RATE, SECONDS, 0.5);
/** Uneven chunk sizes, empty and single-sample writes included. */
const CHUNKS = [0, 1, 479, 1000, 0, 3, 7777, 4801, 1];

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-encode-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Feed `samples` through a new encoder in uneven chunks; returns every byte it produced. */
async function encodeChunked(format: OutputFormat, samples: Float32Array, streaming = false): Promise<{ bytes: Uint8Array; writes: Uint8Array[] }> {
  return feedChunked(createEncoder(format, { streaming }), samples);
}

/** Feed `samples` through `enc` in uneven chunks; returns every byte it produced. Always ends `enc`. */
async function feedChunked(enc: AudioEncoder, samples: Float32Array): Promise<{ bytes: Uint8Array; writes: Uint8Array[] }> {
  try {
    const writes: Uint8Array[] = [];
    let at = 0;
    for (let i = 0; at < samples.length; i++) {
      const n = CHUNKS[i % CHUNKS.length]!;
      writes.push(await enc.write(samples.subarray(at, at + n)));
      at += n;
    }
    const last = await enc.end();
    return { bytes: concatBytes([...writes, last]), writes };
  } finally {
    enc.abort(); // a no-op after `end`; kills a child left by a failed write
  }
}

/** Runs `use` with a new encoder and aborts it afterwards whatever happens (a no-op once ended). */
async function withEncoder<T>(format: OutputFormat, opts: EncoderOptions, use: (enc: AudioEncoder) => Promise<T>): Promise<T> {
  const enc = createEncoder(format, opts);
  try {
    return await use(enc);
  } finally {
    enc.abort();
  }
}

/** Waits until process `pid` is gone; fails (rather than hangs) if it is still there after 10 s. */
async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 200 && processExists(pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(processExists(pid), false, `process ${pid} is still running`);
}

function save(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** Input options ffprobe (a 2023 build) needs for headerless PCM. */
const rawProbeInput = (format: OutputFormat): string[] => (format === 'pcm' ? ['-f', 's16le', '-sample_rate', String(RATE), '-ch_layout', 'mono'] : []);
/** The same for ffmpeg (any version since 4). */
const rawInput = (format: OutputFormat): string[] => (format === 'pcm' ? ['-f', 's16le', '-ar', String(RATE), '-ac', '1'] : []);

interface Probe {
  streams: { codec_name: string; sample_rate: string; channels: number; duration?: string }[];
  format: { format_name: string; duration?: string };
}

/** ffprobe the file, decoding every frame with CRC checks on; fails on any complaint. */
async function probe(file: string, format: OutputFormat): Promise<Probe> {
  const args = ['-v', 'error', '-err_detect', 'crccheck', '-count_frames', ...rawProbeInput(format), '-show_streams', '-show_format', '-of', 'json', file];
  const { stdout, stderr } = await run(ffprobeBin, args, { maxBuffer: 1 << 24 });
  assert.equal(stderr.trim(), '', `ffprobe complained about ${format}`);
  return JSON.parse(stdout) as Probe;
}

/** Decode the file with ffmpeg to mono 24 kHz floats. */
async function decode(file: string, format: OutputFormat): Promise<Float32Array> {
  const bin = ffmpegPath();
  assert.ok(bin, 'ffmpeg is needed to check the encoders');
  const args = ['-v', 'error', ...rawInput(format), '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'];
  const { stdout } = await run(bin, args, { encoding: 'buffer', maxBuffer: 1 << 26 });
  return s16leToFloat(new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length));
}

const EXPECTED: Record<OutputFormat, { codec: string; rate: number }> = {
  wav: { codec: 'pcm_s16le', rate: RATE },
  pcm: { codec: 'pcm_s16le', rate: RATE },
  mp3: { codec: 'mp3', rate: RATE },
  opus: { codec: 'opus', rate: 48_000 }, // Opus always decodes at 48 kHz
  flac: { codec: 'flac', rate: RATE },
  aac: { codec: 'aac', rate: RATE },
};

/**
 * Samples a decoder adds before the audio that the format cannot signal: ADTS has no field for
 * AAC's 1024-sample priming. (MP3's delay of ~1105 samples stays within the 5 % anyway.)
 */
const UNSIGNALLED_DELAY: Partial<Record<OutputFormat, number>> = { aac: 1024 };

for (const streaming of [false, true]) {
  describe(streaming ? 'streaming encoders' : 'whole-file encoders', () => {
    for (const format of OUTPUT_FORMATS) {
      test(`encode ${format} that ffprobe reads as mono ${EXPECTED[format].rate} Hz ${EXPECTED[format].codec} of the right length`, async () => {
        const { bytes } = await encodeChunked(format, input, streaming);
        const file = save(`tone${streaming ? '-stream' : ''}.${format}`, bytes);
        const info = await probe(file, format);
        assert.equal(info.streams.length, 1);
        const s = info.streams[0]!;
        assert.equal(s.codec_name, EXPECTED[format].codec);
        assert.equal(Number(s.sample_rate), EXPECTED[format].rate);
        assert.equal(s.channels, 1);
        if (format === 'opus') assert.equal(info.format.format_name, 'ogg');
        // Streamed WAV says "until EOF": measure it by decoding; ADTS durations are bit-rate
        // estimates, so decode AAC too.
        const reported = Number(info.format.duration ?? s.duration);
        const seconds = Number.isFinite(reported) && format !== 'aac' ? reported : (await decode(file, format)).length / RATE;
        const corrected = seconds - (UNSIGNALLED_DELAY[format] ?? 0) / RATE;
        assert.ok(Math.abs(corrected - SECONDS) / SECONDS < 0.05, `${format} lasts ${seconds} s`);
      });

      test(`encode ${format} that decodes back to the ${FREQ} Hz tone at its level`, async () => {
        const { bytes } = await encodeChunked(format, input, streaming);
        const decoded = await decode(save(`back${streaming ? '-stream' : ''}.${format}`, bytes), format);
        assert.ok(Math.abs(decoded.length - input.length) / input.length < 0.1, `decoded ${decoded.length} samples`);
        // The middle second, clear of codec delay and edge effects.
        const mid = decoded.subarray(Math.round(0.25 * RATE), Math.round(1.25 * RATE));
        const f = dominantFrequency(mid, RATE);
        assert.ok(Math.abs(f - FREQ) < 2, `${format} peaks at ${f} Hz`);
        const amp = amplitudeAt(mid, RATE, FREQ);
        assert.ok(Math.abs(amp - 0.5) < 0.05, `${format} tone amplitude ${amp}`);
      });
    }
  });
}

test('writes an exact WAV header and the samples as s16le when not streaming', async () => {
  const { bytes, writes } = await encodeChunked('wav', input);
  assert.ok(
    writes.every((w) => w.length === 0),
    'nothing before end: the sizes are not known yet',
  );
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  assert.equal(ascii(0), 'RIFF');
  assert.equal(v.getUint32(4, true), bytes.length - 8);
  assert.equal(ascii(8), 'WAVE');
  assert.equal(ascii(12), 'fmt ');
  assert.equal(v.getUint32(16, true), 16);
  assert.equal(v.getUint16(20, true), 1, 'PCM');
  assert.equal(v.getUint16(22, true), 1, 'mono');
  assert.equal(v.getUint32(24, true), RATE);
  assert.equal(v.getUint32(28, true), RATE * 2);
  assert.equal(v.getUint16(32, true), 2);
  assert.equal(v.getUint16(34, true), 16);
  assert.equal(ascii(36), 'data');
  assert.equal(v.getUint32(40, true), input.length * 2);
  assert.deepEqual(bytes.subarray(44), floatToS16le(input));
});

test('streams WAV with the header first and 0xFFFFFFFF sizes', async () => {
  await withEncoder('wav', { streaming: true }, async (enc) => {
    const first = await enc.write(input.subarray(0, 10));
    assert.equal(first.length, 44 + 20);
    const v = new DataView(first.buffer, first.byteOffset, first.byteLength);
    assert.equal(v.getUint32(4, true), 0xffffffff);
    assert.equal(v.getUint32(40, true), 0xffffffff);
    assert.equal((await enc.write(input.subarray(10, 20))).length, 20);
    assert.equal((await enc.end()).length, 0);
  });
});

test('writes pcm as exactly two bytes per sample and nothing else', async () => {
  const { bytes } = await encodeChunked('pcm', input);
  assert.equal(bytes.length, input.length * 2);
  assert.deepEqual(bytes, floatToS16le(input));
});

/** STREAMINFO's fields (https://xiph.org/flac/format.html#metadata_block_streaminfo). */
function streamInfo(bytes: Uint8Array): { minFrame: number; maxFrame: number; totalSamples: number; md5: Buffer } {
  assert.equal(String.fromCharCode(...bytes.subarray(0, 4)), 'fLaC');
  assert.equal(bytes[4]! & 0x7f, 0, 'STREAMINFO is the first metadata block');
  const si = bytes.subarray(8, 8 + 34);
  const u24 = (at: number): number => (si[at]! << 16) | (si[at + 1]! << 8) | si[at + 2]!;
  return {
    minFrame: u24(4),
    maxFrame: u24(7),
    totalSamples: (si[13]! & 0x0f) * 2 ** 32 + ((si[14]! << 24) >>> 0) + (si[15]! << 16) + (si[16]! << 8) + si[17]!,
    md5: Buffer.from(si.subarray(18, 34)),
  };
}

test('encodes FLAC losslessly with total samples and the MD5 of the audio in STREAMINFO', async () => {
  // Speech-like content: harmonics plus a little noise, some silence, a clipped burst.
  const rich = tone(130, RATE, 2, 0.9, [1, 0.6, 0.4, 0.3, 0.2]);
  for (let i = 0; i < rich.length; i++) rich[i] = rich[i]! + 0.01 * Math.sin(i * i);
  rich.fill(0, 10_000, 20_000);
  for (let i = 30_000; i < 31_000; i++) rich[i] = 1.5 * Math.sign(rich[i]!);
  const { bytes } = await encodeChunked('flac', rich);
  const decoded = await decode(save('rich.flac', bytes), 'flac');
  assert.deepEqual(floatToInt16(decoded), floatToInt16(rich));

  const info = streamInfo(bytes);
  assert.equal(info.totalSamples, rich.length);
  assert.deepEqual(info.md5, createHash('md5').update(floatToS16le(rich)).digest());
  assert.ok(info.minFrame > 0 && info.minFrame <= info.maxFrame && info.maxFrame < bytes.length, `frame sizes ${info.minFrame}–${info.maxFrame}`);
  assert.ok(bytes.length < rich.length * 2 * 0.8, `FLAC should compress a tone (${bytes.length} bytes)`);
});

test('keeps FLAC lossless and valid past frame 127, through noise, silence and tones', async () => {
  // 25 s = 147 frames: frame numbers from 128 on take two bytes; full-scale noise and silence
  // take libFLAC's VERBATIM and CONSTANT subframes.
  const parts = [tone(180, RATE, 10, 0.7, [1, 0.5, 0.2]), whiteNoise(5 * RATE, 1, 99), new Float32Array(5 * RATE), tone(90, RATE, 5, 0.3)];
  const long = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    long.set(p, o);
    o += p.length;
  }
  const file = save('long.flac', await encodeAll('flac', long));
  const info = await probe(file, 'flac');
  assert.equal(Number(info.format.duration), 25);
  assert.deepEqual(floatToInt16(await decode(file, 'flac')), floatToInt16(long));
});

test('holds streamed FLAC until the end, so ffprobe reads its duration and STREAMINFO has the MD5 of the decoded samples', async () => {
  const { bytes, writes } = await encodeChunked('flac', input, true);
  assert.ok(
    writes.every((w) => w.length === 0),
    'nothing before end: STREAMINFO is not complete until then',
  );
  const file = save('streamed.flac', bytes);
  const probed = await probe(file, 'flac');
  assert.equal(Number(probed.streams[0]!.duration), SECONDS, 'the stream duration comes from STREAMINFO');
  assert.equal(Number(probed.format.duration), SECONDS);
  const info = streamInfo(bytes);
  assert.equal(info.totalSamples, input.length);
  // The MD5 of what a decoder gets back, as s16le: what `flac -t` and players check.
  const decoded = floatToS16le(await decode(file, 'flac'));
  assert.deepEqual(info.md5, createHash('md5').update(decoded).digest());
});

test('writes Ogg Opus with valid pages, pre-skip, granule positions and an EOS page', async () => {
  const { bytes } = await encodeChunked('opus', input);
  const pages = parseOggPages(bytes);
  assert.ok(pages.length >= 3);
  const head = pages[0]!;
  assert.equal(head.flags, 0x02, 'the first page is BOS only');
  assert.equal(String.fromCharCode(...head.body.subarray(0, 8)), 'OpusHead');
  assert.equal(head.body[9], 1, 'mono');
  assert.equal(head.body[10]! | (head.body[11]! << 8), OPUS_PRE_SKIP);
  assert.equal(String.fromCharCode(...pages[1]!.body.subarray(0, 8)), 'OpusTags');
  let prev = 0n;
  pages.forEach((p, i) => {
    assert.equal(p.sequence, i);
    assert.equal(p.crcOk, true, `page ${i} CRC`);
    assert.equal(p.serial, head.serial);
    assert.equal((p.flags & 0x04) !== 0, i === pages.length - 1, `EOS only on the last page (page ${i})`);
    if (p.granule >= 0n) {
      assert.ok(p.granule >= prev, 'granule positions never decrease');
      prev = p.granule;
    }
  });
  // The last granule trims the padding: pre-skip plus the input length at 48 kHz.
  assert.equal(pages[pages.length - 1]!.granule, BigInt(OPUS_PRE_SKIP + input.length * 2));
});

test('streams Opus pages as the audio is written', async () => {
  await withEncoder('opus', { streaming: true }, async (enc) => {
    const first = parseOggPages(await enc.write(input.subarray(0, 4800)));
    // Header pages plus a page with the ten 20 ms packets written so far.
    assert.equal(first.length, 3);
    assert.equal(first[2]!.granule, 10n * 960n);
    const rest = parseOggPages(concatBytes([await enc.write(input.subarray(4800)), await enc.end()]));
    assert.equal(rest[0]!.sequence, 3);
    assert.ok((rest[rest.length - 1]!.flags & 0x04) !== 0);
  });
});

test('streams MP3 and AAC bytes before the end', async () => {
  for (const format of ['mp3', 'aac'] as const) {
    await withEncoder(format, { streaming: true }, async (enc) => {
      const early = await enc.write(input.subarray(0, RATE));
      assert.ok(early.length > 1000, `${format} gave ${early.length} bytes for the first second`);
      await enc.end();
    });
  }
});

for (const format of OUTPUT_FORMATS) {
  test(`ends a ${format} stream that received no samples without failing`, async () => {
    for (const streaming of [false, true]) {
      await withEncoder(format, { streaming }, async (enc) => {
        const bytes = concatBytes([await enc.write(new Float32Array(0)), await enc.end()]);
        if (format === 'pcm') assert.equal(bytes.length, 0);
        if (format === 'wav') assert.equal(bytes.length, 44);
        if (format === 'flac') assert.equal(streamInfo(bytes).totalSamples, 0);
        if (format === 'opus') assert.equal(parseOggPages(bytes).at(-1)!.granule, BigInt(OPUS_PRE_SKIP));
      });
    }
  });

  test(`aborts a ${format} encoder: later calls reject as cancelled and a second abort is harmless`, async () => {
    await withEncoder(format, { streaming: true }, async (enc) => {
      await enc.write(input.subarray(0, 5000));
      enc.abort();
      enc.abort();
      await assert.rejects(enc.write(input.subarray(0, 10)), (e) => isApiError(e) && e.code === 'request_cancelled');
      await assert.rejects(enc.end(), (e) => isApiError(e) && e.code === 'request_cancelled');
    });
  });

  test(`aborts a ${format} encoder through its signal, before or after the first write`, async () => {
    const before = new AbortController();
    before.abort();
    await withEncoder(format, { streaming: true, signal: before.signal }, async (enc) => {
      await assert.rejects(enc.write(input.subarray(0, 10)), (e) => isApiError(e) && e.code === 'request_cancelled');
    });
    const later = new AbortController();
    await withEncoder(format, { streaming: true, signal: later.signal }, async (enc) => {
      await enc.write(input.subarray(0, 5000));
      later.abort();
      await assert.rejects(enc.end(), (e) => isApiError(e) && e.code === 'request_cancelled');
    });
  });

  test(`rejects a ${format} write after end as a programming error`, async () => {
    await withEncoder(format, {}, async (enc) => {
      await enc.end();
      await assert.rejects(enc.write(input.subarray(0, 10)), (e) => !isApiError(e));
    });
  });
}

describe("the AAC encoder's ffmpeg child never outlives its owner", () => {
  test('abort while ending rejects the end as cancelled and kills the child', async () => {
    const enc = new AacEncoder();
    try {
      await enc.write(input);
      const pid = enc.pid!;
      assert.ok(processExists(pid));
      const ending = enc.end();
      enc.abort();
      await assert.rejects(ending, (e) => isApiError(e) && e.code === 'request_cancelled');
      await gone(pid);
    } finally {
      enc.abort();
    }
  });

  test('abort while a streaming write waits for ffmpeg kills the child at once', async () => {
    const enc = new AacEncoder({ streaming: true });
    try {
      const writing = enc.write(input);
      const pid = enc.pid!;
      assert.ok(pid > 0, 'the child is spawned by the first write');
      enc.abort();
      await assert.rejects(writing, (e) => isApiError(e) && e.code === 'request_cancelled');
      await gone(pid);
    } finally {
      enc.abort();
    }
  });

  test('the signal kills the child of an encoder whose owner never calls abort', async () => {
    const owner = new AbortController();
    const enc = new AacEncoder({ streaming: true, signal: owner.signal });
    try {
      await enc.write(input.subarray(0, RATE));
      const pid = enc.pid!;
      assert.ok(processExists(pid));
      owner.abort(); // the owner (a response) is gone: nobody will call write, end or abort
      await gone(pid);
      await assert.rejects(enc.end(), (e) => isApiError(e) && e.code === 'request_cancelled');
    } finally {
      enc.abort();
    }
  });

  test('an encoder aborted before its first write, or with an aborted signal, never spawns a child', async () => {
    const enc = new AacEncoder();
    enc.abort();
    await assert.rejects(enc.write(input), (e) => isApiError(e) && e.code === 'request_cancelled');
    assert.equal(enc.pid, undefined);
    const signalled = new AacEncoder({ signal: AbortSignal.abort() });
    await assert.rejects(signalled.write(input), (e) => isApiError(e) && e.code === 'request_cancelled');
    assert.equal(signalled.pid, undefined);
  });

  test('the child of an encoder that ended normally is gone', async () => {
    const enc = new AacEncoder();
    try {
      await enc.write(input);
      const pid = enc.pid!;
      await enc.end();
      await gone(pid);
    } finally {
      enc.abort();
    }
  });
});

test('turns an ffmpeg failure into a generic server error that leaks nothing', async () => {
  for (const ffmpeg of ['/bin/false', join(dir, 'no-such-ffmpeg')]) {
    const enc = new AacEncoder({ ffmpeg });
    try {
      await assert.rejects(
        (async () => {
          await enc.write(input);
          await enc.end();
        })(),
        (e) => {
          assert.ok(isApiError(e));
          assert.equal(e.status, 500);
          assert.equal(e.type, 'server_error');
          assert.doesNotMatch(e.message, /ffmpeg|pipe|exit|no-such/i);
          assert.ok(e.cause, 'the details are kept for the log');
          return true;
        },
      );
    } finally {
      enc.abort();
    }
  }
});

test('names the content type of every format as OpenAI does', () => {
  assert.deepEqual(CONTENT_TYPES, {
    mp3: 'audio/mpeg',
    opus: 'audio/opus',
    aac: 'audio/aac',
    flac: 'audio/flac',
    wav: 'audio/wav',
    pcm: 'audio/pcm',
  });
  for (const format of OUTPUT_FORMATS) assert.equal(createEncoder(format).contentType, CONTENT_TYPES[format]);
});

test('encodes a whole clip in one call', async () => {
  const bytes = await encodeAll('flac', input);
  const decoded = await decode(save('all.flac', bytes), 'flac');
  assert.deepEqual(floatToInt16(decoded), floatToInt16(input));
});

/** Bytes of one MPEG-2 Layer III frame at 64 kbit/s and 24 kHz (72 · 64 000 / 24 000, never padded). */
const MP3_FRAME_BYTES = 192;

/** kbit/s by bitrate index, Layer III: MPEG-1, then MPEG-2 and 2.5 (ISO/IEC 11172-3, 13818-3). */
const L3_KBPS = [
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
] as const;
/** Sample rates by index: MPEG-1, MPEG-2; MPEG-2.5 is MPEG-2's halved. */
const L3_RATES = [
  [44_100, 48_000, 32_000],
  [22_050, 24_000, 16_000],
] as const;

/** Length of the Layer III frame whose 4-byte header is `h` (header included), 0 if not one. */
function mpegAudioFrameLength(h: readonly number[]): number {
  if (h[0] !== 0xff || (h[1]! & 0xe0) !== 0xe0) return 0;
  const version = (h[1]! >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
  const layer = (h[1]! >> 1) & 3; // 1: Layer III
  const bitrateIndex = h[2]! >> 4;
  const rateIndex = (h[2]! >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const mpeg1 = version === 3;
  const kbps = L3_KBPS[mpeg1 ? 0 : 1][bitrateIndex]!;
  const rate = L3_RATES[mpeg1 ? 0 : 1][rateIndex]! / (version === 0 ? 2 : 1);
  const padding = (h[2]! >> 1) & 1;
  return Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / rate) + padding;
}

/** Walk an MP3 stream frame by frame: every frame must be MPEG-2 Layer III, 64 kbit/s, 24 kHz, mono. */
function mp3Frames(bytes: Uint8Array): number {
  let frames = 0;
  for (let at = 0; at < bytes.length; frames++) {
    const h = [...bytes.subarray(at, at + 4)];
    assert.equal(mpegAudioFrameLength(h), MP3_FRAME_BYTES, `frame ${frames} at byte ${at}: header ${Buffer.from(h).toString('hex')}`);
    assert.equal((h[1]! >> 3) & 3, 2, 'MPEG-2');
    assert.equal(h[2]! >> 4, 8, '64 kbit/s');
    assert.equal((h[2]! >> 2) & 3, 1, '24 kHz');
    assert.equal(h[3]! >> 6, 3, 'mono');
    at += MP3_FRAME_BYTES;
  }
  return frames;
}

describe('mp3 in process (LAME compiled to WebAssembly)', () => {
  for (const streaming of [false, true]) {
    test(`${streaming ? 'streaming: ' : ''}bare CBR frames that ffprobe accepts and that decode back to the tone`, async () => {
      const { bytes } = await feedChunked(createEncoder('mp3', { streaming }), input);
      // No ID3 tag and no Xing/Info frame: the stream is frames from the first byte to the last.
      const frames = mp3Frames(bytes);
      const head = Buffer.from(bytes.subarray(0, MP3_FRAME_BYTES)).toString('latin1');
      assert.doesNotMatch(head, /Xing|Info|LAME/);
      // The input plus LAME's delay and the flush, in 576-sample frames.
      assert.ok(frames * 576 >= input.length && frames * 576 < input.length + 4 * 576, `${frames} frames`);

      const file = save(`lame${streaming ? '-stream' : ''}.mp3`, bytes);
      const info = await probe(file, 'mp3');
      assert.equal(info.streams.length, 1);
      assert.equal(info.streams[0]!.codec_name, 'mp3');
      assert.equal(Number(info.streams[0]!.sample_rate), RATE);
      assert.equal(info.streams[0]!.channels, 1);
      const decoded = await decode(file, 'mp3');
      assert.ok(Math.abs(decoded.length / RATE - SECONDS) / SECONDS < 0.05, `decoded ${decoded.length} samples`);
      const mid = decoded.subarray(Math.round(0.25 * RATE), Math.round(1.25 * RATE));
      assert.ok(Math.abs(dominantFrequency(mid, RATE) - FREQ) < 2);
      assert.ok(Math.abs(amplitudeAt(mid, RATE, FREQ) - 0.5) < 0.05);
    });
  }

  test("returns the frames of each sentence from its write: only LAME's delay and reservoir wait for the end", async () => {
    await withEncoder('mp3', { streaming: true }, async (enc) => {
      const sentence = Math.round(0.4 * RATE);
      let bytes = 0;
      for (let at = 0; at < input.length; at += sentence) {
        bytes += (await enc.write(input.subarray(at, at + sentence))).length;
        const written = Math.min(input.length, at + sentence);
        assert.ok(bytes / MP3_FRAME_BYTES >= Math.floor(written / 576) - 3, `${bytes} bytes after ${written} samples`);
      }
      // LAME's delay (576 + 528 samples), the frame being filled and the flush's padding.
      assert.ok((await enc.end()).length <= 5 * MP3_FRAME_BYTES, 'only the held-back frames come at the end');
    });
  });

  test('reuses LAME instances from a pool, reset between streams, also after an abort', async () => {
    const first = (await feedChunked(createEncoder('mp3'), input)).bytes;
    assert.ok(idleMp3Instances() >= 1, 'an ended encoder gives its instance back');
    // An aborted stream leaves LAME mid-frame: the next stream on that instance must not see it.
    await withEncoder('mp3', { streaming: true }, async (enc) => {
      await enc.write(whiteNoise(5000, 0.9, 7));
      enc.abort();
    });
    const again = (await feedChunked(createEncoder('mp3'), input)).bytes;
    assert.deepEqual(again, first, 'the same input gives the same bytes on a reused instance');
    // Many at once: each gets its own instance; the pool keeps a few, not all.
    const many = await Promise.all(Array.from({ length: 8 }, async () => (await feedChunked(createEncoder('mp3', { streaming: true }), input)).bytes));
    for (const bytes of many) assert.deepEqual(bytes, first);
    assert.ok(idleMp3Instances() <= 4, `${idleMp3Instances()} idle instances`);
  });
});

test('reads MPEG audio frame lengths from their headers', () => {
  assert.equal(mpegAudioFrameLength([0xff, 0xfb, 0x90, 0x00]), 417, 'MPEG-1, 128 kbit/s, 44.1 kHz');
  assert.equal(mpegAudioFrameLength([0xff, 0xfb, 0x92, 0x00]), 418, 'the same, padded');
  assert.equal(mpegAudioFrameLength([0xff, 0xf3, 0x84, 0xc4]), 192, 'MPEG-2, 64 kbit/s, 24 kHz');
  assert.equal(mpegAudioFrameLength([0xff, 0xe3, 0x18, 0xc4]), 72, 'MPEG-2.5, 8 kbit/s, 8 kHz');
  assert.equal(mpegAudioFrameLength([0xff, 0xfd, 0x90, 0x00]), 0, 'Layer II');
  assert.equal(mpegAudioFrameLength([0x49, 0x44, 0x33, 0x04]), 0, 'an ID3 tag');
  assert.equal(mpegAudioFrameLength([0xff, 0xfb, 0xf0, 0x00]), 0, 'a bad bit-rate index');
});

test('counts MP3 and ADTS frames however their bytes are split', async () => {
  const streams = [
    { bytes: await encodeAll('mp3', input), counter: () => new FrameCounter(4, mpegAudioFrameLength) },
    { bytes: await encodeAll('aac', input), counter: () => new FrameCounter(6, adtsFrameLength) },
  ];
  for (const { bytes, counter } of streams) {
    const whole = counter();
    whole.push(bytes);
    assert.ok(whole.count > 10 && Number.isFinite(whole.count));
    for (const size of [1, 2, 5, 191, 192, 193, 1000]) {
      const c = counter();
      for (let at = 0; at < bytes.length; at += size) c.push(bytes.subarray(at, at + size));
      assert.equal(c.count, whole.count, `pieces of ${size} bytes`);
    }
    const partial = counter();
    partial.push(bytes.subarray(0, bytes.length - 1));
    assert.equal(partial.count, whole.count - 1, 'an incomplete frame is not counted');
  }
  const lost = new FrameCounter(4, mpegAudioFrameLength);
  lost.push(new TextEncoder().encode('ID3 tag, not a frame'));
  assert.equal(lost.count, Number.POSITIVE_INFINITY, 'lost sync stops the waiting');
});

interface OggPage {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  crcOk: boolean;
  body: Uint8Array;
}

function parseOggPages(bytes: Uint8Array): OggPage[] {
  const pages: OggPage[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.equal(String.fromCharCode(...bytes.subarray(at, at + 4)), 'OggS', `page at ${at}`);
    const v = new DataView(bytes.buffer, bytes.byteOffset + at);
    const nseg = bytes[at + 26]!;
    let bodyLen = 0;
    for (let i = 0; i < nseg; i++) bodyLen += bytes[at + 27 + i]!;
    const len = 27 + nseg + bodyLen;
    const page = bytes.slice(at, at + len);
    const crc = v.getUint32(22, true);
    page.fill(0, 22, 26);
    pages.push({
      flags: bytes[at + 5]!,
      granule: v.getBigInt64(6, true),
      serial: v.getUint32(14, true),
      sequence: v.getUint32(18, true),
      crcOk: oggCrc32(page) === crc,
      body: bytes.subarray(at + 27 + nseg, at + len),
    });
    at += len;
  }
  return pages;
}
