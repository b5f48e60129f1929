import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tone, whiteNoise } from '../../audio/test-signals.js';
import { loadWatermarkKey } from './key.js';
import { detectMark, MARK_RATE, MarkEmbedder, markPattern, markSnrDb, PAYLOAD_BITS, responseTag, tagDistance } from './mark.js';
import { DETECTION_THRESHOLD, type MarkedResponse, Watermarker, type WatermarkRegistry } from './watermarker.js';

const KEY = new Uint8Array(32).fill(3);
const OTHER_KEY = new Uint8Array(32).fill(4);

/** A voice-like test signal: a 140 Hz buzz with many harmonics, its loudness and pitch wandering like syllables. */
function buzz(seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * MARK_RATE));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / MARK_RATE;
    const f0 = 140 + 25 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / MARK_RATE;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t) ** 2;
    let v = 0;
    for (let h = 1; h <= 25; h++) v += Math.sin(h * phase) / h;
    out[i] = 0.15 * envelope * v;
  }
  return out;
}

function memoryRegistry(): WatermarkRegistry & { rows: (MarkedResponse & { tag: string; createdAt: number })[] } {
  const rows: (MarkedResponse & { tag: string; createdAt: number })[] = [];
  return {
    rows,
    put: (r) => void rows.push({ ...r, createdAt: 1_700_000_000 + rows.length }),
    tags: () => rows.map((r) => r.tag),
    find: (tag) => rows.findLast((r) => r.tag === tag),
  };
}

describe('the watermark', () => {
  const pattern = markPattern(KEY);

  test('the pattern and the tag are keyed: other keys give other chips and tags', () => {
    const other = markPattern(OTHER_KEY);
    let same = 0;
    for (let i = 0; i < pattern.chip.length; i++) if (pattern.chip[i] === other.chip[i]) same++;
    assert.ok(Math.abs(same / pattern.chip.length - 0.5) < 0.05, `chips agree in ${same} of ${pattern.chip.length} cells`);
    assert.equal(responseTag(KEY, 'req_1').length, PAYLOAD_BITS / 4);
    assert.equal(responseTag(KEY, 'req_1'), responseTag(KEY, 'req_1'));
    assert.notEqual(responseTag(KEY, 'req_1'), responseTag(OTHER_KEY, 'req_1'));
    assert.notEqual(responseTag(KEY, 'req_1'), responseTag(KEY, 'req_2'));
  });

  test('passage by passage gives the same samples as all at once (the grid is anchored at the first sample)', () => {
    const audio = buzz(4);
    const tag = responseTag(KEY, 'req_a');
    const whole = new MarkEmbedder(pattern, tag).mark(audio);
    // Passages are cut in silence in real speech; here a run of zeros is the cut.
    audio.fill(0, 40_000, 45_000);
    const wholeCut = new MarkEmbedder(pattern, tag).mark(audio);
    const pieces = new MarkEmbedder(pattern, tag);
    const joined = new Float32Array(audio.length);
    joined.set(pieces.mark(audio.subarray(0, 42_500)));
    joined.set(pieces.mark(audio.subarray(42_500)), 42_500);
    let worst = 0;
    for (let i = 0; i < audio.length; i++) worst = Math.max(worst, Math.abs(joined[i]! - wholeCut[i]!));
    assert.ok(worst < 1e-3, `largest difference ${worst}`);
    assert.equal(whole.length, audio.length);
  });

  test('at strength 0 the audio comes back unchanged (the windows overlap-add to the identity)', () => {
    const audio = buzz(2);
    const out = new MarkEmbedder(pattern, responseTag(KEY, 'x'), 0).mark(audio);
    for (let i = 0; i < audio.length; i++) assert.ok(Math.abs(out[i]! - audio[i]!) < 1e-5, `sample ${i}`);
  });

  test('silence stays silent', () => {
    const out = new MarkEmbedder(pattern, responseTag(KEY, 'x')).mark(new Float32Array(MARK_RATE));
    assert.ok(out.every((v) => v === 0));
  });

  test('marks at the default strength with an SNR of 17–30 dB (20 dB on speech), and finds the mark and its tag', () => {
    const audio = buzz(8);
    const tag = responseTag(KEY, 'req_b');
    const marked = new MarkEmbedder(pattern, tag).mark(audio);
    const snr = markSnrDb(audio, marked);
    assert.ok(snr > 17 && snr < 30, `SNR ${snr.toFixed(1)} dB`);
    const found = detectMark(pattern, marked, MARK_RATE);
    assert.ok(found.score > DETECTION_THRESHOLD, `score ${found.score}`);
    assert.ok(tagDistance(found.bits, tag) <= 8, `tag distance ${tagDistance(found.bits, tag)}`);
    assert.ok(detectMark(pattern, audio, MARK_RATE).score < DETECTION_THRESHOLD, 'the unmarked original');
    assert.ok(detectMark(markPattern(OTHER_KEY), marked, MARK_RATE).score < DETECTION_THRESHOLD, 'another key does not see it');
  });

  test('finds nothing in silence, noise and tones', () => {
    for (const [name, audio] of [
      ['silence', new Float32Array(5 * MARK_RATE)],
      ['white noise', whiteNoise(5 * MARK_RATE, 0.3, 99)],
      ['a 440 Hz tone', tone(440, MARK_RATE, 5)],
      ['a harmonic buzz', buzz(5)],
    ] as const) {
      const found = detectMark(pattern, audio, MARK_RATE);
      assert.ok(found.score < DETECTION_THRESHOLD, `${name}: score ${found.score}`);
    }
  });
});

describe('Watermarker', () => {
  test('records each response, marks its speech and names it back; off, it marks nothing', () => {
    const registry = memoryRegistry();
    const on = new Watermarker({ key: KEY, enabled: true, registry });
    for (let i = 0; i < 50; i++)
      registry.put({ responseId: `req_decoy${i}`, owner: null, model: 'tts-1', voice: 'echo', tag: responseTag(KEY, `req_decoy${i}`) });
    const mark = on.begin({ responseId: 'req_real', owner: 'a'.repeat(64), model: 'tts-1', voice: 'alloy' })!;
    const verdict = on.verify(mark(buzz(8)), MARK_RATE);
    assert.equal(verdict.watermarked, true);
    assert.equal(verdict.confidence, 1);
    assert.equal(verdict.response?.responseId, 'req_real');
    assert.equal(verdict.response?.voice, 'alloy');

    const off = new Watermarker({ key: KEY, enabled: false, registry });
    assert.equal(off.begin({ responseId: 'req_off', owner: null, model: 'tts-1', voice: 'alloy' }), undefined);
    assert.equal(registry.rows.at(-1)?.responseId, 'req_real', 'nothing recorded while off');
    const clean = on.verify(buzz(8), MARK_RATE);
    assert.equal(clean.watermarked, false);
    assert.equal(clean.response, undefined);
  });
});

describe('loadWatermarkKey', () => {
  test('generates a key at first start, keeps it, and prefers a configured one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-wmkey-'));
    try {
      const first = loadWatermarkKey({ dataDir: dir });
      assert.equal(first.source, 'generated');
      assert.equal(first.key.length, 32);
      assert.equal((fs.statSync(path.join(dir, 'watermark.key')).mode & 0o777).toString(8), '600');
      const again = loadWatermarkKey({ dataDir: dir });
      assert.equal(again.source, 'file');
      assert.deepEqual(again.key, first.key);
      const configured = loadWatermarkKey({ dataDir: dir, configured: 'a configured secret of some length' });
      assert.equal(configured.source, 'config');
      assert.notDeepEqual(configured.key, first.key);
      fs.writeFileSync(path.join(dir, 'watermark.key'), 'garbage');
      assert.throws(() => loadWatermarkKey({ dataDir: dir }), /does not hold a watermark key/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
