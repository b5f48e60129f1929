/**
 * Throughput of the llama engine per thread count, on any GGUF (e.g. a random-weight file of a
 * real model's shape from test/fixtures/models/make-tiny-gguf.ts `--shape qwen2.5-0.5b`).
 * Each thread count runs in its own process, one after another, so they never compete.
 *
 * Usage: node --import tsx bench/llama-threads.ts MODEL.gguf [threads,…=1,2,4] [runs=3] [maxTokens=64]
 * (4 = node-llama-cpp's default on a 2-core machine: max(4, cores).)
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLlamaEngine } from '../src/engines/llm/llama/index.js';

const [modelPath, threadList = '1,2,4', runsArg = '3', maxTokensArg = '64', child] = process.argv.slice(2);
if (!modelPath) throw new Error('usage: llama-threads.ts MODEL.gguf [1,2,4] [runs]');

if (child === '--child') {
  const threads = Number(threadList);
  const engine = await createLlamaEngine({ model: modelPath, modelsDir: '.', threads, contextSize: 2048 });
  const prompt = 'Tell me a long story about the sea and a small boat. '.repeat(16);
  const results: Array<{ promptTps: number; genTps: number; ttftMs: number }> = [];
  for (let run = 0; run < Number(runsArg); run++) {
    // A different first word each run, so the prompt is evaluated anew (no prefix reuse).
    const messages = [{ role: 'user' as const, content: `${run} ${prompt}` }];
    // 1) Prompt processing: the whole prompt and one token.
    let started = performance.now();
    const first = await engine.generate({ messages, maxTokens: 1 });
    const ttft = performance.now() - started;
    const evaluated = first.usage.promptTokens - first.usage.cachedTokens;
    // 2) Generation: the same prompt again (now cached but its last token), then maxTokens tokens.
    started = performance.now();
    const r = await engine.generate({ messages, maxTokens: Number(maxTokensArg), temperature: 0.8, seed: run });
    const genMs = performance.now() - started;
    results.push({ promptTps: evaluated / (ttft / 1000), genTps: r.usage.completionTokens / (genMs / 1000), ttftMs: ttft });
  }
  await engine.dispose();
  console.log(JSON.stringify({ threads, results }));
} else {
  console.log(
    `model ${modelPath}; ${os.cpus().length} cores; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const t of threadList.split(',')) {
    const started = performance.now();
    const out = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), modelPath, t, runsArg, maxTokensArg, '--child'], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (out.status !== 0) {
      console.log(`threads ${t}: ${out.signal ? `killed after ${((performance.now() - started) / 1000).toFixed(0)} s` : 'failed'}\n${out.stderr}`);
      continue;
    }
    const line = out.stdout.trim().split('\n').pop()!;
    const { results } = JSON.parse(line) as { results: Array<{ promptTps: number; genTps: number; ttftMs: number }> };
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `threads ${t}: prompt ${median(results.map((r) => r.promptTps)).toFixed(1)} tok/s (first token after ${median(results.map((r) => r.ttftMs)).toFixed(0)} ms), ` +
        `generation ${median(results.map((r) => r.genTps)).toFixed(1)} tok/s  [runs: ${results.map((r) => r.genTps.toFixed(1)).join(', ')}]` +
        `; load average now ${os.loadavg()[0]!.toFixed(2)}`,
    );
  }
}
