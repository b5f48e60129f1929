/**
 * The classifier on real onnxruntime with a tiny BERT-style ONNX model written at test time
 * (test/fixtures/models/make-tiny-bert-classifier.ts: toxic-bert's inputs, outputs and labels;
 * random weights plus trigger words of known strength), and the label → severity mapping.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TINY_LABELS, type TinyBertInfo, writeTinyBertClassifier } from '../../../test/fixtures/models/make-tiny-bert-classifier.js';
import { isApiError } from '../../errors.js';
import { DEFAULT_THRESHOLDS, mapToxicBert, SEXUAL_PROXY_CAP_WITH_PROFANITY, severityOf } from './mapping.js';
import { createOnnxClassifier, locateClassifierFiles, type TextClassifier } from './onnx-classifier.js';
import { WordPieceTokenizer } from './wordpiece.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

describe('toxic-bert-style ONNX classifier', () => {
  let dir: string;
  let tiny: TinyBertInfo;
  let classifier: TextClassifier;
  let tokenizer: WordPieceTokenizer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-classifier-'));
    tiny = writeTinyBertClassifier(path.join(dir, 'tiny-toxic-bert'));
    classifier = await createOnnxClassifier({ path: tiny.dir, name: 'tiny-toxic-bert' });
    tokenizer = WordPieceTokenizer.fromVocabText(fs.readFileSync(path.join(tiny.dir, 'vocab.txt'), 'utf8'));
  });

  after(async () => {
    await classifier?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("takes its labels from config.json's id2label", () => {
    assert.deepEqual(classifier.labels, [...TINY_LABELS]);
    assert.equal(classifier.model, 'tiny-toxic-bert');
  });

  it('gives the sigmoid of the network computed independently in JS', async () => {
    for (const text of ['Hello world, nice day!', 'you are a zorgon', 'I will grimbo you', 'Unbelievable cafés', '']) {
      const scores = await classifier.classify(text);
      const expected = tiny.forward(tokenizer.encodeWindows(text)[0]!.ids).map(sigmoid);
      TINY_LABELS.forEach((label, i) => {
        assert.ok(Math.abs(scores[label]! - expected[i]!) < 1e-4, `${text} ${label}: ${scores[label]} vs ${expected[i]}`);
      });
    }
  });

  it('scores trigger words on their label and clean text low on every label', async () => {
    const clean = await classifier.classify('Hello world, what a nice day');
    assert.ok(
      Object.values(clean).every((s) => s < 0.05),
      JSON.stringify(clean),
    );
    assert.ok((await classifier.classify('you are a zorgon')).identity_hate! > 0.95);
    assert.ok((await classifier.classify('blarg')).obscene! > 0.95);
    assert.ok((await classifier.classify('i will grimbo you')).threat! > 0.95);
    assert.ok((await classifier.classify('snark')).insult! > 0.95);
  });

  it('maps graded scores to low, medium and high through the thresholds', async () => {
    const severities = [];
    for (const word of ['zorgi', 'zorgo', 'zorgon']) {
      const mapped = mapToxicBert(await classifier.classify(`${word} people`), DEFAULT_THRESHOLDS, false);
      severities.push(mapped.harms.hate?.severity);
    }
    assert.deepEqual(severities, ['low', 'medium', 'high']);
    const strict = mapToxicBert(await classifier.classify('zorgi people'), { low: 0.2, medium: 0.3, high: 0.6 }, false);
    assert.equal(strict.harms.hate?.severity, 'high');
  });

  it('reads a text longer than 512 positions in windows and finds a word at its end', async () => {
    const long = `${'hello world nice day '.repeat(300)}zorgon`;
    assert.ok(tokenizer.tokenize(long).length > 1000);
    assert.ok((await classifier.classify(long)).identity_hate! > 0.95);
  });

  it('rejects with the abort reason when aborted', async () => {
    const c = new AbortController();
    c.abort(new Error('gone'));
    await assert.rejects(classifier.classify('hello', c.signal), /gone/);
  });

  it('loads from the .onnx path too, finding vocab.txt one folder up', async () => {
    assert.equal(locateClassifierFiles(tiny.modelPath)?.vocab, path.join(tiny.dir, 'vocab.txt'));
    const byFile = await createOnnxClassifier({ path: tiny.modelPath });
    try {
      assert.ok((await byFile.classify('zorgon')).identity_hate! > 0.95);
    } finally {
      await byFile.dispose();
    }
  });

  it("works from the model and vocab.txt alone (what the catalogue downloads), with toxic-bert's labels", async () => {
    const bare = path.join(dir, 'bare');
    fs.mkdirSync(path.join(bare, 'onnx'), { recursive: true });
    fs.copyFileSync(tiny.modelPath, path.join(bare, 'onnx', 'model_quantized.onnx'));
    fs.copyFileSync(path.join(tiny.dir, 'vocab.txt'), path.join(bare, 'vocab.txt'));
    const c = await createOnnxClassifier({ path: bare });
    try {
      assert.deepEqual(c.labels, [...TINY_LABELS]);
      assert.ok((await c.classify('ZORGON')).identity_hate! > 0.95, 'lower-cased by default');
    } finally {
      await c.dispose();
    }
  });

  it('says what to run when the model is missing', async () => {
    await assert.rejects(
      createOnnxClassifier({ path: path.join(dir, 'nothing-here'), name: 'toxic-bert' }),
      (e: unknown) => isApiError(e) && e.code === 'engine_unavailable' && /parley models pull toxic-bert/.test(e.message) && !e.message.includes(dir),
    );
  });

  it('refuses a config.json whose labels do not match the model output', async () => {
    const copy = path.join(dir, 'mismatch');
    fs.cpSync(tiny.dir, copy, { recursive: true });
    fs.writeFileSync(path.join(copy, 'config.json'), JSON.stringify({ id2label: { 0: 'a', 1: 'b' } }));
    const c = await createOnnxClassifier({ path: copy });
    try {
      await assert.rejects(c.classify('hello'), (e: unknown) => isApiError(e) && e.code === 'engine_unavailable');
    } finally {
      await c.dispose();
    }
  });
});

describe('toxic-bert label mapping', () => {
  it('starts each severity at its threshold', () => {
    assert.equal(severityOf(0.49, DEFAULT_THRESHOLDS), 'safe');
    assert.equal(severityOf(0.5, DEFAULT_THRESHOLDS), 'low');
    assert.equal(severityOf(0.75, DEFAULT_THRESHOLDS), 'medium');
    assert.equal(severityOf(0.9, DEFAULT_THRESHOLDS), 'high');
  });

  it('maps identity_hate, obscene and threat to hate, sexual and violence, and insult to harassment', () => {
    const m = mapToxicBert({ toxic: 0.99, severe_toxic: 0.2, obscene: 0.8, threat: 0.95, insult: 0.7, identity_hate: 0.6 }, DEFAULT_THRESHOLDS, false);
    assert.deepEqual(m.harms, {
      hate: { severity: 'low', score: 0.6 },
      violence: { severity: 'high', score: 0.95 },
      sexual: { severity: 'medium', score: 0.8 },
    });
    assert.equal(m.moderation.harassment, 0.7);
    assert.equal(m.moderation['harassment/threatening'], 0.95);
    assert.equal(m.moderation['hate/threatening'], 0.6);
    assert.equal(m.moderation['self-harm'], undefined, 'toxic-bert has no self-harm label');
  });

  it('caps the sexual proxy when the word list found profanity (swearing is not sexual content)', () => {
    const m = mapToxicBert({ obscene: 0.99 }, DEFAULT_THRESHOLDS, true);
    assert.deepEqual(m.harms.sexual, { severity: 'safe', score: SEXUAL_PROXY_CAP_WITH_PROFANITY });
    assert.equal(m.harms.hate, undefined, 'a missing label leaves its category unchecked');
  });
});
