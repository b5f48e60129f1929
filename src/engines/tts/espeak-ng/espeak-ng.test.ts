import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { PcmAudio } from '../../../audio/types.js';
import { isApiError } from '../../../errors.js';
import { isAbortError } from '../worker-pool/pool.js';
import { EspeakEngine } from './engine.js';
import { parseVoiceTable, pitchParameter, rateParameter, voiceForLanguage } from './voices.js';

const seconds = (pcm: PcmAudio): number => pcm.samples.length / pcm.sampleRate;
function rms(pcm: PcmAudio): number {
  let s = 0;
  for (const x of pcm.samples) s += x * x;
  return Math.sqrt(s / Math.max(1, pcm.samples.length));
}

const GERMAN = 'Guten Tag! Der Zug nach München fährt heute um acht Uhr ab.';
const FRENCH = "Bonjour ! Le train pour Paris part aujourd'hui à huit heures.";

describe('espeak-ng engine', () => {
  let engine: EspeakEngine;
  before(async () => {
    engine = await EspeakEngine.create({ modelsDir: os.tmpdir(), concurrency: 2 });
  });
  after(async () => {
    await engine.dispose();
  });

  test('lists the languages and variants of the build it runs', () => {
    const langs = engine.languages();
    for (const l of ['en', 'de', 'fr', 'es', 'zh', 'ru', 'ja', 'ar', 'hi']) assert.ok(langs.includes(l), l);
    assert.ok(engine.voices().length > 120, `${engine.voices().length} voices`);
    const variants = new Map(engine.variants().map((v) => [v.id, v]));
    for (const id of ['f1', 'f2', 'f3', 'f4', 'f5']) assert.equal(variants.get(id)?.gender, 'female', id);
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']) assert.equal(variants.get(id)?.gender, 'male', id);
  });

  test('speaks German text with the German voice', async () => {
    assert.deepEqual(engine.argsFor({ rendering: { voice: 'en-us+f3' }, speed: 1, language: 'de' }).slice(0, 2), ['-v', 'gmw/de+f3']);
    const pcm = await engine.synthesize({ text: GERMAN, rendering: { voice: 'en-us+f3' }, speed: 1, language: 'de' });
    assert.equal(pcm.sampleRate, 22_050);
    assert.ok(seconds(pcm) > 2 && seconds(pcm) < 8, `${seconds(pcm)} s`);
    assert.ok(rms(pcm) > 0.01, `rms ${rms(pcm)}`);
  });

  test('speaks French text with the French voice', async () => {
    assert.equal(engine.voiceIdFor('en-us+m3', 'fr'), 'fr-fr+m3');
    const pcm = await engine.synthesize({ text: FRENCH, rendering: { voice: 'en-us+m3' }, speed: 1, language: 'fr' });
    assert.ok(seconds(pcm) > 2 && seconds(pcm) < 8, `${seconds(pcm)} s`);
    assert.ok(rms(pcm) > 0.01);
  });

  test('keeps the voice when the language is already its own, and for languages it lacks', () => {
    assert.equal(engine.voiceIdFor('en-gb-x-rp+m1', 'en'), 'en-gb-x-rp+m1');
    assert.equal(engine.voiceIdFor('en-gb-x-rp+m1', 'en-US'), 'en-gb-x-rp+m1');
    assert.equal(engine.voiceIdFor('en-us+f2', 'xx'), 'en-us+f2');
    assert.equal(engine.voiceIdFor('de+f2', 'pt-BR'), 'pt-br+f2');
    assert.equal(engine.voiceIdFor('en-us', 'zh'), 'cmn');
  });

  test('speed 2.0 is about half as long as speed 1.0', async () => {
    const normal = await engine.synthesize({ text: GERMAN, rendering: { voice: 'de' }, speed: 1 });
    const fast = await engine.synthesize({ text: GERMAN, rendering: { voice: 'de' }, speed: 2 });
    const ratio = seconds(fast) / seconds(normal);
    assert.ok(ratio > 0.4 && ratio < 0.65, `ratio ${ratio.toFixed(2)}`);
  });

  test('reads text that starts with a dash as text, not as an option', async () => {
    const pcm = await engine.synthesize({ text: '-v --help minus five', rendering: { voice: 'en-us' }, speed: 1 });
    assert.ok(seconds(pcm) > 0.8, `${seconds(pcm)} s`);
  });

  test('knows voice+variant ids and rejects unknown ones with invalid_value', async () => {
    assert.ok(engine.hasVoice('de+f3'));
    assert.ok(engine.hasVoice('en-us'));
    assert.ok(!engine.hasVoice('de+nosuch'));
    assert.ok(!engine.hasVoice('xx-yy'));
    await assert.rejects(engine.synthesize({ text: 'Hallo', rendering: { voice: 'de+nosuch' }, speed: 1 }), (e) => isApiError(e) && e.code === 'invalid_value');
  });

  test('abort rejects promptly with an AbortError, and the engine goes on', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = engine.synthesize({ text: GERMAN.repeat(40), rendering: { voice: 'de' }, speed: 0.5, signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await assert.rejects(p, (e) => isAbortError(e));
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms (the whole text takes far longer)`);
    const next = await engine.synthesize({ text: 'Hallo Welt.', rendering: { voice: 'de' }, speed: 1 });
    assert.ok(next.samples.length > 0);
  });
});

describe('espeak-ng parameters', () => {
  test('pitch factor 1 is espeak-ng default -p 50, and the scale is monotonic and clamped', () => {
    assert.equal(pitchParameter(1), 50);
    assert.equal(pitchParameter(0.1), 0);
    assert.equal(pitchParameter(9), 99);
    let last = -1;
    for (let f = 0.6; f <= 1.7; f += 0.05) {
      const p = pitchParameter(f);
      assert.ok(p >= last);
      last = p;
    }
  });

  test('rate factor maps to words per minute within 80–450', () => {
    assert.equal(rateParameter(1), 175);
    assert.equal(rateParameter(2), 350);
    assert.equal(rateParameter(4), 450);
    assert.equal(rateParameter(0.25), 80);
  });

  test('parses the voice table, keeping duplicate languages apart by file', () => {
    const table = [
      'Pty Language       Age/Gender VoiceName          File                 Other Languages',
      ' 5  cmn             --/M      Chinese_(Mandarin) sit/cmn              (zh-cmn 5)(zh 5)',
      ' 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)',
      ' 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)',
      ' 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)',
      ' 5  yue             --/M      Chinese_(Cantonese,_latin_as_Jyutping) sit/yue-Latn-jyutping (zh-yue 5)(zh 8)',
    ].join('\n');
    const voices = parseVoiceTable(table);
    assert.deepEqual(
      voices.map((v) => v.id),
      ['cmn', 'en-gb', 'en-us', 'yue', 'yue-latn-jyutping'],
    );
    assert.equal(voiceForLanguage(voices, 'zh')?.id, 'cmn');
    assert.equal(voiceForLanguage(voices, 'zh-yue')?.id, 'yue');
    assert.equal(voiceForLanguage(voices, 'en')?.id, 'en-gb');
    assert.equal(voiceForLanguage(voices, 'en-US')?.id, 'en-us');
    assert.equal(voiceForLanguage(voices, 'de'), undefined);
  });
});
