import { getLlama } from 'node-llama-cpp';
const llama = await getLlama({ gpu: false, build: 'never' });
const g = await llama.createGrammarForJsonSchema({ type: 'object', properties: { n: { type: 'integer' }, x: { type: 'number' }, s: { type: 'string' }, d: {type:'string', format:'date'}, a: {type:'array', items: {type:'integer'}} } } as any);
console.log(g.grammar);
await llama.dispose();
