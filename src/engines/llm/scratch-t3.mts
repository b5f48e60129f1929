import { getLlama, LlamaChat, LlamaGrammarEvaluationState } from 'node-llama-cpp';
const T = () => Math.round(performance.now());
const llama = await getLlama({ gpu: false, maxThreads: 2 });
const model = await llama.loadModel({ modelPath: '/tmp/llm/tiny.gguf' });
const ctx = await model.createContext({ contextSize: 2048, threads: 2 });
const seq = ctx.getSequence();
const g = await llama.getGrammarFor('json');
console.log(g.grammar);
const t0 = T(); let last = t0; let i = 0; let text = '';
const grammarEvaluationState = new LlamaGrammarEvaluationState({ model, grammar: g });
for await (const tok of seq.evaluate(model.tokenize('Give JSON'), { grammarEvaluationState, temperature: 0 })) {
  text += model.detokenize([tok]);
  i++;
  if (i % 1 === 0) { console.log(i, T() - last, JSON.stringify(text.slice(-40))); last = T(); }
  if (i >= 200) break;
}
console.log("end", i, T() - t0, JSON.stringify(text));
await llama.dispose();
