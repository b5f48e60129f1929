import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectLanguage } from './language.js';

const en = { expected: ['en'] };

describe('detectLanguage', () => {
  test('finds German, French and Spanish in a sentence or two', async () => {
    assert.equal((await detectLanguage('Guten Tag! Der Zug nach München fährt heute um acht Uhr ab.', en))?.language, 'de');
    assert.equal((await detectLanguage("Bonjour ! Le train pour Paris part aujourd'hui à huit heures.", en))?.language, 'fr');
    assert.equal((await detectLanguage('Hola, ¿cómo estás? Espero que todo vaya bien en tu nuevo trabajo.', en))?.language, 'es');
  });

  test('leaves English text alone, short sentences franc gets wrong included', async () => {
    for (const s of [
      'That sounds great!',
      'Happy birthday!',
      'Great question.',
      'My name is Parley, your assistant.',
      'Please call me back tomorrow morning.',
      'I would like to book a table for two people tonight, at around eight.',
      'Your appointment is confirmed for Tuesday at three in the afternoon.',
    ]) {
      assert.equal(await detectLanguage(s, en), undefined, s);
    }
  });

  test('does not trust a Latin-script guess on short text', async () => {
    assert.equal(await detectLanguage('Danke schön!', en), undefined);
    assert.equal(await detectLanguage('Merci beaucoup.', en), undefined);
  });

  test('a non-Latin script decides even on a word', async () => {
    assert.deepEqual(await detectLanguage('Привет', en), { language: 'ru', by: 'script' });
    assert.deepEqual(await detectLanguage('你好', en), { language: 'zh', by: 'script' });
    assert.deepEqual(await detectLanguage('こんにちは', en), { language: 'ja', by: 'script' });
    assert.deepEqual(await detectLanguage('안녕하세요', en), { language: 'ko', by: 'script' });
  });

  test('says nothing for text without letters or in the expected language', async () => {
    assert.equal(await detectLanguage('12345 !!!', en), undefined);
    assert.equal(await detectLanguage('Guten Tag! Der Zug nach München fährt heute um acht Uhr ab.', { expected: ['de'] }), undefined);
  });
});
