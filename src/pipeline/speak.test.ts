import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concatBytes } from '../audio/pcm.js';
import type { PcmAudio } from '../audio/types.js';
import { planPassages } from './sentence-stream.js';
import { type Speaker, SpeechStream, speak } from './speak.js';

/** A speaker that records every call and answers 10 ms of 24 kHz audio per character. */
function fakeSpeaker(options: { language?: (text: string) => string | undefined; delayMs?: number } = {}) {
  const calls: Array<{ text: string; language: string | null; speed: number }> = [];
  const detections: string[] = [];
  const speaker: Speaker = {
    voiceNames: () => ['alloy'],
    synthesize: async (request): Promise<PcmAudio> => {
      calls.push({ text: request.text, language: request.language, speed: request.speed });
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      request.signal?.throwIfAborted();
      return { sampleRate: 24_000, samples: new Float32Array(240 * request.text.length).fill(0.1) };
    },
    detectLanguage: async (text) => {
      detections.push(text);
      return options.language?.(text);
    },
  };
  return { speaker, calls, detections };
}

async function readAll(speech: SpeechStream): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for await (const chunk of speech.chunks()) out.push(chunk);
  return concatBytes(out);
}

describe('the speaking path', () => {
  test('speaks a whole text in the planned passages, in order, as pcm of the right length', async () => {
    const { speaker, calls } = fakeSpeaker();
    const text = Array.from({ length: 6 }, (_, i) => `Sentence number ${i + 1}, which is here to be spoken aloud.`).join(' ');
    const speech = speak(speaker, { text, voice: 'alloy', speed: 1.5, format: 'pcm', streaming: true });
    const bytes = await readAll(speech);
    assert.deepEqual(
      calls.map((c) => c.text),
      planPassages(text),
    );
    assert.ok(
      calls.every((c) => c.speed === 1.5),
      'speed reaches every synthesis',
    );
    const chars = calls.reduce((n, c) => n + c.text.length, 0);
    assert.equal(bytes.length, chars * 240 * 2);
    assert.equal(speech.stats.passages, calls.length);
  });

  test('takes text token by token and joins what queues up while the engine is busy', async () => {
    const { speaker, calls } = fakeSpeaker({ delayMs: 20 });
    const speech = new SpeechStream(speaker, { voice: 'alloy', speed: 1, format: 'pcm', streaming: true });
    const reading = readAll(speech);
    const text = 'Well, the first sentence is here. Two. Three. Four. Five. Six.';
    for (const token of text.match(/.{1,3}/gs)!) speech.push(token);
    speech.end();
    await reading;
    assert.equal(calls[0]!.text, 'Well, the first sentence is here.'.slice(0, 'Well, the first sentence is here.'.length));
    assert.ok(calls.length < 7, `${calls.length} syntheses for 6 sentences: later ones were joined`);
    assert.equal(calls.map((c) => c.text).join(' '), text);
  });

  test('decides the language once per text, from all the text known when speaking starts', async () => {
    const { speaker, calls, detections } = fakeSpeaker({ language: (t) => (t.length > 40 ? 'de' : undefined) });
    const text = 'Guten Tag, wie geht es Ihnen heute? Mir geht es gut. Danke der Nachfrage.';
    await readAll(speak(speaker, { text, voice: 'alloy', speed: 1, format: 'pcm', streaming: true }));
    assert.deepEqual(detections, [text], 'one detection over the whole text');
    assert.ok(calls.every((c) => c.language === 'de'));
  });

  test('speaks early passages in the voice language until enough streamed text tells the language', async () => {
    const { speaker, calls } = fakeSpeaker({ language: (t) => (t.length > 60 ? 'fr' : undefined), delayMs: 5 });
    const speech = new SpeechStream(speaker, { voice: 'alloy', speed: 1, format: 'pcm', streaming: true });
    const reading = readAll(speech);
    speech.push('Bonjour à tous et à toutes, nous');
    await new Promise((r) => setTimeout(r, 30));
    speech.push(' sommes très heureux de vous voir ici aujourd’hui. Merci beaucoup pour tout. À bientôt.');
    speech.end();
    await reading;
    assert.equal(calls[0]!.language, null, 'too little text to tell: the voice’s own language');
    assert.equal(calls.at(-1)!.language, 'fr');
  });

  test('stops synthesis and ends the encoder when aborted, even if nobody ever read the audio', async () => {
    const { speaker, calls } = fakeSpeaker({ delayMs: 50 });
    const controller = new AbortController();
    const speech = speak(speaker, {
      text: 'One sentence here. Another one there. And more.',
      voice: 'alloy',
      speed: 1,
      format: 'wav',
      streaming: true,
      signal: controller.signal,
    });
    controller.abort(new Error('client left'));
    assert.ok(speech.signal.aborted);
    await assert.rejects(readAll(speech), /client left/);
    const started = calls.length;
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(calls.length, started, 'nothing new starts after the abort');
  });

  test('hands each passage to the transform before encoding', async () => {
    const { speaker } = fakeSpeaker();
    let seen = 0;
    const speech = speak(speaker, {
      text: 'Hello there. Bye now.',
      voice: 'alloy',
      speed: 1,
      format: 'pcm',
      streaming: false,
      transform: (samples) => {
        seen += samples.length;
        return new Float32Array(samples.length);
      },
    });
    const bytes = await readAll(speech);
    assert.equal(seen * 2, bytes.length);
    assert.ok(
      bytes.every((b) => b === 0),
      'the transformed samples were encoded',
    );
  });
});
