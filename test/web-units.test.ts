/** The playground's logic that needs no browser: audio framing, the hands-free VAD, prices, batches, usage buckets. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { OPENAI_PRICES_USD_PER_1M as SERVER_PRICES } from '../src/store/usage.js';
import { etaSec, inspectJsonl } from '../web/src/api/batch-lines.js';
import { formatUsd, openaiCostOfUsage, OPENAI_PRICES_USD_PER_1M as PAGE_PRICES, parleyCostOf } from '../web/src/api/prices.js';
import { bucketEdges, RANGES, totalOf } from '../web/src/api/usage.js';
import { EnergyVad } from '../web/src/audio/vad.js';
import { encodeWav, pcm16ToFloat, wavHeader } from '../web/src/audio/wav.js';
import { wordAt } from '../web/src/audio/words.js';

const SPEECH = path.resolve(import.meta.dirname, 'fixtures/speech/librivox-0880.wav');

/** The fixture's samples (16 kHz mono s16). */
function speech(): Float32Array {
  const bytes = new Uint8Array(fs.readFileSync(SPEECH));
  const h = wavHeader(bytes)!;
  return pcm16ToFloat(bytes.subarray(h.dataOffset));
}

describe('the page’s audio framing', () => {
  test('a WAV it writes has the header the server reads, and its samples survive the round trip', () => {
    const samples = new Float32Array([0, 0.5, -0.5, 1, -1, 0.25]);
    const wav = encodeWav(samples, 16_000);
    assert.equal(Buffer.from(wav.subarray(0, 4)).toString('latin1'), 'RIFF');
    assert.deepEqual(wavHeader(wav), { dataOffset: 44, sampleRate: 16_000, channels: 1, bits: 16 });
    const back = pcm16ToFloat(wav.subarray(44));
    for (let i = 0; i < samples.length; i++) assert.ok(Math.abs(back[i]! - samples[i]!) < 1e-4);
  });

  test('a streamed WAV header is found once enough bytes have arrived, even with its 0xFFFFFFFF sizes', () => {
    const wav = encodeWav(new Float32Array(100), 24_000);
    const view = new DataView(wav.buffer);
    view.setUint32(4, 0xffffffff, true);
    view.setUint32(40, 0xffffffff, true);
    assert.equal(wavHeader(wav.subarray(0, 30)), null);
    assert.deepEqual(wavHeader(wav.subarray(0, 44)), { dataOffset: 44, sampleRate: 24_000, channels: 1, bits: 16 });
    assert.throws(() => wavHeader(new TextEncoder().encode('ID3 not a wav file at all')), /not a WAV/);
  });
});

describe('the hands-free voice activity detector', () => {
  const rate = 16_000;
  const quiet = (sec: number) => Float32Array.from({ length: sec * rate }, (_, i) => 0.001 * Math.sin(i));
  const feed = (vad: EnergyVad, samples: Float32Array) => {
    const events = [];
    for (let i = 0; i < samples.length; i += 1024) events.push(...vad.push(samples.subarray(i, i + 1024)));
    return events;
  };

  test('cuts one turn out of a recording between silences, keeping all of the speech', () => {
    const clip = speech();
    const audio = new Float32Array(quiet(1).length * 2 + clip.length);
    audio.set(quiet(1));
    audio.set(clip, rate);
    audio.set(quiet(1), rate + clip.length);
    const events = feed(new EnergyVad({ sampleRate: rate }), audio);
    assert.deepEqual(
      events.map((e) => e.type),
      ['start', 'end'],
    );
    const turn = events[1]!.type === 'end' ? events[1]!.audio : new Float32Array();
    // The fixture's speech runs 0.2–2.8 s; the turn holds it plus a little before and after.
    assert.ok(turn.length / rate > 2.6 && turn.length / rate < clip.length / rate + 0.6, `turn of ${turn.length / rate} s`);
  });

  test('ignores a click, and hears nothing in silence', () => {
    const vad = new EnergyVad({ sampleRate: rate });
    const click = quiet(2);
    for (let i = rate; i < rate + 480; i++) click[i] = 0.8;
    assert.deepEqual(
      feed(vad, click).filter((e) => e.type === 'end'),
      [],
    );
    assert.equal(vad.speaking, false);
  });

  test('a turn still open when hands-free mode is switched off is handed over', () => {
    const vad = new EnergyVad({ sampleRate: rate });
    const clip = speech();
    feed(vad, clip.subarray(0, Math.round(2 * rate)));
    assert.equal(vad.speaking, true);
    const [last] = vad.flush();
    assert.equal(last?.type, 'end');
  });
});

describe('costs shown per turn', () => {
  test('the page prices tokens with the same table as the server', () => {
    assert.deepEqual({ ...PAGE_PRICES }, { ...SERVER_PRICES });
  });

  test('a turn is priced like OpenAI bills it: audio and text tokens at their own rates', () => {
    const usd = openaiCostOfUsage({
      prompt_tokens: 130,
      completion_tokens: 70,
      prompt_tokens_details: { audio_tokens: 30, text_tokens: 100, cached_tokens: 0 },
      completion_tokens_details: { audio_tokens: 60, text_tokens: 10 },
    });
    assert.ok(Math.abs(usd - (100 * 0.15 + 30 * 10 + 10 * 0.6 + 60 * 20) / 1e6) < 1e-12);
    assert.equal(formatUsd(0.00152), '$0.0015');
    assert.equal(formatUsd(2.5), '$2.50');
    assert.equal(formatUsd(0), '$0');
    assert.equal(parleyCostOf({ prompt_tokens: 1 }), null);
    assert.equal(parleyCostOf({ parley_cost_usd: { total: 0.0001 } }), 0.0001);
  });
});

describe('batches and usage in the page', () => {
  test('a JSONL file is checked for one endpoint before upload', () => {
    const line = (url: string) => JSON.stringify({ custom_id: url, method: 'POST', url, body: {} });
    assert.deepEqual(inspectJsonl('a.jsonl', `${line('/v1/audio/speech')}\n${line('/v1/audio/speech')}\n\n`), {
      name: 'a.jsonl',
      text: `${line('/v1/audio/speech')}\n${line('/v1/audio/speech')}\n\n`,
      lines: 2,
      endpoint: '/v1/audio/speech',
      problem: null,
    });
    assert.match(inspectJsonl('b', `${line('/v1/audio/speech')}\n${line('/v1/chat/completions')}`).problem!, /several endpoints/);
    assert.match(inspectJsonl('c', '').problem!, /empty/);
    assert.match(inspectJsonl('d', line('/v1/embeddings')).problem!, /Unknown endpoint/);
  });

  test('the ETA follows the rate since the batch started', () => {
    assert.equal(etaSec({ in_progress_at: 1000, request_counts: { completed: 0, failed: 0, total: 10 } }, 1010), null);
    assert.equal(etaSec({ in_progress_at: 1000, request_counts: { completed: 4, failed: 1, total: 10 } }, 1010), 10);
  });

  test('usage buckets are whole hours or days ending with the current one', () => {
    const day = RANGES.find((r) => r.id === '7d')!;
    const edges = bucketEdges(day, 86_400 * 100 + 5);
    assert.equal(edges.length, 7);
    assert.deepEqual(edges.at(-1), [86_400 * 100, 86_400 * 101]);
    for (let i = 1; i < edges.length; i++) assert.equal(edges[i]![0], edges[i - 1]![1]);
    const b = (parleyUsd: number | null) => ({
      start: 0,
      end: 1,
      requests: 1,
      audioInSec: 2,
      audioOutSec: 3,
      promptTokens: 4,
      completionTokens: 5,
      openaiUsd: 0.5,
      parleyUsd,
    });
    assert.equal(totalOf([b(null), b(null)]).parleyUsd, null);
    assert.deepEqual(totalOf([b(0.1), b(null)]), {
      requests: 2,
      audioInSec: 4,
      audioOutSec: 6,
      promptTokens: 8,
      completionTokens: 10,
      openaiUsd: 1,
      parleyUsd: 0.1,
    });
  });

  test('the word being spoken is the last one started', () => {
    const words = [
      { word: 'he', start: 0.2, end: 0.4 },
      { word: 'was', start: 0.45, end: 0.7 },
    ];
    assert.deepEqual(
      [0, 0.2, 0.5, 3].map((t) => wordAt(words, t)),
      [-1, 0, 1, 1],
    );
  });
});
