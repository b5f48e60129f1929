/**
 * The llama engine on real llama.cpp with tiny random-weight GGUF files written at test time
 * (test/fixtures/models/make-tiny-gguf.ts). The text is nonsense; everything else is real:
 * template, tokenizer, sampling, grammars, KV-cache reuse, cancellation.
 *
 * One thread: this machine's two cores are shared with other test files, and llama.cpp's
 * spinning worker threads collapse when a core is taken (see the report in README.md).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { writeTinyGguf } from '../../../../test/fixtures/models/make-tiny-gguf.js';
import { isApiError } from '../../../errors.js';
import type { LlmGenerateOptions, LlmTool } from '../types.js';
import type { LlamaEngine } from './engine.js';
import { createLlamaEngine } from './index.js';

let dir: string;
let tinyPath: string;
let engine: LlamaEngine;

const hello: LlmGenerateOptions['messages'] = [{ role: 'user', content: 'Hello world' }];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-llama-'));
  tinyPath = path.join(dir, 'tiny.gguf');
  // rareEnd: the model practically never ends by itself, so long outputs are guaranteed.
  // asciiOnly + a likelier quote: grammar-forced strings are valid UTF-8 and end soon (see the fixture).
  writeTinyGguf(tinyPath, { rareEnd: true, asciiOnly: true, outputScale: { '"': 3 }, contextLength: 4096 });
  engine = await createLlamaEngine({ model: tinyPath, modelsDir: dir, threads: 1, contextSize: 4096 });
});

after(async () => {
  await engine?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('llama engine', () => {
  it('loads a GGUF and reports its name, context size and chat template', () => {
    assert.equal(engine.id, 'llama');
    assert.equal(engine.model, tinyPath);
    assert.equal(engine.contextSize, 4096);
    assert.equal(engine.chatWrapperName, 'ChatML');
  });

  it('streams text through onText whose concatenation equals the result text', async () => {
    let streamed = '';
    let chunks = 0;
    const r = await engine.generate({
      messages: hello,
      maxTokens: 40,
      seed: 1,
      onText: (d) => {
        streamed += d;
        chunks++;
      },
    });
    assert.ok(r.text.length > 0);
    assert.ok(chunks > 1, 'several chunks');
    assert.equal(streamed, r.text);
    assert.deepEqual(r.toolCalls, []);
  });

  it('stops at maxTokens with finish reason length and completionTokens equal to maxTokens', async () => {
    const r = await engine.generate({ messages: hello, maxTokens: 17, seed: 2 });
    assert.equal(r.finishReason, 'length');
    assert.equal(r.usage.completionTokens, 17);
  });

  it('counts the templated prompt as prompt tokens', async () => {
    const r = await engine.generate({ messages: hello, maxTokens: 1 });
    // ChatML around 'Hello world': <s><|im_start|>user\nHello world<|im_end|>\n<|im_start|>assistant\n
    const bare = await engine.countTokens('Hello world');
    assert.ok(r.usage.promptTokens > bare + 4, `${r.usage.promptTokens} > ${bare} + 4`);
  });

  it('ends the text before a stop sequence and leaves the sequence out', async () => {
    const base: LlmGenerateOptions = { messages: hello, maxTokens: 60, temperature: 1, seed: 7 };
    const free = await engine.generate(base);
    const match = /[a-z]{2}/i.exec(free.text.slice(5));
    assert.ok(match, `no letters to stop at in ${JSON.stringify(free.text)}`);
    const stop = match[0];
    const expected = free.text.slice(0, free.text.indexOf(stop));
    let streamed = '';
    const stopped = await engine.generate({ ...base, stop: ['never-appears-42', stop], onText: (d) => (streamed += d) });
    assert.equal(stopped.text, expected);
    assert.equal(streamed, expected);
    assert.equal(stopped.finishReason, 'stop');
  });

  it('gives identical output for the same seed at temperature 1, and different output for another seed', async () => {
    const a = await engine.generate({ messages: hello, maxTokens: 30, temperature: 1, seed: 1234 });
    const b = await engine.generate({ messages: hello, maxTokens: 30, temperature: 1, seed: 1234 });
    const c = await engine.generate({ messages: hello, maxTokens: 30, temperature: 1, seed: 4321 });
    assert.equal(a.text, b.text);
    assert.notEqual(a.text, c.text);
  });

  it('rejects promptly when aborted mid-generation, and the next generation works at full speed', async () => {
    const timed = async (): Promise<number> => {
      const started = performance.now();
      const r = await engine.generate({ messages: hello, maxTokens: 150, seed: 3 });
      assert.equal(r.usage.completionTokens, 150);
      return performance.now() - started;
    };
    const baseline = await timed();

    const controller = new AbortController();
    let chunks = 0;
    let abortedAt = 0;
    const pending = engine.generate({
      messages: hello,
      maxTokens: 3000,
      signal: controller.signal,
      onText: () => {
        if (++chunks === 5) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await assert.rejects(pending, (e: unknown) => e instanceof Error && e.name === 'AbortError');
    assert.ok(abortedAt > 0);
    // Counted in tokens, not milliseconds, so a loaded machine cannot fail it: generation stops within a few tokens.
    assert.ok(chunks < 5 + 32, `${chunks - 5} chunks arrived after the abort`);

    const next = await timed();
    assert.ok(next < baseline * 3 + 250, `after the abort ${next.toFixed(0)} ms vs ${baseline.toFixed(0)} ms before`);
  });

  it('rejects a queued call whose signal is aborted before it starts, without running it', async () => {
    const first = engine.generate({ messages: hello, maxTokens: 100 });
    const controller = new AbortController();
    const queued = engine.generate({ messages: hello, maxTokens: 100, signal: controller.signal });
    controller.abort(new Error('gone'));
    await assert.rejects(queued, /gone/);
    assert.equal((await first).usage.completionTokens, 100);
  });

  it('runs concurrent calls one after another on the one context', async () => {
    const results = await Promise.all([1, 2, 3].map((seed) => engine.generate({ messages: hello, maxTokens: 20, seed })));
    for (const r of results) assert.equal(r.usage.completionTokens, 20);
  });

  it('forces parseable JSON with response_format json_object, even with random weights', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await engine.generate({ messages: hello, maxTokens: 400, seed, responseFormat: { type: 'json_object' } });
      assert.equal(r.finishReason, 'stop', r.text);
      const parsed: unknown = JSON.parse(r.text);
      assert.equal(typeof parsed, 'object');
      assert.ok(parsed !== null && !Array.isArray(parsed));
    }
  });

  it('forces output valid against a json_schema', async () => {
    const schema = {
      type: 'object',
      properties: {
        ok: { type: 'boolean' },
        count: { type: 'integer' },
        ratio: { type: 'number' },
        color: { type: 'string', enum: ['red', 'green', 'blue'] },
        label: { type: 'string', maxLength: 12 },
        tags: { type: 'array', items: { enum: ['a', 'b', 'c'] }, maxItems: 3 },
        maybe: { anyOf: [{ type: 'string', maxLength: 5 }, { type: 'null' }] },
      },
      required: ['ok', 'count', 'ratio', 'color', 'label', 'tags', 'maybe'],
      additionalProperties: false,
    };
    const validate = new Ajv().compile(schema);
    for (const seed of [1, 2, 3]) {
      const r = await engine.generate({ messages: hello, maxTokens: 400, seed, responseFormat: { type: 'json_schema', name: 'thing', schema, strict: true } });
      assert.equal(r.finishReason, 'stop', r.text);
      const value: unknown = JSON.parse(r.text);
      assert.ok(validate(value), `${r.text}: ${JSON.stringify(validate.errors)}`);
    }
  });

  const weather: LlmTool = {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 20 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer' } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  };
  const time: LlmTool = { name: 'get_time', description: 'The time now', parameters: { type: 'object', properties: {} } };

  it("makes a tool call with tool_choice 'required' whose arguments match the parameters", async () => {
    const validate = new Ajv().compile(weather.parameters!);
    let streamed = '';
    const r = await engine.generate({
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      maxTokens: 300,
      seed: 5,
      tools: [weather],
      toolChoice: 'required',
      onText: (d) => (streamed += d),
    });
    assert.equal(r.finishReason, 'tool_calls');
    assert.equal(r.text, '');
    assert.equal(streamed, '', 'tool-call text is not streamed as text');
    assert.equal(r.toolCalls.length, 1);
    const call = r.toolCalls[0]!;
    assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
    assert.equal(call.name, 'get_weather');
    const args: unknown = JSON.parse(call.arguments);
    assert.ok(validate(args), `${call.arguments}: ${JSON.stringify(validate.errors)}`);
  });

  it('calls the named tool when tool_choice names one of several', async () => {
    for (const [name, seed] of [
      ['get_time', 1],
      ['get_weather', 2],
    ] as const) {
      const r = await engine.generate({ messages: hello, maxTokens: 300, seed, tools: [weather, time], toolChoice: { name } });
      assert.equal(r.finishReason, 'tool_calls');
      assert.equal(r.toolCalls[0]?.name, name);
      JSON.parse(r.toolCalls[0]!.arguments);
    }
  });

  it("never calls a tool with tool_choice 'none' and leaves the tools out of the prompt", async () => {
    const none = await engine.generate({ messages: hello, maxTokens: 20, seed: 1, tools: [weather], toolChoice: 'none' });
    const plain = await engine.generate({ messages: hello, maxTokens: 20, seed: 1 });
    assert.deepEqual(none.toolCalls, []);
    assert.notEqual(none.finishReason, 'tool_calls');
    assert.equal(none.usage.promptTokens, plain.usage.promptTokens);
  });

  it("documents the tools in the prompt with tool_choice 'auto'", async () => {
    const auto = await engine.generate({ messages: hello, maxTokens: 5, seed: 1, tools: [weather] });
    const plain = await engine.generate({ messages: hello, maxTokens: 5, seed: 1 });
    assert.ok(auto.usage.promptTokens > plain.usage.promptTokens + 50);
  });

  it('continues a conversation that holds a tool call and its result', async () => {
    const r = await engine.generate({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }] },
        { role: 'tool', toolCallId: 'call_1', content: '{"temperature": 21}' },
      ],
      maxTokens: 10,
      seed: 1,
      tools: [weather],
    });
    assert.equal(r.usage.completionTokens, 10);
  });

  it("rejects a tool_choice naming a tool that is not in 'tools'", async () => {
    await assert.rejects(
      engine.generate({ messages: hello, tools: [weather], toolChoice: { name: 'nope' } }),
      (e: unknown) => isApiError(e) && e.status === 400 && e.param === 'tool_choice',
    );
  });

  it('rejects a prompt longer than the context with context_length_exceeded', async () => {
    await assert.rejects(
      engine.generate({ messages: [{ role: 'user', content: 'word '.repeat(3000) }] }),
      (e: unknown) => isApiError(e) && e.status === 400 && e.code === 'context_length_exceeded',
    );
  });

  it('counts tokens with the model tokenizer', async () => {
    const short = await engine.countTokens('hello');
    const long = await engine.countTokens('hello world, hello world');
    assert.ok(short > 0);
    assert.ok(long > short);
  });
});

describe('llama engine prefix reuse', () => {
  let small: LlamaEngine;
  before(async () => {
    // Wider than the tiny model, so evaluating a long prompt takes measurable time.
    const file = path.join(dir, 'small.gguf');
    writeTinyGguf(file, { width: 256, layers: 4, ffn: 768, contextLength: 4096, rareEnd: true });
    small = await createLlamaEngine({ model: file, modelsDir: dir, threads: 1, contextSize: 4096 });
  });
  after(async () => small?.dispose());

  it('reuses the evaluated system prompt on the next turn: cachedTokens > 0 and a faster first token', async () => {
    const system = 'You are a helpful assistant who answers questions about the weather in great detail. '.repeat(20);
    const systemTokens = await small.countTokens(system);
    const firstToken = async (messages: LlmGenerateOptions['messages']) => {
      const started = performance.now();
      const r = await small.generate({ messages, maxTokens: 1 });
      return { ms: performance.now() - started, r };
    };
    const turn1 = await firstToken([
      { role: 'system', content: system },
      { role: 'user', content: 'Will it rain?' },
    ]);
    const turn2 = await firstToken([
      { role: 'system', content: system },
      { role: 'user', content: 'Will it rain?' },
      { role: 'assistant', content: turn1.r.text },
      { role: 'user', content: 'And tomorrow?' },
    ]);
    assert.ok(turn1.r.usage.cachedTokens < 10, `turn 1 cached ${turn1.r.usage.cachedTokens}`);
    assert.ok(turn2.r.usage.cachedTokens >= systemTokens, `turn 2 cached ${turn2.r.usage.cachedTokens} of ${systemTokens} system tokens`);
    assert.ok(turn2.r.usage.cachedTokens < turn2.r.usage.promptTokens);
    assert.ok(turn2.ms < turn1.ms / 2, `turn 2 ${turn2.ms.toFixed(0)} ms vs turn 1 ${turn1.ms.toFixed(0)} ms`);
  });

  it('stops evaluating a long prompt soon after an abort, and keeps the part already evaluated', async () => {
    const long = (tag: string): LlmGenerateOptions['messages'] => [
      { role: 'system', content: `${tag} ${'Every word of this long prompt has to be evaluated before the first token. '.repeat(45)}` },
      { role: 'user', content: 'Go.' },
    ];
    let started = performance.now();
    const full = await small.generate({ messages: long('first'), maxTokens: 1 });
    const fullMs = performance.now() - started;
    assert.ok(full.usage.promptTokens > 2000, String(full.usage.promptTokens));

    const controller = new AbortController();
    const abortAfter = fullMs / 3;
    setTimeout(() => controller.abort(), abortAfter);
    started = performance.now();
    await assert.rejects(small.generate({ messages: long('second'), maxTokens: 1, signal: controller.signal }), { name: 'AbortError' });
    const lateBy = performance.now() - started - abortAfter;
    assert.ok(lateBy < fullMs / 3, `rejected ${lateBy.toFixed(0)} ms after the abort; the whole prompt takes ${fullMs.toFixed(0)} ms`);

    const next = await small.generate({ messages: long('second'), maxTokens: 1 });
    assert.ok(next.usage.cachedTokens > 10, `the evaluated part is reused (${next.usage.cachedTokens} tokens)`);
  });

  it('stays correct when another conversation ran in between (only the common prefix is reused)', async () => {
    const a = await small.generate({
      messages: [
        { role: 'system', content: 'Alpha.' },
        { role: 'user', content: 'One' },
      ],
      maxTokens: 3,
      seed: 9,
    });
    await small.generate({
      messages: [
        { role: 'system', content: 'Beta.' },
        { role: 'user', content: 'Two' },
      ],
      maxTokens: 3,
      seed: 9,
    });
    const again = await small.generate({
      messages: [
        { role: 'system', content: 'Alpha.' },
        { role: 'user', content: 'One' },
      ],
      maxTokens: 3,
      seed: 9,
    });
    assert.equal(again.text, a.text);
    assert.ok(again.usage.cachedTokens < again.usage.promptTokens - 5);
  });
});

describe('llama engine creation', () => {
  it('fails with engine_unavailable naming the pull command when the model is missing', async () => {
    await assert.rejects(
      createLlamaEngine({ model: 'qwen2.5-0.5b-instruct', modelsDir: dir, threads: 1, resolveModel: (n) => path.join(dir, 'cache', n) }),
      (e: unknown) =>
        isApiError(e) &&
        e.status === 503 &&
        e.code === 'engine_unavailable' &&
        e.message.includes('parley models pull qwen2.5-0.5b-instruct') &&
        e.message.includes('PARLEY_LLM_MODEL') &&
        !e.message.includes(dir),
    );
  });

  it('fails with engine_unavailable for a file that is not a GGUF', async () => {
    const bogus = path.join(dir, 'bogus.gguf');
    fs.writeFileSync(bogus, 'not a model');
    await assert.rejects(createLlamaEngine({ model: bogus, modelsDir: dir, threads: 1 }), (e: unknown) => isApiError(e) && e.code === 'engine_unavailable');
  });

  it('finds a model by cache name through resolveModel', async () => {
    const e = await createLlamaEngine({ model: 'tiny', modelsDir: '/nonexistent', threads: 1, resolveModel: () => tinyPath, contextSize: 256 });
    try {
      assert.equal(e.model, 'tiny');
      assert.equal(e.contextSize, 256);
    } finally {
      await e.dispose();
    }
  });

  it('falls back to ChatML for a GGUF without a chat template', async () => {
    const file = path.join(dir, 'no-template.gguf');
    writeTinyGguf(file, { chatTemplate: null });
    const e = await createLlamaEngine({ model: file, modelsDir: dir, threads: 1, contextSize: 256 });
    try {
      assert.equal(e.chatWrapperName, 'ChatML');
      const r = await e.generate({ messages: hello, maxTokens: 3 });
      assert.ok(r.usage.promptTokens > 5);
    } finally {
      await e.dispose();
    }
  });

  it('rejects generations after dispose with engine_unavailable', async () => {
    const e = await createLlamaEngine({ model: tinyPath, modelsDir: dir, threads: 1, contextSize: 256 });
    await e.dispose();
    await assert.rejects(e.generate({ messages: hello }), (err: unknown) => isApiError(err) && err.code === 'engine_unavailable');
  });

  it('stops a running generation when disposed', async () => {
    const e = await createLlamaEngine({ model: tinyPath, modelsDir: dir, threads: 1, contextSize: 2048 });
    let started!: () => void;
    const streaming = new Promise<void>((resolve) => (started = resolve));
    const running = e.generate({ messages: hello, maxTokens: 1500, onText: () => started() });
    const outcome = running.then(
      () => undefined,
      (err: unknown) => err,
    );
    await streaming;
    await e.dispose();
    const err = await outcome;
    assert.ok(isApiError(err) && err.code === 'engine_unavailable', String(err));
  });
});
