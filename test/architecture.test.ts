import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

/**
 * The layers of src/ point one way: http → pipeline → engines → audio, with store below and lib/
 * (limiter, lazy loader, signals) a leaf every layer may use; runtime/ is the composition root
 * that builds the services, and batch/ and cli/ sit on top. This test reads every import of every
 * source file and fails on an arrow that points the wrong way.
 */

const SRC = path.resolve(import.meta.dirname, '..', 'src');

/** Folders a layer must never import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  lib: ['http', 'pipeline', 'engines', 'audio', 'store', 'runtime', 'batch', 'cli', 'config', 'safety'],
  audio: ['http', 'pipeline', 'engines', 'store', 'runtime', 'batch', 'cli'],
  store: ['http', 'pipeline', 'engines', 'runtime', 'batch', 'cli'],
  engines: ['http', 'pipeline', 'runtime', 'batch', 'cli', 'store'],
  pipeline: ['http', 'runtime', 'batch', 'cli'],
  config: ['http', 'pipeline', 'engines', 'audio', 'store', 'runtime', 'batch', 'cli'],
  safety: ['http', 'pipeline', 'runtime', 'batch', 'cli', 'store'],
  keys: ['http', 'pipeline', 'engines', 'audio', 'runtime', 'batch', 'cli', 'safety'],
  runtime: ['http', 'cli'],
  http: ['cli'],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.startsWith('test-') ? [full] : [];
  });
}

/** The src/ folders a file imports from (relative imports only). */
function importedLayers(file: string): Array<{ layer: string; spec: string }> {
  const text = fs.readFileSync(file, 'utf8');
  const out: Array<{ layer: string; spec: string }> = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = path.resolve(path.dirname(file), m[1]!);
    const rel = path.relative(SRC, target);
    if (rel.startsWith('..')) continue;
    out.push({ layer: rel.split(path.sep)[0]!, spec: m[1]! });
  }
  return out;
}

test('no layer imports one it must not (http → pipeline → engines → audio; store and lib below)', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const layer = path.relative(SRC, file).split(path.sep)[0]!;
    for (const { layer: target, spec } of importedLayers(file)) {
      if (FORBIDDEN[layer]?.includes(target)) violations.push(`${path.relative(SRC, file)} imports ${spec} (${layer} → ${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('no route file is used as a helper library by other files', () => {
  const routes = path.join(SRC, 'http', 'routes');
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const { spec } of importedLayers(file)) {
      const target = path.resolve(path.dirname(file), spec);
      if (path.dirname(target) !== routes) continue;
      const from = path.relative(SRC, file);
      // The server mounts the routes; Azure mounts the OpenAI route families under its prefix; a route may use its own params file.
      const allowed =
        from === path.join('http', 'server.ts') ||
        from === path.join('http', 'routes', 'azure.ts') ||
        target.replace(/\.js$/, '') === `${file.replace(/\.ts$/, '')}-params`;
      if (!allowed) violations.push(`${from} imports ${spec}`);
    }
  }
  assert.deepEqual(violations, []);
});
