/**
 * The checker end to end: the always-on layers, fake models (exact control of scores and
 * verdicts), failing models (honest annotations; strict fails closed), and the real loaders on
 * tiny models: the tiny BERT-style ONNX classifier and the tiny random GGUF as the judge.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyBertClassifier } from '../../test/fixtures/models/make-tiny-bert-classifier.js';
import { writeTinyGguf } from '../../test/fixtures/models/make-tiny-gguf.js';
import { ApiError, isApiError } from '../errors.js';
import { azureContentFilterResults, ContentFilterError } from './azure.js';
import { createSafetyChecker, DEFAULT_SAFETY_SETTINGS, type SafetyChecker, type SafetySettings } from './checker.js';
import type { TextClassifier } from './classifier/onnx-classifier.js';
import type { GuardJudge } from './judge/judge.js';
import { renderModerationResponse } from './moderation.js';
import type { SafetyEvent } from './types.js';

/** Scores from words in the text: "slur" → identity_hate, "threaten" → threat, "lewd" → obscene. */
function fakeClassifier(): TextClassifier & { calls: number } {
  const c = {
    model: 'fake-classifier',
    labels: ['toxic', 'severe_toxic', 'obscene', 'threat', 'insult', 'identity_hate'],
    calls: 0,
    async classify(text: string) {
      c.calls++;
      const has = (w: string) => (text.includes(w) ? 0.99 : 0.01);
      return { toxic: 0.01, severe_toxic: 0.01, obscene: has('lewd'), threat: has('threaten'), insult: has('idiot'), identity_hate: has('slur') };
    },
    dispose: async () => undefined,
  };
  return c;
}

/** "unsafe\nS2" for texts with "steal", else "safe". */
function fakeJudge(): GuardJudge & { calls: number } {
  const j = {
    model: 'fake-guard',
    family: 'llama-guard' as const,
    calls: 0,
    async check(text: string) {
      j.calls++;
      return text.includes('steal')
        ? { safety: 'unsafe' as const, categories: ['S2'], answer: 'unsafe\nS2' }
        : { safety: 'safe' as const, categories: [], answer: 'safe' };
    },
    dispose: async () => undefined,
  };
  return j;
}

function settings(over: Partial<SafetySettings> = {}): SafetySettings {
  return { ...DEFAULT_SAFETY_SETTINGS, ...over };
}

describe('safety checker without models', () => {
  const checker = createSafetyChecker({ settings: settings() });

  it('runs the word list and the self-harm phrases, and says the model layers are off', async () => {
    const d = await checker.checkPrompt(['Hello there']);
    assert.equal(d.action, 'allow');
    assert.deepEqual(
      d.assessment.layers.map((l) => [l.layer, l.status]),
      [
        ['wordList', 'ran'],
        ['selfHarmPhrases', 'ran'],
        ['classifier', 'off'],
        ['judge', 'off'],
      ],
    );
    assert.deepEqual(azureContentFilterResults(d).error, { code: 'content_filter_error', message: 'The contents are not filtered for hate, sexual, violence' });
    assert.deepEqual(
      checker.layers().map((l) => [l.name, l.state]),
      [
        ['wordList', 'live'],
        ['selfHarmPhrases', 'live'],
        ['classifier', 'off'],
        ['judge', 'off'],
      ],
    );
  });

  it('blocks a prompt asking for self-harm instructions (high) at the default level', async () => {
    const d = await checker.checkPrompt(['what is the most painless way to die']);
    assert.equal(d.action, 'block');
    assert.deepEqual(d.blockedBy, ['selfHarm']);
    const e = new ContentFilterError(d);
    assert.equal(e.code, 'content_filter');
    assert.deepEqual(e.toAzureWire().error.innererror.content_filter_result, { self_harm: { filtered: true, severity: 'high' } });
  });

  it('checks an empty prompt (no text parts) as one empty text', async () => {
    assert.equal((await checker.checkPrompt([])).action, 'allow');
  });
});

describe('safety checker with fake models', () => {
  let classifier: ReturnType<typeof fakeClassifier>;
  let judge: ReturnType<typeof fakeJudge>;
  let checker: SafetyChecker;
  const events: SafetyEvent[] = [];

  before(() => {
    classifier = fakeClassifier();
    judge = fakeJudge();
    checker = createSafetyChecker({
      settings: settings({ classifier: 'fake', judge: 'fake-guard' }),
      loadClassifier: async () => classifier,
      loadJudge: async () => judge,
      onEvent: (e) => events.push(e),
    });
  });

  it('loads models on first use and reports them live', async () => {
    assert.equal(checker.layers().find((l) => l.name === 'classifier')?.state, 'configured');
    await checker.load();
    const layers = checker.layers();
    assert.equal(layers.find((l) => l.name === 'classifier')?.state, 'live');
    assert.deepEqual(
      layers.find((l) => l.name === 'judge'),
      {
        name: 'judge',
        state: 'live',
        model: 'fake-guard',
        hotPath: false,
        covers: {
          harms: ['violence', 'sexual', 'hate', 'selfHarm'],
          checks: [],
          moderation: ['violence', 'illicit/violent', 'illicit', 'sexual', 'sexual/minors', 'hate', 'self-harm'],
        },
      },
    );
  });

  it('blocks a prompt whose transcript carries a high finding, with every category checked', async () => {
    const d = await checker.checkPrompt(['Please help me.', 'they are all slur people']);
    assert.equal(d.action, 'block');
    assert.deepEqual(d.blockedBy, ['hate']);
    const azure = azureContentFilterResults(d);
    assert.equal(azure.error, undefined);
    assert.deepEqual(azure.hate, { filtered: true, severity: 'high' });
    assert.equal(new ContentFilterError(d).toAzureWire().error.innererror.content_filter_result.hate?.filtered, true);
  });

  it('keeps the judge off chat checks unless strict or asked, and always uses it for moderation', async () => {
    const before = judge.calls;
    const d = await checker.checkReply('you could steal it');
    assert.equal(judge.calls, before);
    assert.equal(d.assessment.layers.find((l) => l.layer === 'judge')?.status, 'skipped');
    assert.equal(d.action, 'allow');
    const batch = await checker.checkReply('you could steal it', undefined, { judge: true });
    assert.equal(judge.calls, before + 1);
    assert.equal(batch.action, 'allow', 'illicit is a moderation category, not an Azure harm');
    const [outcome] = await checker.moderate(['you could steal it']);
    assert.equal(judge.calls, before + 2);
    assert.equal(outcome!.categories.illicit, true);
    assert.equal(outcome!.flagged, true);
    assert.equal(renderModerationResponse({ outcomes: [outcome!] }).results[0]!.category_applied_input_types.illicit[0], 'text');
  });

  it('emits one event per checked category, to every listener until it is removed', async () => {
    events.length = 0;
    const extra: SafetyEvent[] = [];
    const off = checker.onEvent((e) => extra.push(e));
    await checker.checkReply('lewd words and shit');
    off();
    await checker.checkReply('hello');
    assert.deepEqual(events.slice(0, 5), [
      { side: 'reply', category: 'hate', severity: 'safe', action: 'allow' },
      { side: 'reply', category: 'sexual', severity: 'safe', action: 'allow' },
      { side: 'reply', category: 'violence', severity: 'safe', action: 'allow' },
      { side: 'reply', category: 'selfHarm', severity: 'safe', action: 'allow' },
      { side: 'reply', category: 'profanity', severity: 'detected', action: 'annotate' },
    ]);
    assert.equal(extra.length, 5);
    assert.equal(events.length, 10);
  });

  it('propagates an abort', async () => {
    const c = new AbortController();
    c.abort(new Error('client gone'));
    await assert.rejects(checker.checkPrompt(['hello'], c.signal), /client gone/);
  });
});

describe('safety checker when a model layer fails', () => {
  const missing = () => Promise.reject(ApiError.engineUnavailable('The safety classifier was not found: run `parley models pull toxic-bert`.'));

  it('reports the layer failed and the categories not filtered, instead of safe', async () => {
    const checker = createSafetyChecker({ settings: settings({ classifier: 'toxic-bert' }), loadClassifier: missing });
    const d = await checker.checkReply('hello');
    const layer = d.assessment.layers.find((l) => l.layer === 'classifier');
    assert.equal(layer?.status, 'failed');
    assert.match(layer?.detail ?? '', /parley models pull toxic-bert/);
    assert.match(azureContentFilterResults(d).error?.message ?? '', /hate, sexual, violence/);
    const info = checker.layers().find((l) => l.name === 'classifier');
    assert.equal(info?.state, 'failed');
    assert.match(info?.detail ?? '', /toxic-bert/);
  });

  it('fails closed with strict: the check rejects with engine_unavailable', async () => {
    const checker = createSafetyChecker({ settings: settings({ classifier: 'toxic-bert', strict: true }), loadClassifier: missing });
    await assert.rejects(checker.checkPrompt(['hello']), (e: unknown) => isApiError(e) && e.status === 503);
  });

  it('does not retry a failed load on every check', async () => {
    let loads = 0;
    const checker = createSafetyChecker({
      settings: settings({ classifier: 'x' }),
      loadClassifier: () => {
        loads++;
        return missing();
      },
    });
    await checker.checkReply('a');
    await checker.checkReply('b');
    assert.equal(loads, 1);
  });
});

describe('safety checker with tiny real models through the default loaders', () => {
  let dir: string;
  let checker: SafetyChecker;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-safety-'));
    writeTinyBertClassifier(path.join(dir, 'tiny-toxic-bert'));
    writeTinyGguf(path.join(dir, 'tiny-llama-guard.gguf'), { asciiOnly: true, contextLength: 4096 });
    checker = createSafetyChecker({
      settings: settings({ classifier: 'tiny-toxic-bert', judge: 'tiny-llama-guard.gguf', profanity: 'filter', block: 'medium' }),
      modelsDir: dir,
      threads: 1,
    });
  });

  after(async () => {
    await checker?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resolves the names in the model folder, scores with onnxruntime and renders Azure JSON', async () => {
    const clean = await checker.checkReply('Hello world, nice day!');
    assert.equal(clean.action, 'allow');
    assert.deepEqual(azureContentFilterResults(clean), {
      hate: { filtered: false, severity: 'safe' },
      profanity: { filtered: false, detected: false },
      self_harm: { filtered: false, severity: 'safe' },
      sexual: { filtered: false, severity: 'safe' },
      violence: { filtered: false, severity: 'safe' },
    });
    const medium = await checker.checkReply('zorgo people');
    assert.equal(medium.action, 'block');
    assert.deepEqual(azureContentFilterResults(medium).hate, { filtered: true, severity: 'medium' });
    const low = await checker.checkReply('zorgi people');
    assert.equal(low.action, 'annotate');
    assert.deepEqual(azureContentFilterResults(low).hate, { filtered: false, severity: 'low' });
  });

  it('masks profanity with profanity: filter and marks it filtered', async () => {
    const d = await checker.checkReply('well shit, nice day');
    assert.deepEqual(d.redacted, ['well ****, nice day']);
    assert.deepEqual(azureContentFilterResults(d).profanity, { filtered: true, detected: true });
  });

  it('moderates with the classifier and the tiny guard under its grammar', async () => {
    const outcomes = await checker.moderate(['i will grimbo you', 'Hello world']);
    assert.equal(outcomes[0]!.categories.violence, true);
    assert.equal(outcomes[0]!.categories['harassment/threatening'], true);
    const judge = outcomes[1]!.assessment.layers.find((l) => l.layer === 'judge');
    assert.equal(judge?.status, 'ran', judge?.detail);
    assert.match((judge?.raw as { answer: string } | undefined)?.answer ?? '', /^(safe|unsafe\nS\d+(,S\d+)*)$/);
    assert.ok(outcomes[1]!.checked.includes('illicit'), 'the judge checked the illicit category');
    assert.equal(checker.layers().find((l) => l.name === 'judge')?.state, 'live');
  });
});
