/**
 * The playground in a real browser: Debian's Chromium (playwright-core, headless) against the real
 * server in-process, with a fake microphone playing a recording from the fixtures. Skipped, with
 * one line naming the package, where Chromium is not installed.
 *
 * PARLEY_DOCS_SCREENSHOT=1 also writes docs/playground-talk.png (the README's picture) from the
 * spoken-turn test.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { wer } from '../src/engines/asr/wer.js';
import { writeTinyGguf } from './fixtures/models/make-tiny-gguf.js';
import { browserSkipReason, ensureWebBuild, launchChromium, withPage } from './helpers/browser.js';
import { startTestServer, type TestServer, tempDir } from './helpers/server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SPEECH = path.join(ROOT, 'test', 'fixtures', 'speech');
/** 3.0 s of 16 kHz speech: "he was not an ill disposed young man". */
const SPOKEN_WAV = path.join(SPEECH, 'librivox-0880.wav');
const SPOKEN_TEXT = fs
  .readFileSync(path.join(SPEECH, 'transcripts.tsv'), 'utf8')
  .split('\n')
  .find((l) => l.startsWith('librivox-0880.wav\t'))!
  .split('\t')[1]!;
/** pocketsphinx's word error rate on these recordings is about 0.3; the browser's capture path adds a resampling. */
const MAX_WER = 0.5;
/** A short reply keeps the tiny random model's nonsense (and its speech) brief. */
const REPLY_TOKENS = '12';
const LONG = 180_000;

const skip = browserSkipReason();

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

/** Axe's serious and critical violations on the current page, one line each. */
async function axeViolations(page: Page): Promise<string[]> {
  const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(', ')}`);
}

/** Waits until the record button is on and has recorded at least `ms` of audio. */
async function recorded(page: Page, ms: number): Promise<void> {
  await page.waitForFunction(
    (min) => {
      const button = document.querySelector('[data-testid=talk-record]');
      return button?.getAttribute('aria-pressed') === 'true' && Number(button.getAttribute('data-recorded-ms')) >= min;
    },
    ms,
    { timeout: 60_000 },
  );
}

/** Waits for the page's first API call to settle (the key probe) and for its content. */
async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('h1').waitFor();
  await page.getByText('Connecting…').waitFor({ state: 'detached' });
}

describe('the playground in Chromium', { skip }, () => {
  let server: TestServer;
  let keyed: TestServer;
  let browser: Browser;
  let dir: string;

  before(async () => {
    ensureWebBuild();
    dir = tempDir('parley-web-');
    const model = path.join(dir, 'tiny.gguf');
    // Printable output that rarely ends at once: every reply has words to speak.
    writeTinyGguf(model, { asciiOnly: true, rareEnd: true });
    server = await startTestServer({ PARLEY_LLM_MODEL: model, PARLEY_ASR_ENGINE: 'pocketsphinx' });
    keyed = await startTestServer({ PARLEY_API_KEYS: 'sk-playground-test' });
    browser = await launchChromium({ fakeMicrophone: SPOKEN_WAV });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await keyed?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('spoken turns, from a file and from the microphone: the words come back as the transcript, with the voice analysis, and the streamed reply is played', {
    timeout: LONG,
  }, async (t) => {
    await withPage(browser, 'talk-spoken', async (page) => {
      await open(page, `${server.url}/talk`);
      await page.getByLabel('Longest reply (tokens)').fill(REPLY_TOKENS);
      // A file first (decoded and resampled in the page); this also loads every engine, so the
      // microphone turn after it shows a warm server's time to first audio.
      await page.getByLabel('Send an audio file').setInputFiles(SPOKEN_WAV);
      await page.getByTestId('turn').waitFor({ timeout: 150_000 });
      const fromFile = await text(page, '[data-testid=turn] [data-testid=turn-transcript]');
      t.diagnostic(`from the file: '${fromFile}': WER ${wer(SPOKEN_TEXT, fromFile).toFixed(2)}`);
      assert.ok(wer(SPOKEN_TEXT, fromFile) <= MAX_WER, fromFile);
      await page.locator('[data-testid=turn-reply-audio][data-state=played]').waitFor({ timeout: 90_000 });
      await page.getByRole('button', { name: 'New conversation' }).click();
      assert.equal(await page.getByTestId('turn').count(), 0);

      const record = page.getByTestId('talk-record');
      await record.click();
      // The fake microphone plays the file once from when the page opens it: record it all.
      await recorded(page, 3400);
      await record.click();

      const turn = page.getByTestId('turn');
      await turn.waitFor({ timeout: 150_000 });
      assert.equal(await turn.count(), 1);
      const heard = await text(page, '[data-testid=turn] [data-testid=turn-transcript]');
      const errorRate = wer(SPOKEN_TEXT, heard);
      t.diagnostic(`heard '${heard}' for '${SPOKEN_TEXT}': WER ${errorRate.toFixed(2)}`);
      assert.ok(errorRate <= MAX_WER, `heard '${heard}' for '${SPOKEN_TEXT}': WER ${errorRate.toFixed(2)} > ${MAX_WER}`);
      assert.match(await text(page, '[data-testid=turn] [data-testid=turn-analysis]'), /Sentiment\s*(positive|neutral|negative)/);
      assert.match(await text(page, '[data-testid=turn] [data-testid=turn-reply-text]'), /\S/);
      const ttfa = Number(await page.getByTestId('turn-ttfa-ms').getAttribute('data-ms'));
      assert.ok(ttfa > 0, `time to first audio: ${ttfa}`);
      assert.match(await text(page, '[data-testid=turn] [data-testid=turn-cost]'), /OpenAI price \$\d/);
      assert.match(await text(page, '[data-testid=turn] [data-testid=turn-tokens]'), /\d+ in \(\d+ audio\)/);
      // Played through Web Audio as the pcm16 deltas arrived; "played" once the last slice ended.
      await page.locator('[data-testid=turn] [data-testid=turn-reply-audio][data-state=played]').waitFor({ timeout: 90_000 });

      if (process.env.PARLEY_DOCS_SCREENSHOT === '1') {
        fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
        await page.getByTestId('talk-text').fill('How did I sound?');
        await page.screenshot({ path: path.join(ROOT, 'docs', 'playground-talk.png'), fullPage: true, scale: 'css' });
      }
    });
  });

  test('hands-free mode cuts the microphone into a turn by itself (voice activity detection in the page)', { timeout: LONG }, async (t) => {
    await withPage(browser, 'talk-hands-free', async (page) => {
      await open(page, `${server.url}/talk`);
      await page.getByLabel('Longest reply (tokens)').fill(REPLY_TOKENS);
      await page.getByLabel('Hands-free (voice activity detection)').check();
      const turn = page.getByTestId('turn');
      await turn.waitFor({ timeout: 150_000 });
      const heard = await text(page, '[data-testid=turn] [data-testid=turn-transcript]');
      const errorRate = wer(SPOKEN_TEXT, heard);
      t.diagnostic(`heard '${heard}': WER ${errorRate.toFixed(2)}`);
      assert.ok(errorRate <= MAX_WER, `heard '${heard}' for '${SPOKEN_TEXT}': WER ${errorRate.toFixed(2)} > ${MAX_WER}`);
      await page.locator('[data-testid=turn] [data-testid=turn-reply-audio][data-state=played]').waitFor({ timeout: 90_000 });
      await page.getByLabel('Hands-free (voice activity detection)').uncheck();
      // The microphone heard only silence after the file: still one turn.
      assert.equal(await turn.count(), 1);
    });
  });

  test('a transcription highlights each word while the audio plays, and downloads as SRT', { timeout: LONG }, async (t) => {
    await withPage(browser, 'transcribe', async (page) => {
      await open(page, `${server.url}/transcribe`);
      await page.getByLabel('Audio file').setInputFiles(SPOKEN_WAV);
      await page.getByTestId('transcribe-go').click();
      const words = page.locator('[data-testid=transcript-text] .word');
      await words.first().waitFor({ timeout: 90_000 });
      const heard = (await words.allTextContents()).join(' ');
      t.diagnostic(`transcribed '${heard}': WER ${wer(SPOKEN_TEXT, heard).toFixed(2)}`);
      assert.ok(wer(SPOKEN_TEXT, heard) <= MAX_WER, heard);
      await page.locator('.transcribe audio').evaluate((el: HTMLAudioElement) => el.play());
      await page.locator('.word[aria-current=true]').waitFor({ timeout: 15_000 });
      const [srt] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download SRT' }).click()]);
      assert.equal(srt.suggestedFilename(), 'librivox-0880.srt');
      assert.match(fs.readFileSync((await srt.path())!, 'utf8'), /^1\r?\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\r?\n\S/);
    });
  });

  test('a typed turn gets a reply, and the next turn refers to it by its audio id', { timeout: LONG }, async () => {
    await withPage(browser, 'talk-typed', async (page) => {
      const sent: any[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/chat/completions') sent.push(r.postDataJSON());
      });
      await open(page, `${server.url}/talk`);
      await page.getByLabel('Longest reply (tokens)').fill(REPLY_TOKENS);
      await page.getByTestId('talk-text').fill('Hello there, what can you do?');
      await page.getByTestId('talk-send').click();
      await page.getByTestId('turn').first().waitFor({ timeout: 120_000 });
      assert.equal(await text(page, '[data-testid=turn] [data-testid=turn-transcript]'), 'Hello there, what can you do?');
      assert.match(await text(page, '[data-testid=turn] [data-testid=turn-reply-text]'), /\S/);
      const firstId = await page.getByTestId('turn').first().getAttribute('data-audio-id');
      assert.ok(firstId?.startsWith('audio_'), `audio id shown: ${firstId}`);
      await page.locator('[data-testid=turn-reply-audio][data-state=played]').waitFor({ timeout: 90_000 });

      await page.getByTestId('talk-text').fill('Say that again, please.');
      await page.getByTestId('talk-send').click();
      await page.getByTestId('turn').nth(1).waitFor({ timeout: 120_000 });
      assert.equal(sent.length, 2);
      assert.equal(sent[0].stream, true);
      assert.deepEqual(sent[0].audio, { voice: 'alloy', format: 'pcm16' });
      assert.deepEqual(
        sent[1].messages.map((m: any) => m.role),
        ['user', 'assistant', 'user'],
      );
      assert.deepEqual(sent[1].messages[1], { role: 'assistant', audio: { id: firstId } });
      assert.match(await text(page, '[data-testid=turn] >> nth=1 >> [data-testid=turn-reply-text]'), /\S/);
    });
  });

  test('speech synthesis plays as it streams and downloads as a WAV file', { timeout: LONG }, async () => {
    await withPage(browser, 'speak', async (page) => {
      await open(page, `${server.url}/speak`);
      await page.getByTestId('speak-input').fill('The playground speaks every voice.');
      await page.getByTestId('speak-voice').selectOption('echo');
      await page.getByTestId('speak-format').selectOption('wav');
      await page.getByTestId('speak-go').click();
      const audio = page.getByTestId('speak-audio');
      await audio.waitFor({ timeout: 60_000 });
      const duration = await audio.evaluate(
        (el: HTMLAudioElement) =>
          new Promise<number>((resolve) => (el.readyState >= 1 ? resolve(el.duration) : el.addEventListener('loadedmetadata', () => resolve(el.duration)))),
      );
      assert.ok(duration > 0.5, `audio of ${duration} s`);
      assert.match(await text(page, '.speak'), /first audio after \d+ ms/);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('speak-download').click()]);
      assert.equal(download.suggestedFilename(), 'speech.wav');
      const bytes = fs.readFileSync((await download.path())!);
      assert.equal(bytes.subarray(0, 4).toString('latin1'), 'RIFF');
      assert.equal(bytes.subarray(8, 12).toString('latin1'), 'WAVE');
      assert.ok(bytes.length > 44 + 24_000, `${bytes.length} bytes`);
    });
  });

  test('a batch goes from a JSONL upload to its output and error files', { timeout: LONG }, async () => {
    await withPage(browser, 'batches', async (page) => {
      const speech = (id: string, voice: string) =>
        JSON.stringify({
          custom_id: id,
          method: 'POST',
          url: '/v1/audio/speech',
          body: { model: 'tts-1', voice, input: `Line ${id}.`, response_format: 'wav' },
        });
      const jsonl = `${[speech('a', 'alloy'), speech('b', 'nova'), speech('c', 'no-such-voice')].join('\n')}\n`;
      await open(page, `${server.url}/batches`);
      await page.getByTestId('batch-jsonl').setInputFiles({ name: 'requests.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });
      await page.getByTestId('batch-draft').getByText('3 requests to /v1/audio/speech').waitFor();
      await page.getByTestId('batch-create').click();
      const row = page.locator('[data-testid=batch][data-status=completed]');
      await row.waitFor({ timeout: 120_000 });
      assert.equal(await row.getByTestId('batch-progress').getAttribute('value'), '3');
      assert.match(await text(page, '[data-testid=batch][data-status=completed]'), /3 of 3 lines \(1 failed\)/);

      const [output] = await Promise.all([page.waitForEvent('download'), row.getByTestId('batch-output').click()]);
      const lines = fs
        .readFileSync((await output.path())!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        lines.map((l) => [l.custom_id, l.response.status_code]),
        [
          ['a', 200],
          ['b', 200],
        ],
      );
      assert.ok(Buffer.from(lines[0].response.body.audio, 'base64').length > 1000);
      const [errors] = await Promise.all([page.waitForEvent('download'), row.getByTestId('batch-errors').click()]);
      const failed = fs
        .readFileSync((await errors.path())!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        failed.map((l) => [l.custom_id, l.response.status_code]),
        [['c', 400]],
      );
    });
  });

  test('with keys configured the page asks for one, keeps it for the tab only, and uses it', { timeout: LONG }, async () => {
    await withPage(browser, 'key-prompt', async (page, context) => {
      await page.goto(`${keyed.url}/speak`);
      const key = page.getByTestId('api-key');
      await key.waitFor();
      assert.equal(await page.getByTestId('speak-input').count(), 0);
      await key.fill('sk-wrong');
      await key.press('Enter');
      await page.getByText('The key given was refused').waitFor();
      await page.getByTestId('api-key').fill('sk-playground-test');
      await page.getByTestId('api-key').press('Enter');
      await page.getByTestId('speak-input').waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('parley.apiKey')), 'sk-playground-test');
      assert.equal(await page.evaluate(() => localStorage.length), 0);
      await page.getByTestId('speak-go').click();
      await page.getByTestId('speak-audio').waitFor({ timeout: 60_000 });

      await page.reload();
      await page.getByTestId('speak-input').waitFor();
      // Another tab has its own session storage: it asks again.
      const other = await context.newPage();
      await other.goto(`${keyed.url}/usage`);
      await other.getByTestId('api-key').waitFor();
      await other.close();
    });
  });

  test('the Usage page charts this server’s traffic and the Models page lists what serves each capability', { timeout: LONG }, async () => {
    await withPage(browser, 'usage-models', async (page) => {
      await open(page, `${server.url}/usage`);
      await page.getByTestId('usage-chart').first().waitFor({ timeout: 60_000 });
      assert.equal(await page.getByTestId('usage-chart').count(), 4);
      // The earlier chat turns were metered: the requests chart's total is not zero.
      assert.match(await text(page, '[data-testid=usage-chart]'), /requests: [1-9]/);
      // Without keys everybody is the operator: the per-key view (OpenAI's admin usage and costs) shows
      // the traffic, with OpenAI's list price beside Parley's own cost, and the charts can show every key.
      const perKey = page.getByTestId('usage-per-key');
      await perKey.waitFor({ timeout: 30_000 });
      const row = perKey.locator('tbody tr').first();
      assert.ok(Number(await row.locator('td').first().textContent()) >= 1, 'the per-key row counts the requests made');
      assert.match((await row.locator('td').nth(4).textContent()) ?? '', /^\$/, "OpenAI's list price is shown");
      assert.match((await row.locator('td').nth(5).textContent()) ?? '', /^\$/, "Parley's own cost is shown");
      await page.getByTestId('usage-key').selectOption('all');
      await page.waitForFunction(() => /requests: [1-9]/.test(document.querySelector('[data-testid=usage-chart]')?.textContent ?? ''));
      await open(page, `${server.url}/models`);
      const chat = page.locator('[data-testid=capabilities] tr[data-capability=chat]');
      await chat.waitFor({ timeout: 30_000 });
      assert.equal(await chat.getAttribute('data-state'), 'ready');
      assert.equal(await page.locator('[data-testid=capabilities] tr[data-capability=transcription]').getAttribute('data-state'), 'ready');
      assert.ok((await page.getByTestId('model').count()) >= 8);
    });
  });

  test('every page passes an axe-core scan with no serious or critical violation, is keyboard operable, asks nothing of other origins, and reflows to 320 px (400 % zoom) without sideways scrolling', {
    timeout: LONG,
  }, async () => {
    for (const pagePath of ['/talk', '/speak', '/transcribe', '/batches', '/usage', '/models']) {
      await withPage(browser, `axe${pagePath}`, async (page) => {
        // Offline by construction: nothing but this origin (and blob:/data: URLs the page makes).
        const elsewhere: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith(server.url) && !/^(blob|data):/.test(r.url())) elsewhere.push(r.url());
        });
        await open(page, `${server.url}${pagePath}`);
        // Keyboard: the first Tab reaches the skip link, the next ones the navigation.
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), '/talk');
        if (pagePath === '/talk') {
          // A turn on the page for the scan, recorded by keyboard: Enter starts, Enter stops.
          await page.getByLabel('Longest reply (tokens)').fill(REPLY_TOKENS);
          const record = page.getByTestId('talk-record');
          await record.focus();
          await page.keyboard.press('Enter');
          await recorded(page, 1500);
          await page.keyboard.press('Enter');
          assert.equal(await record.getAttribute('aria-pressed'), 'false');
          await page.getByTestId('turn').waitFor({ timeout: 150_000 });
          await page.locator('[data-testid=turn-reply-audio][data-state=played]').waitFor({ timeout: 90_000 });
          // Press and hold: recording runs while the button is down and stops on release.
          await record.hover();
          await page.mouse.down();
          await recorded(page, 1000);
          await page.mouse.up();
          await page.waitForFunction(() => document.querySelector('[data-testid=talk-record]')?.getAttribute('aria-pressed') === 'false');
          await page.locator('[data-testid=turn-pending], [data-testid=turn] >> nth=1').first().waitFor({ timeout: 30_000 });
        }
        if (pagePath === '/usage') await page.getByTestId('usage-chart').first().waitFor({ timeout: 60_000 });
        if (pagePath === '/models') await page.getByTestId('capabilities').waitFor({ timeout: 30_000 });
        assert.deepEqual(await axeViolations(page), [], `axe on ${pagePath}`);
        assert.deepEqual(elsewhere, [], `${pagePath} requested other origins`);
        await page.setViewportSize({ width: 320, height: 640 });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 1, `${pagePath} scrolls sideways by ${overflow} px at 320 px wide`);
      });
    }
  });
});
