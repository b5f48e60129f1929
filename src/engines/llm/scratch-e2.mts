import { createLlmEngine } from './registry.js';
const T = () => performance.now();
const engine: any = await createLlmEngine('llama', { model: process.argv[2] ?? '/tmp/llm/tiny-rare.gguf', modelsDir: '/tmp/llm', threads: Number(process.argv[3] ?? 2) });
const msgs = [{ role: 'user' as const, content: 'Hello world' }];
for (let i = 0; i < 3; i++) {
  const t0 = T(); let first = 0; let n = 0;
  const r = await engine.generate({ messages: msgs, maxTokens: 100, temperature: 0.8, seed: i, onText: () => { if (!first) first = T() - t0; n++; } });
  console.log('run', i, 'ttft', first.toFixed(0), 'total', (T() - t0).toFixed(0), r.usage, r.finishReason);
}
const ac = new AbortController();
let chunks = 0;
const t0 = T();
const p = engine.generate({ messages: msgs, maxTokens: 3000, temperature: 0.8, signal: ac.signal, onText: () => { chunks++; if (chunks === 5) { ac.abort(); } } });
let tAbort = 0;
ac.signal.addEventListener('abort', () => { tAbort = T(); });
try { await p; console.log('not aborted?'); } catch (e: any) { console.log('rejected', e?.name, e?.message, 'after abort ms', (T() - tAbort).toFixed(1), 'total', (T() - t0).toFixed(0)); }
const t1 = T();
const r = await engine.generate({ messages: msgs, maxTokens: 100, temperature: 0.8 });
console.log('after abort', (T() - t1).toFixed(0), r.usage, r.finishReason);
await engine.dispose();
