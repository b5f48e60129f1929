/**
 * Safety layers benchmark (`npm run bench -- safety`): time per check of each layer, and what
 * the checker adds on top of the layers it runs.
 *
 * Models are made here (nothing is downloaded):
 * - "tiny" models (the test fixtures: a 16-wide BERT-style ONNX, a 64-wide random GGUF) time the
 *   plumbing only — they say nothing about real model cost;
 * - a toxic-bert-shaped classifier (BERT-base: 12 layers, 768 wide, int8 like Xenova's
 *   model_quantized.onnx, random weights) times the real classifier's compute;
 * - with BENCH_SAFETY_REAL_JUDGE=1, a Qwen2.5-0.5B-shaped Q8_0 GGUF (random weights; close to
 *   Qwen3Guard-Gen-0.6B's size) with a ~300-token prompt (a guard template's length) times the
 *   judge. Writing it takes ~10 s and 0.5 GB of disk.
 * Absolute times depend on the machine and its load (shared 2-core boxes): compare rows of one
 * run. BENCH_RUNS (default 5) checks per row, median reported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLlamaEngine } from '../src/engines/llm/llama/index.js';
import { createSafetyChecker, DEFAULT_SAFETY_SETTINGS } from '../src/safety/checker.js';
import { createOnnxClassifier, type TextClassifier } from '../src/safety/classifier/onnx-classifier.js';
import { createGuardJudge } from '../src/safety/judge/judge.js';
import { ProfanityList } from '../src/safety/lexicon/profanity.js';
import { findSelfHarm } from '../src/safety/lexicon/self-harm.js';
import { writeBertShapedClassifier } from '../test/fixtures/models/make-bert-shaped-classifier.js';
import { writeTinyBertClassifier } from '../test/fixtures/models/make-tiny-bert-classifier.js';
import { QWEN25_05B_SHAPE, writeTinyGguf } from '../test/fixtures/models/make-tiny-gguf.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REAL_JUDGE = process.env.BENCH_SAFETY_REAL_JUDGE === '1';

/** A spoken reply passage (~25 words) and a long prompt (~200 words). */
const PASSAGE = 'Sure, here is what I found about the weather today: it will be sunny in the morning, with a few clouds and a light breeze later on.';
const PROMPT = Array.from({ length: 8 }, () => PASSAGE).join(' ');

async function median(fn: () => unknown | Promise<unknown>, runs = RUNS): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Medians of `a` and `b` run alternately (so a load change on the shared machine hits both). */
async function paired(a: () => Promise<unknown>, b: () => Promise<unknown>, runs = RUNS * 4): Promise<[number, number]> {
  await a();
  await b();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await a();
    ta.push(performance.now() - t);
    t = performance.now();
    await b();
    tb.push(performance.now() - t);
  }
  const mid = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [mid(ta), mid(tb)];
}

const rows: Array<[string, string, string]> = [];
function row(layer: string, what: string, ms: number): void {
  rows.push([layer, what, ms < 1 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(1)} ms`]);
  console.log(`${layer.padEnd(34)} ${what.padEnd(44)} ${rows.at(-1)![2]}`);
}

export default async function run(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-safety-'));
  try {
    console.log(
      `load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${os.availableParallelism()} cores`,
    );
    console.log(`${'layer'.padEnd(34)} ${'check'.padEnd(44)} median of ${RUNS}`);
    const words = new ProfanityList();
    row('word list (obscenity + allow-list)', 'reply passage, 25 words', await median(() => words.find(PASSAGE), 200));
    row('word list', 'prompt, 200 words', await median(() => words.find(PROMPT), 50));
    row('self-harm phrases', 'reply passage, 25 words', await median(() => findSelfHarm(PASSAGE), 200));
    row('self-harm phrases', 'prompt, 200 words', await median(() => findSelfHarm(PROMPT), 50));

    const none = createSafetyChecker({ settings: DEFAULT_SAFETY_SETTINGS });
    const [checkerDefault, layersOnly] = await paired(
      () => none.checkReply(PASSAGE),
      async () => {
        words.find(PASSAGE);
        findSelfHarm(PASSAGE);
      },
      400,
    );
    row('checker, default layers', 'checkReply(passage)', checkerDefault);
    console.log(`  checker ÷ its layers called directly: ${(checkerDefault / layersOnly).toFixed(2)} (${(checkerDefault - layersOnly).toFixed(3)} ms more)`);

    const tinyDir = path.join(tmp, 'tiny-toxic-bert');
    const tinyInfo = writeTinyBertClassifier(tinyDir);
    const tiny = await createOnnxClassifier({ path: tinyInfo.dir, name: 'tiny' });
    row('classifier, TINY ONNX (16 wide)', 'reply passage (plumbing only)', await median(() => tiny.classify(PASSAGE), 50));
    await tiny.dispose();

    console.log('writing a toxic-bert-shaped int8 ONNX model (random weights, ~90 MB)…');
    const shapedDir = path.join(tmp, 'toxic-bert-shaped');
    writeBertShapedClassifier(shapedDir, { vocab: tinyInfo.vocab, quantized: true });
    const shaped: TextClassifier = await createOnnxClassifier({ path: shapedDir, name: 'toxic-bert-shaped', threads: 1 });
    const vocabWords = tinyInfo.vocab.filter((w) => /^[a-z]+$/.test(w));
    const tokens = (n: number): string => Array.from({ length: n }, (_, i) => vocabWords[i % vocabWords.length]).join(' ');
    let classifierPassage = 0;
    for (const n of [16, 32, 64, 128, 256]) {
      const ms = await median(() => shaped.classify(tokens(n - 2)));
      if (n === 32) classifierPassage = ms;
      row('classifier, toxic-bert shape, int8, 1 thread', `${n} tokens`, ms);
    }
    const withClassifier = createSafetyChecker({
      settings: { ...DEFAULT_SAFETY_SETTINGS, classifier: 'shaped' },
      loadClassifier: async () => shaped,
    });
    await withClassifier.load();
    const passage32 = tokens(30);
    const [checkerClassifier, classifierAlone] = await paired(
      () => withClassifier.checkReply(passage32),
      () => shaped.classify(passage32),
    );
    row('checker, word list + phrases + classifier', 'checkReply(32-token passage)', checkerClassifier);
    console.log(
      `  checker ÷ classifier alone (alternated): ${(checkerClassifier / classifierAlone).toFixed(2)} (classifier row above: ${classifierPassage.toFixed(0)} ms)`,
    );
    await withClassifier.dispose();

    const tinyGguf = path.join(tmp, 'tiny-guard.gguf');
    writeTinyGguf(tinyGguf, { asciiOnly: true, contextLength: 1024 });
    const tinyEngine = await createLlamaEngine({ model: tinyGguf, modelsDir: tmp, threads: 1, contextSize: 1024 });
    const tinyJudge = createGuardJudge({ engine: tinyEngine, family: 'llama-guard' });
    row('judge, TINY GGUF (64 wide), grammar', 'reply passage (plumbing only)', await median(() => tinyJudge.check(PASSAGE)));
    await tinyJudge.dispose();

    if (REAL_JUDGE) {
      console.log('writing a Qwen2.5-0.5B-shaped Q8_0 GGUF (random weights, ~530 MB)…');
      const shapedGguf = path.join(tmp, 'guard-shaped.gguf');
      writeTinyGguf(shapedGguf, { ...QWEN25_05B_SHAPE, type: 'q8_0', asciiOnly: true, contextLength: 4096 });
      const engine = await createLlamaEngine({ model: shapedGguf, modelsDir: tmp, threads: 1, contextSize: 4096 });
      const judge = createGuardJudge({ engine, family: 'qwen3-guard' });
      // A guard template wraps the text in ~300 tokens of instructions and categories. The random
      // file's vocabulary is mostly bytes, so the text is cut to ~300 of its tokens.
      const filler = 'Task: check whether the content below is safe according to the categories listed. '.repeat(40);
      let cut = filler.length;
      while (cut > 0 && (await engine.countTokens(`${filler.slice(0, cut)}\n${PASSAGE}`)) > 300) cut = Math.floor(cut * 0.9);
      const guardSized = `${filler.slice(0, cut)}\n${PASSAGE}`;
      const tokensIn = await engine.countTokens(guardSized);
      let n = 0;
      // Each check differs from the last so the prompt cache does not hide the evaluation.
      row('judge, 0.5B shape Q8_0, 1 thread', `~${tokensIn}-token prompt`, await median(() => judge.check(`${n++} ${guardSized}`), 3));
      await judge.dispose();
    } else {
      console.log('(judge at a real model shape: set BENCH_SAFETY_REAL_JUDGE=1; contract §3 measured ~2.7 s per 256-token check for 0.6B)');
    }
    await shaped.dispose();
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run();
  process.exit(0);
}
