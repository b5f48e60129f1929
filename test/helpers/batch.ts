import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { toFile } from 'openai';

/** One batch input line. */
export interface InputLine {
  custom_id: string;
  method: 'POST';
  url: string;
  body: Record<string, unknown>;
}

/** A parsed output/error-file line. */
export interface OutputLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: any } | null;
  error: { code: string; message: string } | null;
}

const TERMINAL = ['completed', 'failed', 'expired', 'cancelled'];

/** `n` short speech lines, `s-0` … `s-(n-1)`. */
export function speechLines(n: number, text = (i: number) => `Line number ${i}.`, format = 'wav'): InputLine[] {
  return Array.from({ length: n }, (_, i) => ({
    custom_id: `s-${i}`,
    method: 'POST',
    url: '/v1/audio/speech',
    body: { model: 'tts-1', voice: 'alloy', input: text(i), response_format: format },
  }));
}

/** Uploads the lines (plus any raw extra lines) as a batch file and creates the batch. */
export async function submitBatch(
  client: OpenAI,
  lines: Array<InputLine | string>,
  endpoint: string,
  options: { window?: string; metadata?: Record<string, string> } = {},
) {
  const text = `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;
  const file = await client.files.create({ file: await toFile(Buffer.from(text), 'requests.jsonl'), purpose: 'batch' });
  return client.batches.create({
    input_file_id: file.id,
    endpoint: endpoint as '/v1/chat/completions',
    completion_window: (options.window ?? '24h') as '24h',
    metadata: options.metadata,
  });
}

/** Polls until `until(batch)` holds (default: a terminal status). */
export async function waitForBatch(
  client: OpenAI,
  id: string,
  until: (b: OpenAI.Batches.Batch) => boolean = (b) => TERMINAL.includes(b.status),
  timeoutMs = 60_000,
): Promise<OpenAI.Batches.Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await client.batches.retrieve(id);
    if (until(b)) return b;
    if (Date.now() > deadline) assert.fail(`batch ${id} still ${b.status} (${JSON.stringify(b.request_counts)}) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The lines of a result file (empty when there is no file). */
export async function readResults(client: OpenAI, fileId: string | null | undefined): Promise<OutputLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  assert.ok(text.length === 0 || text.endsWith('\n'), 'a result file ends with a newline');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as OutputLine);
}

/** Asserts every expected custom_id appears exactly once across the output and error files. */
export function assertEachOnce(expected: string[], ...files: OutputLine[][]): void {
  const seen = new Map<string, number>();
  for (const line of files.flat()) {
    if (line.custom_id === null) continue;
    seen.set(line.custom_id, (seen.get(line.custom_id) ?? 0) + 1);
  }
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(twice, [], `custom_ids written more than once: ${twice.join(', ')}`);
  const missing = expected.filter((id) => !seen.has(id));
  assert.deepEqual(missing, [], `custom_ids missing: ${missing.slice(0, 20).join(', ')}`);
  const extra = [...seen.keys()].filter((id) => !expected.includes(id));
  assert.deepEqual(extra, [], `unexpected custom_ids: ${extra.join(', ')}`);
}
