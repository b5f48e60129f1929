// Child process of crash.test.ts: writes to a store as fast as it can and reports each write on
// stdout only after it has committed, until the parent kills it with SIGKILL. Not a test itself.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { hashApiKey } from '../../src/store/context.js';
import { openStore } from '../../src/store/db.js';

const dataDir = process.argv[2];
const round = process.argv[3] ?? '0';
if (!dataDir) throw new Error('usage: crash-child.ts DATA_DIR ROUND');

const store = openStore({ dataDir });
const key = hashApiKey('sk-crash');
const say = (line: string): void => {
  fs.writeSync(1, `${line}\n`); // synchronous: the parent sees it before the next write starts
};
const insertRow = store.db.prepare(
  `INSERT INTO usage_events (request_id, api_key_hash, endpoint, model, prompt_text_tokens, prompt_audio_tokens,
     completion_text_tokens, completion_audio_tokens, cached_tokens, audio_in_sec, audio_out_sec, created_at)
   VALUES (?, ?, '/v1/batches', 'm', 1, 0, 0, 0, 0, 0, 0, 0)`,
);

say('ready');
for (let i = 0; ; i++) {
  const id = `r${round}-u${i}`;
  store.usage.record({
    requestId: id,
    owner: key,
    endpoint: '/v1/chat/completions',
    model: 'gpt-4o-mini-audio-preview',
    promptTextTokens: 1,
    promptAudioTokens: 2,
    completionTextTokens: 3,
    completionAudioTokens: 4,
    cachedTokens: 0,
    audioInSec: 0.2,
    audioOutSec: 0.2,
    createdAt: i,
  });
  say(`U ${id}`);

  const audio = store.audio.put({ format: 'wav', data: new Uint8Array(2048).fill(i % 256), transcript: `t${i}`, owner: key });
  say(`A ${audio.id} t${i}`);

  if (i % 3 === 0) {
    // A large durable transaction: after the kill it must be there entirely or not at all.
    const batch = `r${round}-b${i}`;
    store.durable(() => {
      for (let j = 0; j < 200; j++) insertRow.run(`${batch}-${j}`, key);
    });
    say(`B ${batch}`);
  }

  if (i % 10 === 0) {
    const content = `line ${i}\n`.repeat(2000);
    const f = await store.files.create({ purpose: 'batch', filename: `in-${i}.jsonl`, stream: Readable.from([Buffer.from(content)]), apiKeyHash: key });
    say(`F ${f.id} ${i}`);
  }
}
