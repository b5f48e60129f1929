/**
 * `npm run bench -- NAME…` runs the named benchmarks (all when none is named). Each reports ratios
 * measured in one run against the engine called directly; absolute times are printed for context
 * only (these machines are noisy). Benchmarks are not tests: nothing here fails on a threshold.
 */
const BENCHES: Record<string, () => Promise<{ default: () => Promise<void> }>> = {
  speech: () => import('./speech.js'),
  transcribe: () => import('./transcribe.js'),
  chat: () => import('./chat.js'),
  batch: () => import('./batch.js'),
  'tts-rtf': () => import('./tts-rtf.js'),
  concurrency: () => import('./concurrency.js'),
  encode: () => import('./encode.js'),
  keys: () => import('./keys.js'),
  safety: () => import('./safety.js'),
  'safety-layers': () => import('./safety-layers.js'),
  engines: () => import('./engines.js'),
  overhead: () => import('./overhead.js'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
for (const name of names) {
  const load = BENCHES[name];
  if (!load) {
    console.error(`unknown benchmark '${name}': choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== ${name} ==`);
  await (await load()).default();
}
process.exit(0);
