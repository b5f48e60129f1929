/**
 * Safety benchmark (`npm run bench -- safety`), ratios measured in one run:
 *  1. A chat turn with every default safety layer (word list, self-harm phrases, watermark) ÷ the
 *     same turn with the filters and the watermark off (target ≤ 1.05), and with the filters alone.
 *     The language model is scripted (the same ~10 s reply every time) so the ratio shows what
 *     safety adds to the rest of the turn (reply gate, flite synthesis, encoding, HTTP), not the
 *     noise of a model's generation: a spoken reply with an instant model; a text reply with the
 *     model writing at a small local model's pace (a word every 25 ms); and a text reply with an
 *     instant model (the worst case: nothing else takes time). The three settings run in a
 *     shuffled order each round so a load change on a shared machine hits all of them.
 *  2. Watermark embedding time ÷ flite synthesis time of a ~10 s reply (target ≤ 0.10), and the
 *     watermark SNR per flite voice. Both as wall time and as CPU time of the process (flite runs
 *     in a worker thread of it): on a loaded shared machine the CPU ratio is the steadier one.
 *  3. Detection time per minute of audio.
 *  4. The null distribution of the detector on human speech (whole recordings, their 3 s windows
 *     and MP3 copies): the test fixtures, or every WAV in BENCH_WATERMARK_NULL_DIR.
 *  5. What the mark survives: each attack on each flite voice, whole and cut to 3 s.
 * BENCH_RUNS (default 5) sets the rounds; each layer's own cost: `npm run bench -- safety-layers`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudio } from '../src/audio/decode/index.js';
import { resample } from '../src/audio/resample.js';
import { OUTPUT_SAMPLE_RATE } from '../src/audio/types.js';
import type { LlmEngine, LlmGenerateOptions } from '../src/engines/llm/types.js';
import type { SafetyChecker } from '../src/safety/checker.js';
import { MarkEmbedder, markPattern, markSnrDb, responseTag } from '../src/safety/watermark/mark.js';
import { DETECTION_THRESHOLD, Watermarker } from '../src/safety/watermark/watermarker.js';
import { startTestServer } from '../test/helpers/server.js';
import { crop, MAY_FAIL, SURVIVES } from '../test/helpers/watermark-attacks.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REPLY =
  'The weather today is mild, with a light breeze from the west. Later this afternoon clouds will gather over the hills, and by the evening a little rain may fall on the town.';
const FLITE_VOICES = { alloy: 'slt', echo: 'rms', fable: 'awb', onyx: 'kal16', cedar: 'kal' } as const;
/** User + system CPU time of the process (all its threads: flite synthesises in a worker thread), ms. */
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** An LLM that answers `text`, instantly or `msPerWord` apart (a small local model writes ~40 tokens/s here). */
function scriptedLlm(text: string, pace: { msPerWord: number }): LlmEngine {
  return {
    id: 'scripted',
    model: 'scripted',
    async generate(o: LlmGenerateOptions) {
      for (const word of text.match(/\S+\s*/g) ?? []) {
        if (pace.msPerWord > 0) await new Promise((r) => setTimeout(r, pace.msPerWord));
        o.onText?.(word);
      }
      return { text, toolCalls: [], finishReason: 'stop' as const, usage: { promptTokens: 5, completionTokens: 30, cachedTokens: 0 } };
    },
    countTokens: async (t: string) => Math.ceil(t.length / 4),
    dispose: async () => undefined,
  };
}

/** A checker that checks nothing (the "filters off" side): every call answers what the real one answers for harmless text. */
async function passThrough(real: SafetyChecker): Promise<SafetyChecker> {
  const prompt = await real.checkPrompt(['hello']);
  const reply = await real.checkReply('hello');
  return { ...real, checkPrompt: async () => prompt, checkReply: async () => reply };
}

export default async function run(): Promise<void> {
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.availableParallelism()} cores`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-safety-'));
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ tts: { voices: { onyx: { voice: 'kal16' }, cedar: { voice: 'kal' } } } }));
  const server = await startTestServer({ PARLEY_CONFIG: config, PARLEY_CONCURRENCY: '2' });
  try {
    const engines = server.runtime.services.engines() as unknown as { llm: () => Promise<LlmEngine>; safety: SafetyChecker; watermark: Watermarker };
    const pace = { msPerWord: 0 };
    engines.llm = async () => scriptedLlm(REPLY, pace);
    const realSafety = engines.safety;
    const realWatermark = engines.watermark;
    const noFilters = await passThrough(realSafety);
    const noWatermark = new Watermarker({ key: new Uint8Array(32), enabled: false, registry: { put: () => undefined, tags: () => [], find: () => undefined } });
    const set = (filters: boolean, watermark: boolean) => {
      engines.safety = filters ? realSafety : noFilters;
      engines.watermark = watermark ? realWatermark : noWatermark;
    };
    const turn = async (audio: boolean) => {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini-audio-preview',
          messages: [{ role: 'user', content: 'What is the weather like today? Please answer in a few sentences.' }],
          ...(audio ? { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } } : {}),
        }),
      });
      if (!res.ok) throw new Error(`chat turn failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    /** Wall time and CPU time (all threads of the process: the server, flite's workers) of one call. */
    const timed = async (fn: () => Promise<void>) => {
      const t = performance.now();
      const c = process.cpuUsage();
      await fn();
      return { wall: performance.now() - t, cpu: cpuMs(process.cpuUsage(c)) };
    };

    // 1. Chat turn: defaults ÷ off, the three settings in a shuffled order each round.
    const settings = [
      { name: 'defaults', filters: true, watermark: true },
      { name: 'filters only', filters: true, watermark: false },
      { name: 'off', filters: false, watermark: false },
    ] as const;
    for (const [audio, msPerWord] of [
      [true, 0],
      [false, 25],
      [false, 0],
    ] as const) {
      pace.msPerWord = msPerWord;
      const times: Record<string, number[]> = { defaults: [], 'filters only': [], off: [] };
      const cpu: Record<string, number[]> = { defaults: [], 'filters only': [], off: [] };
      const rounds = audio || msPerWord > 0 ? 3 * RUNS : 20 * RUNS;
      for (let r = -1; r < rounds; r++) {
        const order = [...settings].sort(() => Math.random() - 0.5);
        for (const s of order) {
          set(s.filters, s.watermark);
          const ms = await timed(() => turn(audio));
          if (r >= 0) times[s.name]!.push(ms.wall);
          if (r >= 0) cpu[s.name]!.push(ms.cpu);
        }
      }
      const [on, filtersOnly, off] = [median(times.defaults!), median(times['filters only']!), median(times.off!)];
      const [onCpu, filtersCpu, offCpu] = [median(cpu.defaults!), median(cpu['filters only']!), median(cpu.off!)];
      console.log(
        `chat turn (${audio ? 'spoken reply, wav' : 'text only'}, model ${msPerWord > 0 ? `writing a word every ${msPerWord} ms` : 'instant'}, ${rounds} rounds): defaults ${on.toFixed(1)} ms, filters only ${filtersOnly.toFixed(1)} ms, off ${off.toFixed(1)} ms` +
          `   defaults ÷ off ${(on / off).toFixed(3)}   filters ÷ off ${(filtersOnly / off).toFixed(3)};` +
          `   CPU ${onCpu.toFixed(1)} / ${filtersCpu.toFixed(1)} / ${offCpu.toFixed(1)} ms: defaults ÷ off ${(onCpu / offCpu).toFixed(3)}   filters ÷ off ${(filtersCpu / offCpu).toFixed(3)}   (target ≤ 1.05)`,
      );
    }
    set(true, true);
    pace.msPerWord = 0;

    // 2. Embedding ÷ synthesis, and SNR, per flite voice.
    const key = new Uint8Array(32).fill(9);
    const pattern = markPattern(key);
    const marked: { voice: string; samples: Float32Array }[] = [];
    const ratios: number[] = [];
    for (const [voice, engineVoice] of Object.entries(FLITE_VOICES)) {
      const synth: number[] = [];
      const embed: number[] = [];
      const synthCpu: number[] = [];
      const embedCpu: number[] = [];
      let at24k: Float32Array = new Float32Array(0);
      for (let r = -1; r < RUNS; r++) {
        const t = performance.now();
        const c = process.cpuUsage();
        const pcm = await server.runtime.services.engines().speaker.synthesize({ text: REPLY, voice, speed: 1, language: null });
        const s = performance.now() - t;
        const sc = cpuMs(process.cpuUsage(c));
        at24k = pcm.sampleRate === OUTPUT_SAMPLE_RATE ? pcm.samples : resample(pcm, OUTPUT_SAMPLE_RATE).samples;
        const embedder = new MarkEmbedder(pattern, responseTag(key, `bench-${voice}-${r}`), realWatermark.strength);
        const t2 = performance.now();
        const c2 = process.cpuUsage();
        const out = embedder.mark(at24k);
        const e = performance.now() - t2;
        const ec = cpuMs(process.cpuUsage(c2));
        if (r < 0) continue;
        synth.push(s);
        embed.push(e);
        synthCpu.push(sc);
        embedCpu.push(ec);
        if (r === 0) marked.push({ voice, samples: out });
        if (r === 0)
          console.log(`  ${voice} (${engineVoice}): ${(at24k.length / OUTPUT_SAMPLE_RATE).toFixed(1)} s, watermark SNR ${markSnrDb(at24k, out).toFixed(1)} dB`);
      }
      ratios.push(median(embedCpu) / median(synthCpu));
      console.log(
        `watermark embed ÷ flite synthesis, ${voice} (${engineVoice}): wall ${median(embed).toFixed(1)} ÷ ${median(synth).toFixed(0)} ms = ${(median(embed) / median(synth)).toFixed(3)}, ` +
          `CPU ${median(embedCpu).toFixed(1)} ÷ ${median(synthCpu).toFixed(0)} ms = ${(median(embedCpu) / median(synthCpu)).toFixed(3)}   (target ≤ 0.10)`,
      );
    }
    console.log(`watermark embed ÷ synthesis (CPU), median over voices: ${median(ratios).toFixed(3)} (strength ${realWatermark.strength} neper)`);

    // 3. Detection time per minute.
    const minute = new Float32Array(60 * OUTPUT_SAMPLE_RATE);
    for (let at = 0, i = 0; at < minute.length; i++) {
      const piece = marked[i % marked.length]!.samples.subarray(0, minute.length - at);
      minute.set(piece, at);
      at += piece.length;
    }
    const detect: number[] = [];
    const detectCpu: number[] = [];
    for (let r = -1; r < RUNS; r++) {
      const ms = await timed(async () => void realWatermark.verify(minute, OUTPUT_SAMPLE_RATE));
      if (r >= 0) detect.push(ms.wall);
      if (r >= 0) detectCpu.push(ms.cpu);
    }
    console.log(
      `detection: ${median(detect).toFixed(0)} ms wall, ${median(detectCpu).toFixed(0)} ms CPU per minute of audio (24 kHz input; 16 kHz input adds the resampling)`,
    );

    // 4. Null distribution on human speech.
    const nullDir = process.env.BENCH_WATERMARK_NULL_DIR ?? path.resolve(import.meta.dirname, '../test/fixtures/speech');
    const scores: number[] = [];
    let worst = { score: Number.NEGATIVE_INFINITY, clip: '' };
    const files = fs.readdirSync(nullDir).filter((f) => f.endsWith('.wav'));
    for (const file of files) {
      const decoded = await decodeAudio(fs.readFileSync(path.join(nullDir, file)), { param: 'file' });
      const { samples, sampleRate } = decoded;
      const clips: [string, Float32Array, number][] = [[file, samples, sampleRate]];
      const mp3 = SURVIVES.find((a) => a.name.startsWith('mp3'))!.apply(samples, sampleRate);
      clips.push([`${file} as mp3`, mp3.samples, mp3.sampleRate]);
      for (let t = 0; t + 3 <= samples.length / sampleRate; t += 1.5) clips.push([`${file} from ${t} s`, crop(samples, sampleRate, t), sampleRate]);
      for (const [name, clip, rate] of clips) {
        const v = realWatermark.verify(clip, rate);
        scores.push(v.score);
        if (v.score > worst.score) worst = { score: v.score, clip: name };
      }
    }
    scores.sort((a, b) => a - b);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    console.log(
      `null (unmarked human speech, ${files.length} recordings from ${nullDir}): ${scores.length} clips, score mean ${mean.toFixed(2)}, ` +
        `99th percentile ${scores[Math.floor(scores.length * 0.99)]!.toFixed(2)}, highest ${worst.score.toFixed(2)} (${worst.clip}); ` +
        `threshold ${DETECTION_THRESHOLD}: ${scores.filter((s) => s >= DETECTION_THRESHOLD).length} false detections`,
    );

    // 5. What it survives.
    console.log('attack | found (whole) | found (3 s cuts) | response named (whole) | score range');
    for (const attack of [...SURVIVES, ...MAY_FAIL]) {
      let whole = 0;
      let named = 0;
      let cuts = 0;
      let cutCount = 0;
      const range: number[] = [];
      for (const { voice, samples } of marked) {
        const tag = responseTag(key, `bench-${voice}-0`);
        const registry = {
          put: () => undefined,
          tags: () => [tag],
          find: () => ({ tag, responseId: voice, owner: null, model: 'tts-1', voice, createdAt: 0 }),
        };
        const verifier = new Watermarker({ key, enabled: true, registry });
        const v = verifier.verify(...(Object.values(attack.apply(samples, OUTPUT_SAMPLE_RATE)) as [Float32Array, number]));
        range.push(v.score);
        if (v.watermarked) whole++;
        if (v.response?.responseId === voice) named++;
        const seconds = samples.length / OUTPUT_SAMPLE_RATE;
        for (const start of [0.3, seconds / 2 - 1.5, seconds - 3.3]) {
          const cut = attack.apply(crop(samples, OUTPUT_SAMPLE_RATE, start), OUTPUT_SAMPLE_RATE);
          const c = verifier.verify(cut.samples, cut.sampleRate);
          cutCount++;
          if (c.watermarked) cuts++;
          range.push(c.score);
        }
      }
      console.log(
        `${attack.name} | ${whole}/${marked.length} | ${cuts}/${cutCount} | ${named}/${marked.length} | ${Math.min(...range).toFixed(1)}–${Math.max(...range).toFixed(1)}`,
      );
    }
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
