/**
 * `npm run bench -- engines`: the speech engines, as ratios measured in one run.
 *  1. whisper (bench/engines-whisper.ts): real-shaped tiny and base ggml files, 30 s window,
 *     2 threads — the new engine ÷ the old `@fugood` engine when that package is installed
 *     (`npm i --no-save @fugood/whisper.node@1.1.1`), else ÷ the figures measured for it earlier
 *     on this kind of machine (shared/MODELS.md: tiny 14.7–16.5 s, base 38.7–41.3 s per window);
 *     and `/v1/audio/transcriptions` ÷ the engine called directly.
 *  2. sherpa through the speech host ÷ sherpa in-process, the host's per-request overhead, and its
 *     RSS after 200 recognitions of 30 s segments against the ceiling (bench/engines-sherpa.ts).
 *  3. sherpa over HTTP ÷ the engine called directly: `/v1/audio/transcriptions` with
 *     `PARLEY_ASR_ENGINE=sensevoice` and `/v1/audio/speech` with `PARLEY_TTS_ENGINE=kokoro`, on the
 *     tiny fixtures. Their graphs cost next to nothing, so the ratio is mostly Parley's fixed cost
 *     (upload, decoding, VAD, encoding); the milliseconds are printed, and the ratio a real
 *     SenseVoice/Kokoro would see is projected from the published real-time factors (labelled).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { wavHeader } from '../src/audio/encode/wav.js';
import { floatToS16le } from '../src/audio/pcm.js';
import { createSensevoiceEngine } from '../src/engines/asr/sensevoice/index.js';
import { readWav16, SPEECH_FIXTURES } from '../src/engines/asr/test-support.js';
import { createKokoroEngine } from '../src/engines/tts/kokoro/index.js';
import { writeTinyKokoro, writeTinySenseVoice } from '../test/fixtures/models/make-tiny-sherpa.js';
import { startTestServer } from '../test/helpers/server.js';
import sherpaBench, { time as medianMs } from './engines-sherpa.js';
import whisperBench from './engines-whisper.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
/** The old engine's seconds per 30 s window measured earlier (shared/MODELS.md, second round), midpoints. */
const EARLIER_OLD_MS: Record<string, { ms: number; range: string }> = {
  tiny: { ms: 15_600, range: '14.7–16.5 s' },
  base: { ms: 40_000, range: '38.7–41.3 s' },
};
/** Published CPU real-time factors (sherpa-onnx docs, 1 thread) used for the projections only. */
const PUBLISHED_RTF = { sensevoice: 0.109 };

async function sherpaOverHttp(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-engines-'));
  const asrDir = writeTinySenseVoice(path.join(dir, 'sensevoice'));
  const ttsDir = writeTinyKokoro(path.join(dir, 'kokoro'));
  const speech = readWav16(path.join(SPEECH_FIXTURES, 'librivox-0880.wav'));
  const pcm = floatToS16le(speech.samples);
  const wav = Buffer.concat([wavHeader(pcm.length, speech.sampleRate), pcm]);
  const seconds = speech.samples.length / speech.sampleRate;
  const text = 'The quick brown fox jumps over the lazy dog, twice, before breakfast.';
  const server = await startTestServer({ PARLEY_ASR_ENGINE: 'sensevoice', PARLEY_ASR_MODEL: asrDir, PARLEY_TTS_ENGINE: 'kokoro', PARLEY_TTS_MODEL: ttsDir });
  const asr = await createSensevoiceEngine({ model: asrDir, modelsDir: dir, threads: 1 });
  const tts = await createKokoroEngine({ model: ttsDir, modelsDir: dir, concurrency: 1, threads: 1 });
  try {
    const direct = await medianMs(() => asr.transcribe(speech), RUNS);
    const http = await medianMs(async () => {
      const form = new FormData();
      form.set('model', 'whisper-1');
      form.set('file', new Blob([new Uint8Array(wav)]), 'clip.wav');
      const res = await fetch(`${server.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      await res.json();
    }, RUNS);
    const overhead = http - direct;
    const real = PUBLISHED_RTF.sensevoice * seconds * 1000;
    console.log(
      `sherpa ASR, ${seconds.toFixed(1)} s clip, tiny SenseVoice (${RUNS} runs): HTTP ${http.toFixed(1)} ms ÷ engine direct ${direct.toFixed(1)} ms = ${(http / direct).toFixed(2)} ` +
        `(Parley's cost: ${overhead.toFixed(1)} ms per request: upload, decoding, VAD, JSON). Projected for the real SenseVoice-small int8 at its published RTF ${PUBLISHED_RTF.sensevoice}: ` +
        `(${real.toFixed(0)} + ${overhead.toFixed(0)}) ÷ ${real.toFixed(0)} = ${((real + overhead) / real).toFixed(2)}`,
    );
    const directTts = await medianMs(() => tts.synthesize({ text, rendering: { voice: 'af_alloy' }, speed: 1 }), RUNS);
    const httpTts = await medianMs(async () => {
      const res = await fetch(`${server.url}/v1/audio/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: text, response_format: 'wav' }),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }, RUNS);
    console.log(
      `sherpa TTS, one sentence, tiny Kokoro (${RUNS} runs): HTTP ${httpTts.toFixed(1)} ms ÷ engine direct ${directTts.toFixed(1)} ms = ${(httpTts / directTts).toFixed(2)} ` +
        `(Parley's cost: ${(httpTts - directTts).toFixed(1)} ms per request: sentence split, resampling to 24 kHz, watermark, WAV)`,
    );
  } finally {
    await asr.dispose();
    await tts.dispose();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export default async function run(): Promise<void> {
  console.log('-- whisper --');
  const whisper = await whisperBench();
  for (const f of whisper) {
    if (f.old !== null) continue;
    const earlier = EARLIER_OLD_MS[f.shape];
    if (!earlier) continue;
    console.log(
      `  ${f.shape}: @fugood/whisper.node is no dependency any more; new engine ${(f.direct / 1000).toFixed(2)} s ÷ the old engine's earlier measured ${earlier.range} ` +
        `(midpoint ${(earlier.ms / 1000).toFixed(1)} s) = ${(f.direct / earlier.ms).toFixed(3)} (not one run: the old figure is from shared/MODELS.md)`,
    );
  }
  console.log('-- sherpa: speech host ÷ in-process, memory --');
  await sherpaBench();
  console.log('-- sherpa over HTTP ÷ engine direct --');
  await sherpaOverHttp();
}
