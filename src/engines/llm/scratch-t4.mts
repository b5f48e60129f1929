import { getLlama, LlamaGrammar, LlamaGrammarEvaluationState } from 'node-llama-cpp';
const T = () => performance.now();
const llama = await getLlama({ gpu: false, maxThreads: 2 });
const model = await llama.loadModel({ modelPath: process.argv[2] ?? '/tmp/llm/tiny.gguf' });
const ctx = await model.createContext({ contextSize: 2048, threads: 2 });
const seq = ctx.getSequence();
async function run(name: string, grammar: LlamaGrammar | undefined, n = 30) {
  await seq.clearHistory();
  const grammarEvaluationState = grammar ? new LlamaGrammarEvaluationState({ model, grammar }) : undefined;
  const t0 = T(); let i = 0; let text = '';
  for await (const tok of seq.evaluate(model.tokenize('Give JSON'), { grammarEvaluationState, temperature: 0.8, seed: 1 })) {
    text += model.detokenize([tok]); i++;
    if (i >= n) break;
  }
  console.log(name, i, ((T() - t0) / i).toFixed(1), 'ms/token', JSON.stringify(text.slice(0, 80)));
}
await run('none', undefined);
await run('az', new LlamaGrammar(llama, { grammar: 'root ::= [a-z ]+' }));
await run('string', new LlamaGrammar(llama, { grammar: 'root ::= "\\"" [^"\\\\\\x7F\\x00-\\x1F]* "\\""' }));
await run('json', await llama.getGrammarFor('json'));
await run('none2', undefined); await run('json2', await llama.getGrammarFor('json')); await run('none3', undefined);
await llama.dispose();
