import assert from 'node:assert/strict';
import os from 'node:os';
import { after, describe, test } from 'node:test';
import { isApiError } from '../../errors.js';
import { createTtsEngine } from './registry.js';
import { TtsRouter } from './router.js';
import { FakeTtsEngine } from './test-fakes.js';

const GERMAN = 'Guten Tag! Der Zug nach München fährt heute um acht Uhr ab.';
const ENGLISH = 'Good morning! The train to Boston leaves at eight o’clock today.';

function fakes(): { main: FakeTtsEngine; espeak: FakeTtsEngine; loads: () => number; router: TtsRouter } {
  const main = new FakeTtsEngine(
    'flite',
    [
      { id: 'slt', language: 'en-US' },
      { id: 'rms', language: 'en-US' },
    ],
    ['en'],
  );
  const espeak = new FakeTtsEngine(
    'espeak-ng',
    [
      { id: 'de', language: 'de' },
      { id: 'en-us', language: 'en-us' },
      { id: 'ru', language: 'ru' },
    ],
    ['de', 'en', 'ru'],
    {
      alloy: { voice: 'en-us' },
      shimmer: { voice: 'en-us', pitch: 1.2 },
    },
  );
  let n = 0;
  const router = new TtsRouter({
    main,
    fallback: async () => {
      n++;
      return espeak;
    },
  });
  return { main, espeak, loads: () => n, router };
}

describe('TtsRouter', () => {
  test('uses the main engine for English text and never loads the fallback', async () => {
    const { main, loads, router } = fakes();
    const out = await router.synthesize({ text: ENGLISH, voice: 'shimmer', speed: 1 });
    assert.equal(out.engine, 'flite');
    assert.equal(out.voice, 'slt');
    assert.equal(out.detected, false);
    assert.equal(main.requests.length, 1);
    assert.equal(loads(), 0);
  });

  test('sends German text to the fallback in German, with the voice’s fallback rendering', async () => {
    const { espeak, main, router } = fakes();
    const plan = await router.plan({ text: GERMAN, voice: 'shimmer' });
    assert.equal(plan.engine.id, 'espeak-ng');
    assert.equal(plan.reason, 'language');
    assert.equal(plan.language, 'de');
    assert.equal(plan.detected, true);
    assert.deepEqual(plan.rendering, { voice: 'en-us', pitch: 1.2 });
    await router.synthesize({ text: GERMAN, voice: 'shimmer', speed: 1.5 });
    assert.equal(espeak.requests[0]?.language, 'de');
    assert.equal(espeak.requests[0]?.speed, 1.5);
    assert.equal(main.requests.length, 0);
  });

  test('loads the fallback once', async () => {
    const { loads, router } = fakes();
    await Promise.all([router.plan({ text: GERMAN, voice: 'alloy' }), router.plan({ text: GERMAN, voice: 'echo' })]);
    await router.plan({ text: 'Привет, как дела?', voice: 'alloy' });
    assert.equal(loads(), 1);
  });

  test('trusts a language the caller gives, even on short text', async () => {
    const { router } = fakes();
    const plan = await router.plan({ text: 'Danke!', voice: 'alloy', language: 'de-DE' });
    assert.equal(plan.engine.id, 'espeak-ng');
    assert.equal(plan.detected, false);
  });

  test('keeps the main engine on short Latin-script text', async () => {
    const { router } = fakes();
    assert.equal((await router.plan({ text: 'Danke schön!', voice: 'alloy' })).engine.id, 'flite');
  });

  test('keeps the main engine for a language the fallback lacks too', async () => {
    const { router } = fakes();
    assert.equal((await router.plan({ text: 'x', voice: 'alloy', language: 'sw' })).engine.id, 'flite');
  });

  test('accepts a voice id of the main engine and rejects an unknown name with invalid_value', async () => {
    const { router } = fakes();
    assert.deepEqual((await router.plan({ text: ENGLISH, voice: 'rms' })).rendering, { voice: 'rms' });
    await assert.rejects(router.plan({ text: ENGLISH, voice: 'nobody' }), (e) => isApiError(e) && e.code === 'invalid_value' && e.param === 'voice');
  });

  test('a fallback that fails to load fails the request and is retried next time', async () => {
    const main = new FakeTtsEngine('flite', [{ id: 'slt', language: 'en-US' }], ['en']);
    let attempts = 0;
    const router = new TtsRouter({
      main,
      fallback: async () => {
        attempts++;
        throw new Error('no espeak');
      },
    });
    await assert.rejects(router.plan({ text: GERMAN, voice: 'alloy' }), /no espeak/);
    await assert.rejects(router.plan({ text: GERMAN, voice: 'alloy' }), /no espeak/);
    assert.equal(attempts, 2);
  });

  test('dispose ends a fallback that is the main engine once', async () => {
    const main = new FakeTtsEngine('flite', [{ id: 'slt', language: 'en-US' }], ['en']);
    let disposals = 0;
    const dispose = main.dispose.bind(main);
    main.dispose = async () => {
      disposals++;
      await dispose();
    };
    const router = new TtsRouter({ main, fallback: async () => main });
    assert.equal((await router.plan({ text: GERMAN, voice: 'alloy' })).engine, main);
    await router.dispose();
    assert.equal(disposals, 1);
  });

  test('dispose ends the main engine and the loaded fallback', async () => {
    const { main, espeak, router } = fakes();
    await router.plan({ text: GERMAN, voice: 'alloy' });
    await router.dispose();
    assert.ok(main.disposed && espeak.disposed);
  });
});

describe('TtsRouter with real engines', () => {
  const opts = { modelsDir: os.tmpdir(), concurrency: 2 };
  let router: TtsRouter | undefined;
  after(async () => {
    await router?.dispose();
  });

  test('picks espeak-ng for German text with flite as main, and flite for English', async () => {
    router = new TtsRouter({ main: await createTtsEngine('flite', opts), engineOptions: opts });
    const de = await router.synthesize({ text: GERMAN, voice: 'shimmer', speed: 1 });
    assert.equal(de.engine, 'espeak-ng');
    assert.equal(de.voice, 'de+f5');
    assert.equal(de.language, 'de');
    assert.equal(de.detected, true);
    assert.equal(de.audio.sampleRate, 22_050);
    assert.ok(de.audio.samples.length / de.audio.sampleRate > 2);
    const en = await router.synthesize({ text: ENGLISH, voice: 'shimmer', speed: 1 });
    assert.equal(en.engine, 'flite');
    assert.equal(en.voice, 'slt');
    assert.equal(en.audio.sampleRate, 16_000);
  });

  test('with espeak-ng as main, German text stays on it and switches its language voice', async () => {
    const main = await createTtsEngine('espeak-ng', opts);
    const r = new TtsRouter({ main });
    try {
      const plan = await r.plan({ text: GERMAN, voice: 'echo' });
      assert.equal(plan.engine, main);
      assert.equal(plan.voiceId, 'de+m3');
      assert.equal(plan.reason, 'main');
    } finally {
      await r.dispose();
    }
  });
});
