/**
 * The judge with a fake engine (exact prompts and answers) and with real llama.cpp on the tiny
 * random GGUF (test/fixtures/models/make-tiny-gguf.ts): its text is nonsense, but the guard
 * grammar forces `safe` / `unsafe\nS…` (or Qwen3Guard's lines), so the engine's grammar path and
 * the parser run for real.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyGguf } from '../../../test/fixtures/models/make-tiny-gguf.js';
import { createLlamaEngine } from '../../engines/llm/llama/index.js';
import type { LlmEngine, LlmGenerateOptions, LlmResult } from '../../engines/llm/types.js';
import { isApiError } from '../../errors.js';
import { parseGuardAnswer } from './guard.js';
import { createGuardJudge } from './judge.js';

function fakeEngine(model: string, answer: string, calls: LlmGenerateOptions[] = []): LlmEngine {
  return {
    id: 'fake',
    model,
    async generate(options): Promise<LlmResult> {
      calls.push(options);
      return { text: answer, toolCalls: [], finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1, cachedTokens: 0 } };
    },
    countTokens: async (t) => t.length,
    dispose: async () => undefined,
  };
}

describe('judge with a fake engine', () => {
  it('sends the text as one user message, greedy, short, constrained by the family grammar', async () => {
    const calls: LlmGenerateOptions[] = [];
    const judge = createGuardJudge({ engine: fakeEngine('/models/Llama-Guard-3-1B.gguf', 'unsafe\nS10', calls) });
    const verdict = await judge.check('some text');
    assert.deepEqual(verdict, { safety: 'unsafe', categories: ['S10'], answer: 'unsafe\nS10' });
    assert.equal(judge.family, 'llama-guard');
    assert.deepEqual(calls[0]!.messages, [{ role: 'user', content: 'some text' }]);
    assert.equal(calls[0]!.temperature, 0);
    assert.ok((calls[0]!.maxTokens ?? 0) <= 40);
    assert.match(calls[0]!.grammar ?? '', /"unsafe\\n"/);
  });

  it('reads a Qwen3Guard answer when the model is a Qwen3Guard', async () => {
    const judge = createGuardJudge({ engine: fakeEngine('Qwen3Guard-Gen-0.6B', 'Safety: Unsafe\nCategories: Violent') });
    assert.deepEqual((await judge.check('x')).categories, ['Violent']);
  });

  it('rejects with engine_unavailable when the answer is not a verdict', async () => {
    const judge = createGuardJudge({ engine: fakeEngine('llama-guard', 'Sure! Here is a poem.') });
    await assert.rejects(judge.check('x'), (e: unknown) => isApiError(e) && e.code === 'engine_unavailable');
  });
});

describe('judge on real llama.cpp with the tiny random GGUF', () => {
  let dir: string;
  let engine: LlmEngine;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-judge-'));
    const file = path.join(dir, 'tiny-guard.gguf');
    writeTinyGguf(file, { asciiOnly: true, contextLength: 1024 });
    engine = await createLlamaEngine({ model: file, modelsDir: dir, threads: 1, contextSize: 1024 });
  });

  after(async () => {
    await engine?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers in Llama Guard form under the grammar, and the answer parses', async () => {
    const judge = createGuardJudge({ engine, family: 'llama-guard' });
    for (const text of ['Hello there', 'How do I build a bomb?', 'You are wonderful']) {
      const verdict = await judge.check(text);
      assert.match(verdict.answer, /^(safe|unsafe\nS([1-9]|1[0-4])(,S([1-9]|1[0-4]))*)$/, verdict.answer);
      assert.deepEqual(parseGuardAnswer('llama-guard', verdict.answer), { safety: verdict.safety, categories: verdict.categories });
    }
  });

  it('answers in Qwen3Guard form under its grammar', async () => {
    const judge = createGuardJudge({ engine, family: 'qwen3-guard' });
    const verdict = await judge.check('Tell me a story');
    assert.match(verdict.answer, /^Safety: (Safe|Unsafe|Controversial)\nCategories: /, verdict.answer);
    assert.ok(['safe', 'unsafe', 'controversial'].includes(verdict.safety));
  });

  it('without the grammar the random model writes nonsense the judge refuses to read', async () => {
    const judge = createGuardJudge({ engine, family: 'llama-guard', useGrammar: false });
    await assert.rejects(judge.check('Hello'), (e: unknown) => isApiError(e) && e.code === 'engine_unavailable');
  });

  it('stops when aborted', async () => {
    const judge = createGuardJudge({ engine, family: 'llama-guard' });
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await assert.rejects(judge.check('Hello', controller.signal), /gone/);
  });
});
