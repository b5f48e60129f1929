/**
 * Transcription benchmark (`npm run bench -- transcribe`), on the real recordings in
 * test/fixtures/speech (16 kHz LibriVox lines) and one long file made of them (> 30 s, so VAD
 * windowing is exercised):
 *  1. RTF of POST /v1/audio/transcriptions over HTTP ÷ RTF of the same engine (pocketsphinx)
 *     called directly in-process on the same audio. Target ≤ 1.10.
 *  2. Word error rate of Parley (VAD + windows + pocketsphinx) vs `pocketsphinx_continuous` run
 *     directly on the same files. Parley must be equal or better.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudio } from '../src/audio/decode/index.js';
import { wavHeader } from '../src/audio/encode/wav.js';
import { createAsrEngine } from '../src/engines/asr/registry.js';
import { corpusWer } from '../src/engines/asr/wer.js';
import { startTestServer } from '../test/helpers/server.js';

const SPEECH = path.resolve(import.meta.dirname, '../test/fixtures/speech');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function wav16(pcm: Buffer): Buffer {
  return Buffer.concat([wavHeader(pcm.length, 16_000), pcm]);
}

export default async function run(): Promise<void> {
  const transcripts = new Map(
    fs
      .readFileSync(path.join(SPEECH, 'transcripts.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t') as [string, string]),
  );
  const files = [...transcripts.keys()].filter((f) => f.startsWith('librivox-'));
  const items: Array<{ name: string; bytes: Buffer; reference: string }> = files.map((f) => ({
    name: f,
    bytes: fs.readFileSync(path.join(SPEECH, f)),
    reference: transcripts.get(f)!,
  }));
  // A long file: every line, twice, with 1.5 s pauses (about 40 s).
  const pause = Buffer.alloc(16_000 * 3);
  const longPcm = Buffer.concat([...items, ...items].flatMap((i) => [i.bytes.subarray(44), pause]));
  items.push({ name: 'long (all lines twice)', bytes: wav16(longPcm), reference: [...items, ...items].map((i) => i.reference).join(' ') });

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  const server = await startTestServer({ PARLEY_ASR_ENGINE: 'pocketsphinx' });
  const engine = await createAsrEngine('pocketsphinx', { modelsDir: server.config.modelsDir!, threads: 1 });
  try {
    const decoded = await Promise.all(items.map((i) => decodeAudio(i.bytes, { param: 'file' })));
    const audioSec = decoded.reduce((s, d) => s + d.durationSec, 0);
    const post = async (bytes: Buffer, name: string) => {
      const form = new FormData();
      form.set('model', 'whisper-1');
      form.set('file', new Blob([new Uint8Array(bytes)]), `${name.replace(/\W+/g, '_')}.wav`);
      const res = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
      return ((await res.json()) as { text: string }).text;
    };
    await post(items[0]!.bytes, 'warm');
    await engine.transcribe(decoded[0]!);

    const direct: number[] = [];
    const http: number[] = [];
    let parleyHyp: string[] = [];
    for (let r = 0; r < RUNS; r++) {
      let t = performance.now();
      for (const d of decoded) await engine.transcribe(d);
      direct.push(performance.now() - t);
      t = performance.now();
      const hyps = [];
      for (const i of items) hyps.push(await post(i.bytes, i.name));
      http.push(performance.now() - t);
      parleyHyp = hyps;
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rtfDirect = median(direct) / 1000 / audioSec;
    const rtfHttp = median(http) / 1000 / audioSec;
    console.log(`${items.length} files, ${audioSec.toFixed(1)} s of real speech, ${RUNS} runs`);
    console.log(
      `pocketsphinx direct RTF: ${rtfDirect.toFixed(3)}   HTTP RTF: ${rtfHttp.toFixed(3)}   ratio HTTP/direct: ${(rtfHttp / rtfDirect).toFixed(2)}   (target ≤ 1.10)`,
    );

    const cliHyp = items.map((i) => {
      const file = path.join(tmp, 'x.wav');
      fs.writeFileSync(file, i.bytes);
      const out = execFileSync('pocketsphinx_continuous', ['-infile', file, '-logfn', '/dev/null'], { encoding: 'utf8' });
      return out.trim().split('\n').join(' ');
    });
    const pairs = (hyps: string[]) => items.map((i, k) => ({ reference: i.reference, hypothesis: hyps[k]! }));
    const werParley = corpusWer(pairs(parleyHyp));
    const werCli = corpusWer(pairs(cliHyp));
    console.log(`WER Parley (VAD + windows + pocketsphinx): ${werParley.toFixed(3)}   pocketsphinx_continuous: ${werCli.toFixed(3)}   (Parley must be ≤)`);
  } finally {
    await engine.dispose();
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
