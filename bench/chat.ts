/**
 * Chat benchmark (`npm run bench -- chat`), on a random-weight GGUF with Qwen2.5-0.5B's shape (so
 * the speed is real; the text is nonsense):
 *  1. Tokens/s through Parley (POST /v1/chat/completions, text; includes prompt evaluation and
 *     HTTP) ÷ node-llama-cpp called directly (sequence.evaluate, same file, threads and context
 *     size). Target ≥ 0.90.
 *  2. Streaming with audio (pcm16): time to the first audio byte ÷ total time, for an answer of
 *     about 3 sentences. Target ≤ 0.35.
 *  3. Non-streaming spoken question → spoken answer: end-to-end wall time ÷ the sum of the stages
 *     timed alone (understanding, generation, synthesis, encoding). Target ≤ 1.10.
 * The model file is cached under bench/.tmp/ (about 160 MB, written once).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudio } from '../src/audio/decode/index.js';
import { encodeAll } from '../src/audio/encode/index.js';
import { concatFloat32 } from '../src/audio/pcm.js';
import { resample } from '../src/audio/resample.js';
import { buildLlmMessages } from '../src/pipeline/chat/prompt.js';
import { splitSentences } from '../src/pipeline/sentences.js';
import { QWEN25_05B_SHAPE, writeTinyGguf } from '../test/fixtures/models/make-tiny-gguf.js';
import { startTestServer } from '../test/helpers/server.js';

const TMP = path.resolve(import.meta.dirname, '.tmp');
const MODEL_FILE = path.join(TMP, 'qwen2.5-0.5b-shape-random-q8_0-v3.gguf');
const TOKENS = Number(process.env.BENCH_TOKENS ?? 64);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function ensureModel(): void {
  if (fs.existsSync(MODEL_FILE)) return;
  fs.mkdirSync(TMP, { recursive: true });
  console.log('writing the benchmark model (Qwen2.5-0.5B shape, random q8_0 weights)…');
  // '.' and ' I' made likelier so answers have sentences (random text has no capitals otherwise);
  // end tokens rare so lengths are what we ask.
  writeTinyGguf(MODEL_FILE, { ...QWEN25_05B_SHAPE, type: 'q8_0', rareEnd: true, asciiOnly: true, outputScale: { '.': 4, '▁I': 5 } });
}

export default async function run(): Promise<void> {
  ensureModel();
  const server = await startTestServer({ PARLEY_LLM_MODEL: MODEL_FILE, PARLEY_ASR_ENGINE: 'pocketsphinx', PARLEY_CONCURRENCY: '2' });
  const { getLlama } = await import('node-llama-cpp');
  // The same thread count as Parley's engine uses (1 on 2 cores, measured fastest).
  const threads = os.availableParallelism() <= 2 ? 1 : Math.floor(os.availableParallelism() / 2);
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, progressLogs: false, maxThreads: threads });
  const model = await llama.loadModel({ modelPath: MODEL_FILE });
  const question = 'Tell me about the weather today.';
  try {
    const engine = await server.runtime.services.engines().llm();
    const context = await model.createContext({ contextSize: Math.min(model.trainContextSize, 8192), sequences: 1, threads });
    const post = (body: Record<string, unknown>) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini-audio-preview', ...body }),
      });

    // 1. Tokens/s, interleaved runs.
    await (await post({ messages: [{ role: 'user', content: question }], max_tokens: 8 })).json();
    // node-llama-cpp at its most direct: one sequence, evaluate() yielding sampled tokens.
    const generateDirect = async (seed: number, count: number) => {
      const sequence = context.getSequence();
      let n = 0;
      const t = performance.now();
      for await (const _token of sequence.evaluate(model.tokenize(question), { temperature: 1, seed })) {
        if (++n >= count) break;
      }
      const seconds = (performance.now() - t) / 1000;
      sequence.dispose();
      return n / seconds;
    };
    await generateDirect(99, 8);
    const direct: number[] = [];
    const viaHttp: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      direct.push(await generateDirect(r, TOKENS));
      const t = performance.now();
      const res = (await (await post({ messages: [{ role: 'user', content: question }], max_tokens: TOKENS, seed: r })).json()) as {
        usage: { completion_tokens: number };
      };
      viaHttp.push(res.usage.completion_tokens / ((performance.now() - t) / 1000));
    }
    await context.dispose();
    console.log(`model: Qwen2.5-0.5B shape, random q8_0, ${threads} thread(s) on both sides; ${TOKENS} tokens, ${RUNS} runs`);
    console.log(
      `tokens/s direct ${median(direct).toFixed(1)}   through Parley ${median(viaHttp).toFixed(1)}   ratio ${(median(viaHttp) / median(direct)).toFixed(2)}   (target ≥ 0.90)`,
    );

    // 2. Streaming: time to first audio byte ÷ total, answer of ~3 sentences.
    const ttfa: number[] = [];
    let sentences = 0;
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      const res = await post({
        modalities: ['text', 'audio'],
        audio: { voice: 'alloy', format: 'pcm16' },
        messages: [{ role: 'user', content: question }],
        max_tokens: 72,
        seed: 11,
        stream: true,
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let first = 0;
      let text = '';
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (!line.startsWith('data: {')) continue;
          const audio = JSON.parse(line.slice(6)).choices?.[0]?.delta?.audio;
          if (audio?.data && first === 0) first = performance.now() - t;
          if (audio?.transcript) text += audio.transcript;
        }
      }
      ttfa.push(first / (performance.now() - t));
      sentences = splitSentences(text).length;
    }
    console.log(`streaming audio: first audio byte ÷ total = ${median(ttfa).toFixed(3)} for a ${sentences}-sentence answer   (target ≤ 0.35)`);

    // 3. Non-streaming end to end vs the stages alone.
    const wav = fs.readFileSync(path.resolve(import.meta.dirname, '../test/fixtures/speech/librivox-0880.wav'));
    const s = server.runtime.services.engines();
    const e2e: number[] = [];
    const stages: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      // Stages alone, in order, each with what the previous produced.
      let t = performance.now();
      const pcm = await decodeAudio(wav, { param: 'x' });
      const { understandAudio } = await import('../src/pipeline/understand.js');
      const u = await understandAudio(s, pcm);
      const tUnderstand = performance.now() - t;
      const built = buildLlmMessages([{ role: 'user', parts: [{ type: 'audio', pcm, digest: `bench-${r}`, param: 'x' }] }], new Map([[`bench-${r}`, u]]), {
        speaks: true,
      });
      t = performance.now();
      const answer = await engine.generate({ messages: built.messages, maxTokens: 48, seed: 11 });
      const tGenerate = performance.now() - t;
      t = performance.now();
      const spoken: Float32Array[] = [];
      for (const sentence of splitSentences(answer.text)) {
        const audio = await s.speaker.synthesize({ text: sentence, voice: 'alloy', speed: 1, language: null });
        spoken.push(resample(audio, 24_000).samples);
      }
      const tSpeak = performance.now() - t;
      t = performance.now();
      await encodeAll('mp3', concatFloat32(spoken));
      const tEncode = performance.now() - t;
      stages.push(tUnderstand + tGenerate + tSpeak + tEncode);
      // The same through Parley (a fresh digest each run: the understanding cache must not help).
      const fresh = Buffer.concat([wav, Buffer.alloc(2 * (r + 1))]);
      fresh.writeUInt32LE(fresh.length - 44, 40);
      fresh.writeUInt32LE(fresh.length - 8, 4);
      const body = {
        modalities: ['text', 'audio'],
        audio: { voice: 'alloy', format: 'mp3' },
        messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: fresh.toString('base64'), format: 'wav' } }] }],
        max_tokens: 48,
        seed: 11,
      };
      t = performance.now();
      await (await post(body)).json();
      e2e.push(performance.now() - t);
    }
    console.log(
      `spoken question → spoken answer (mp3): end to end ${median(e2e).toFixed(0)} ms ÷ stages alone ${median(stages).toFixed(0)} ms = ${(median(e2e) / median(stages)).toFixed(2)}   (target ≤ 1.10)`,
    );
  } finally {
    await model.dispose();
    await llama.dispose();
    await server.close();
  }
}
