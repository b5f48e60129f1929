/**
 * `npm run load -- NAME…`: the load and soak suite (not part of `npm test`). Each scenario starts
 * its own server (a child process on loopback, a temp data folder, the built-in small engines),
 * drives it with a small keep-alive HTTP client bounded in count and time, and prints a summary.
 * Scenarios: capacity, overload, soak, disconnect, kill9, diskfull. Nothing fails on a timing
 * threshold; a scenario exits non-zero only when the server misbehaves (a 5xx other than overload
 * or storage, a crash, a leak it checks for, a corrupt database).
 */
const SCENARIOS: Record<string, () => Promise<{ default: () => Promise<unknown> }>> = {
  capacity: () => import('./capacity.js'),
  overload: () => import('./overload.js'),
  soak: () => import('./soak.js'),
  disconnect: () => import('./disconnect.js'),
  kill9: () => import('./kill9.js'),
  diskfull: () => import('./diskfull.js'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (wanted.length === 0) {
  console.error(`name a scenario: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
let failed = false;
for (const name of wanted) {
  const load = SCENARIOS[name];
  if (!load) {
    console.error(`unknown scenario '${name}': choose from ${Object.keys(SCENARIOS).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== load: ${name} ==  (${new Date().toISOString()})`);
  const ok = await (await load()).default();
  if (ok === false) failed = true;
}
process.exit(failed ? 1 : 0);
