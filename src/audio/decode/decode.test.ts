import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ApiError } from '../../errors.js';
import { ffmpegPath } from '../ffmpeg.js';
import { amplitudeAt, dominantFrequency, rms, tone } from '../test-signals.js';
import { decodeAudio, decodeBase64Strict, sniffContainer } from './index.js';

// The corpus lives under test/fixtures, outside tsconfig.json's rootDir, so it is imported by URL
// and its shape restated here.
interface ValidCase {
  name: string;
  bytes: Uint8Array;
  sampleRate: number;
  channels: number;
  samples: number;
  freq: number | null;
  amp: number;
  ampTol: number;
}
interface MalformedCase {
  name: string;
  bytes: Uint8Array;
  format?: string;
  code: string;
}
interface Corpus {
  validWavCases(): ValidCase[];
  malformedCases(): MalformedCase[];
  writeWav(spec: { channels: Float32Array[]; sampleRate: number; encoding: { kind: 'pcm'; bits: 16 } | { kind: 'float'; bits: 32 } }): Uint8Array;
  ffmpegEncode(ffmpeg: string, wav: Uint8Array, format: string, args: string[]): Uint8Array;
  randomBytes(n: number, seed: number): Uint8Array;
}
const fixtures = new URL('../../../test/fixtures/audio-in/', import.meta.url);
const corpus = (await import(new URL('make-corpus.ts', fixtures).href)) as Corpus;
const ffmpeg = ffmpegPath();
const PARAM = 'messages[0].content[1].input_audio.data';

/** Runs `fn`, which must reject with a 400 ApiError of `code` naming PARAM; returns the error. */
async function expectRefusal(fn: () => Promise<unknown>, code: string): Promise<ApiError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.equal(e.code, code);
    assert.equal(e.param, PARAM);
    return e;
  }
  assert.fail(`expected a ${code} refusal`);
}

function assertTone(samples: Float32Array, sampleRate: number, freq: number, amp: number, ampTol: number): void {
  const f = dominantFrequency(samples, sampleRate);
  assert.ok(Math.abs(f - freq) < Math.max(2, freq * 0.01), `frequency ${f.toFixed(1)} Hz, expected ${freq}`);
  const a = amplitudeAt(samples, sampleRate, freq);
  assert.ok(Math.abs(a - amp) <= amp * ampTol, `amplitude ${a.toFixed(4)}, expected ${amp} ± ${ampTol * 100}%`);
}

describe('decodeAudio: WAV variants', () => {
  for (const c of corpus.validWavCases()) {
    it(`reads ${c.name}`, async () => {
      const out = await decodeAudio(c.bytes, { param: PARAM, format: 'wav' });
      assert.equal(out.container, 'wav');
      assert.equal(out.sampleRate, c.sampleRate);
      assert.equal(out.sourceRate, c.sampleRate);
      assert.equal(out.channels, c.channels);
      assert.equal(out.samples.length, c.samples);
      assert.equal(out.durationSec, c.samples / c.sampleRate);
      for (const v of out.samples) assert.ok(Number.isFinite(v));
      if (c.freq === null) assert.ok(rms(out.samples) < 1e-3, 'silence stays silent');
      else assertTone(out.samples, out.sampleRate, c.freq, c.amp, c.ampTol);
    });
  }
});

describe('decodeAudio: MP3 in process', () => {
  it('reads the committed 22 kHz mono mp3 with its gapless length', async () => {
    const bytes = readFileSync(new URL('tone-440-22k-mono.mp3', fixtures));
    const out = await decodeAudio(bytes, { param: PARAM, format: 'mp3' });
    assert.equal(out.container, 'mp3');
    assert.equal(out.sampleRate, 22050);
    assert.equal(out.channels, 1);
    assert.equal(out.samples.length, 11025);
    assertTone(out.samples, 22050, 440, 0.5, 0.1);
  });

  it('decodes an mp3 straight to a lower maxRate, keeping its length and tone', async () => {
    const bytes = readFileSync(new URL('tone-440-22k-mono.mp3', fixtures));
    const out = await decodeAudio(bytes, { param: PARAM, maxRate: 16_000 });
    assert.equal(out.sampleRate, 16_000);
    assert.equal(out.sourceRate, 22_050);
    assert.ok(Math.abs(out.samples.length - 8000) <= 2, String(out.samples.length));
    assertTone(out.samples, 16_000, 440, 0.5, 0.1);
    const low = await decodeAudio(bytes, { param: PARAM, maxRate: 48_000 });
    assert.equal(low.sampleRate, 22_050, 'a maxRate above the source changes nothing');
  });

  it('reads the committed µ-law WAV', async () => {
    const out = await decodeAudio(readFileSync(new URL('tone-440-8k-mulaw.wav', fixtures)), { param: PARAM });
    assert.equal(out.sampleRate, 8000);
    assertTone(out.samples, 8000, 440, 0.5, 0.04);
  });

  it('decodes a file named .wav that is really an mp3 as mp3, and logs the mismatch', async () => {
    const logs: string[] = [];
    const bytes = readFileSync(new URL('tone-440-22k-mono.mp3', fixtures));
    const out = await decodeAudio(bytes, { param: PARAM, format: 'wav', log: (m) => logs.push(m) });
    assert.equal(out.container, 'mp3');
    assert.equal(out.samples.length, 11025);
    assert.ok(logs.some((m) => m.includes('really mp3')));
  });

  it('reads an mp3 behind an ID3v2 tag and after some junk bytes', async () => {
    const mp3 = readFileSync(new URL('tone-440-22k-mono.mp3', fixtures));
    const id3 = new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 30, ...new Array<number>(30).fill(0)]);
    const junk = new Uint8Array(100).fill(7);
    const bytes = new Uint8Array([...id3, ...junk, ...mp3]);
    assert.equal(sniffContainer(bytes), 'mp3');
    const out = await decodeAudio(bytes, { param: PARAM });
    assertTone(out.samples, 22050, 440, 0.5, 0.1);
  });

  it('reads what is there of a truncated mp3', async () => {
    const mp3 = readFileSync(new URL('tone-440-22k-mono.mp3', fixtures));
    const out = await decodeAudio(mp3.subarray(0, Math.floor(mp3.length * 0.6)), { param: PARAM });
    assert.ok(out.samples.length > 3000 && out.samples.length < 11025, `${out.samples.length} samples`);
  });
});

describe('decodeAudio: formats through ffmpeg', { skip: ffmpeg ? false : 'no ffmpeg' }, () => {
  const rate = 44100;
  const t = tone(440, rate, 1, 0.5);
  const wav = corpus.writeWav({ channels: [t, t], sampleRate: rate, encoding: { kind: 'pcm', bits: 16 } });
  const formats: Array<{ name: string; muxer: string; args: string[]; container: string; hint: string; rate: number; ampTol: number; exact?: boolean }> = [
    { name: 'flac', muxer: 'flac', args: ['-c:a', 'flac'], container: 'flac', hint: 'flac', rate, ampTol: 0.01, exact: true },
    { name: 'ogg vorbis', muxer: 'ogg', args: ['-c:a', 'libvorbis', '-q:a', '4'], container: 'ogg', hint: 'ogg', rate, ampTol: 0.1 },
    { name: 'ogg opus', muxer: 'ogg', args: ['-c:a', 'libopus', '-b:a', '64k'], container: 'ogg', hint: 'ogg', rate: 48000, ampTol: 0.1 },
    { name: 'webm opus', muxer: 'webm', args: ['-c:a', 'libopus', '-b:a', '64k'], container: 'webm', hint: 'webm', rate: 48000, ampTol: 0.1 },
    { name: 'm4a aac (index at the end)', muxer: 'ipod', args: ['-c:a', 'aac', '-b:a', '96k'], container: 'mp4', hint: 'm4a', rate, ampTol: 0.1 },
    {
      name: 'mp4 aac with faststart',
      muxer: 'mp4',
      args: ['-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart'],
      container: 'mp4',
      hint: 'mp4',
      rate,
      ampTol: 0.1,
    },
    { name: 'raw ADTS aac', muxer: 'adts', args: ['-c:a', 'aac', '-b:a', '96k'], container: 'aac', hint: 'aac', rate, ampTol: 0.1 },
    {
      name: 'stereo mp3 (decoded in process)',
      muxer: 'mp3',
      args: ['-c:a', 'libmp3lame', '-b:a', '96k'],
      container: 'mp3',
      hint: 'mpga',
      rate,
      ampTol: 0.1,
      exact: true,
    },
    { name: 'IMA ADPCM WAV (handed to ffmpeg)', muxer: 'wav', args: ['-c:a', 'adpcm_ima_wav'], container: 'wav', hint: 'wav', rate, ampTol: 0.05 },
  ];
  for (const f of formats) {
    it(`reads ${f.name}`, async () => {
      const bytes = corpus.ffmpegEncode(ffmpeg!, wav, f.muxer, f.args);
      assert.equal(sniffContainer(bytes), f.container);
      const out = await decodeAudio(bytes, { param: PARAM, format: f.hint });
      assert.equal(out.container, f.container);
      assert.equal(out.sampleRate, f.rate);
      assert.equal(out.channels, 2);
      if (f.exact) assert.equal(out.samples.length, rate);
      else assert.ok(Math.abs(out.durationSec - 1) < 0.1, `duration ${out.durationSec}`);
      // Skip codec start-up transients.
      assertTone(out.samples.subarray(Math.floor(f.rate * 0.1), Math.floor(f.rate * 0.9)), f.rate, 440, 0.5, f.ampTol);
    });
  }

  it('reads an m4a whose index comes after the audio, which ffmpeg cannot read from a pipe', async () => {
    const w = corpus.writeWav({ channels: [tone(440, 16000, 10, 0.5)], sampleRate: 16000, encoding: { kind: 'pcm', bits: 16 } });
    const bytes = corpus.ffmpegEncode(ffmpeg!, w, 'ipod', ['-c:a', 'aac', '-b:a', '64k']);
    const text = Buffer.from(bytes).toString('latin1');
    assert.ok(text.indexOf('moov') > text.indexOf('mdat'), 'moov after mdat');
    const out = await decodeAudio(bytes, { param: PARAM, format: 'm4a' });
    assert.ok(Math.abs(out.durationSec - 10) < 0.1, `duration ${out.durationSec}`);
    assertTone(out.samples.subarray(16000, 9 * 16000), 16000, 440, 0.5, 0.1);
  });

  it('kills ffmpeg and refuses when it runs past the timeout', async () => {
    const bytes = corpus.ffmpegEncode(ffmpeg!, wav, 'flac', ['-c:a', 'flac']);
    await expectRefusal(() => decodeAudio(bytes, { param: PARAM, timeoutMs: 1 }), 'unsupported_format');
  });

  it('kills ffmpeg when the request is aborted', async () => {
    const bytes = corpus.ffmpegEncode(ffmpeg!, wav, 'flac', ['-c:a', 'flac']);
    const ac = new AbortController();
    const p = decodeAudio(bytes, { param: PARAM, signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === 'request_cancelled');
  });

  it('stops a small file that expands past the duration cap (a flac of silence)', async () => {
    const silence = corpus.writeWav({ channels: [new Float32Array(16000 * 600)], sampleRate: 16000, encoding: { kind: 'pcm', bits: 16 } });
    const bytes = corpus.ffmpegEncode(ffmpeg!, silence, 'flac', ['-c:a', 'flac']);
    assert.ok(bytes.length < 300_000, `${bytes.length} bytes of flac`);
    await expectRefusal(() => decodeAudio(bytes, { param: PARAM, maxDurationSec: 60 }), 'audio_too_long');
  });
});

describe('decodeAudio: malformed input', () => {
  for (const c of corpus.malformedCases()) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      const e = await expectRefusal(() => decodeAudio(c.bytes, { param: PARAM, format: c.format }), c.code);
      assert.equal(e.message, 'This model does not support the format you provided.');
    });
  }

  it('refuses input over the size limit before decoding it', async () => {
    const bytes = new Uint8Array(21 * 1024 * 1024); // all zeros: would be a slow failure if decoded
    // With an already aborted request, any work at all would end in request_cancelled: the size
    // check is the very first thing done.
    const e = await expectRefusal(() => decodeAudio(bytes, { param: PARAM, signal: AbortSignal.abort() }), 'audio_too_large');
    assert.match(e.message, /21 MB.*20 MB/);
    const small = corpus.validWavCases()[0]!.bytes;
    await expectRefusal(() => decodeAudio(small, { param: PARAM, maxBytes: 100 }), 'audio_too_large');
  });

  it('refuses a WAV longer than the duration cap with audio_too_long', async () => {
    const w = corpus.writeWav({ channels: [new Float32Array(16000 * 3)], sampleRate: 16000, encoding: { kind: 'pcm', bits: 16 } });
    await expectRefusal(() => decodeAudio(w, { param: PARAM, maxDurationSec: 2 }), 'audio_too_long');
    const mp3 = readFileSync(new URL('tone-440-22k-mono.mp3', fixtures));
    await expectRefusal(() => decodeAudio(mp3, { param: PARAM, maxDurationSec: 0.1 }), 'audio_too_long');
  });

  it('rejects an already aborted request without decoding', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      decodeAudio(corpus.validWavCases()[0]!.bytes, { param: PARAM, signal: ac.signal }),
      (e: unknown) => e instanceof ApiError && e.status === 499,
    );
  });

  it('survives 400 random mutations of WAV and MP3 files: each decodes or is a 400', async () => {
    const sources = [
      corpus.validWavCases().find((c) => c.name === '24-bit PCM')!.bytes,
      corpus.validWavCases().find((c) => c.name.startsWith('WAVE_FORMAT_EXTENSIBLE 32'))!.bytes,
      new Uint8Array(readFileSync(new URL('tone-440-22k-mono.mp3', fixtures))),
    ];
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const src = sources[i % sources.length]!;
      const noise = corpus.randomBytes(16, i + 100);
      const bytes = src.slice(0, i % 5 === 0 ? noise[0]! * 8 + 8 : src.length);
      // Flip a few bytes, mostly in the header where the lies hurt.
      for (let k = 0; k < 4; k++) {
        const at = k < 3 ? noise[k + 1]! % Math.min(64, bytes.length) : (noise[5]! * 256 + noise[6]!) % bytes.length;
        if (bytes.length > 0) bytes[at] = noise[k + 8]!;
      }
      try {
        const out = await decodeAudio(bytes, { param: PARAM, maxDurationSec: 60 });
        for (let j = 0; j < out.samples.length; j += 97) assert.ok(Number.isFinite(out.samples[j]!));
      } catch (e) {
        assert.ok(e instanceof ApiError && e.status === 400, `case ${i}: ${String(e)}`);
        refused++;
      }
    }
    assert.ok(refused > 0);
  });
});

describe('decodeBase64Strict', () => {
  const bytes = Uint8Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff);
  const b64 = Buffer.from(bytes).toString('base64');

  it('decodes standard base64', () => {
    assert.deepEqual(decodeBase64Strict(b64, PARAM), bytes);
  });

  it('accepts line breaks, missing padding and the URL-safe alphabet', () => {
    const wrapped = b64.replace(/(.{76})/g, '$1\r\n');
    assert.deepEqual(decodeBase64Strict(wrapped, PARAM), bytes);
    assert.deepEqual(decodeBase64Strict(b64.replace(/=+$/, ''), PARAM), bytes);
    assert.deepEqual(decodeBase64Strict(Buffer.from(bytes).toString('base64url'), PARAM), bytes);
  });

  for (const [name, text] of [
    ['plain text', 'hello world!'],
    ['a data URL', `data:audio/wav;base64,${b64}`],
    ['data after the padding', 'QUJD=QUJD'],
    ['three padding characters', 'QQ==='],
    ['a lone trailing symbol', 'QUJDR'],
    ['non-ASCII letters', 'QUJDé'],
  ] as const) {
    it(`rejects ${name} naming the field`, () => {
      assert.throws(
        () => decodeBase64Strict(text, PARAM),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === PARAM && e.code === 'invalid_value',
      );
    });
  }

  it('refuses base64 whose decoded size is over the limit before decoding it', () => {
    const big = 'A'.repeat(28 * 1024 * 1024);
    assert.throws(
      () => decodeBase64Strict(big, PARAM),
      (e: unknown) => e instanceof ApiError && e.code === 'audio_too_large' && e.param === PARAM,
    );
    assert.throws(
      () => decodeBase64Strict(b64, PARAM, { maxBytes: 100 }),
      (e: unknown) => e instanceof ApiError && e.code === 'audio_too_large',
    );
  });
});

describe('decoder memory and speed', { skip: process.env.PARLEY_SKIP_SLOW ? 'PARLEY_SKIP_SLOW set' : false }, () => {
  it('decodes a 20 MB WAV with peak memory growth under 3× its size', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', new URL('measure-decode.ts', fixtures).pathname, 'wav16-mono'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as { inputBytes: number; outputBytes: number; peakGrowthBytes: number; ms: number };
    assert.ok(m.peakGrowthBytes < 3 * m.inputBytes, JSON.stringify(m));
  });
});
