/**
 * Speech benchmark (`npm run bench -- speech`):
 *  1. RTF of POST /v1/audio/speech end to end over HTTP ÷ RTF of the same engine called directly
 *     in-process (same text, same voice rendering), per output format. Target ≤ 1.10.
 *  2. Streaming: time to the first audio byte ÷ time to the whole response, 5-sentence text.
 *     Target ≤ 0.35.
 * Runs are interleaved and the median of each is used, so both sides see the same machine load.
 * The server watermarks every voice as shipped; `BENCH_WATERMARK=off` measures it without (the
 * mark's own cost is then the difference of the two runs; `npm run bench -- safety` measures it alone).
 */
import { createTtsEngine, resolveTtsEngine } from '../src/engines/tts/registry.js';
import { startTestServer } from '../test/helpers/server.js';

const TEXT = [
  'Parley turns text into speech on your own machine, with the voices you already know.',
  'Nothing leaves the server, and the answer starts to play before it is finished.',
  'Each sentence is synthesised in order while the previous one is being sent.',
  'The client can cancel at any time, and the work stops at once.',
  'This is the fifth and final sentence of the benchmark text.',
].join(' ');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const VOICE = 'alloy';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function run(): Promise<void> {
  const watermark = process.env.BENCH_WATERMARK === 'off' ? 'off' : 'on';
  const server = await startTestServer({ PARLEY_LOG_LEVEL: 'silent', PARLEY_WATERMARK: watermark });
  const engine = await createTtsEngine(
    // The engine the server's TTS setting resolves to (auto: the best installed; flite here).
    (await resolveTtsEngine(server.config.tts.engine, { modelsDir: server.config.modelsDir!, concurrency: 1 })).id,
    { modelsDir: server.config.modelsDir!, concurrency: 1 },
  );
  const rendering = engine.defaultVoiceMap()[VOICE]!;
  const post = (format: string) =>
    fetch(`${server.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: VOICE, input: TEXT, response_format: format }),
    });
  try {
    // Warm both paths (worker start, codec load).
    await engine.synthesize({ text: TEXT, rendering, speed: 1 });
    for (const f of ['pcm', 'wav', 'mp3', 'opus']) await (await post(f)).arrayBuffer();

    const direct: number[] = [];
    const http: Record<string, number[]> = { pcm: [], wav: [], mp3: [], opus: [] };
    const ttfb: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      const pcm = await engine.synthesize({ text: TEXT, rendering, speed: 1 });
      direct.push((performance.now() - t) / 1000 / (pcm.samples.length / pcm.sampleRate));
      for (const format of Object.keys(http)) {
        t = performance.now();
        const res = await post(format);
        const reader = res.body!.getReader();
        let first = 0;
        let bytes = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (first === 0) first = performance.now() - t;
          bytes += value.length;
        }
        const total = performance.now() - t;
        // Audio length of the response: exact for pcm; the others say the same text in the same voice.
        if (format === 'pcm') http.pcm!.push(total / 1000 / (bytes / 48_000));
        else http[format]!.push(total / 1000);
        if (format === 'wav') ttfb.push(first / total);
      }
    }
    const pcmSeconds = await (async () => {
      const res = await post('pcm');
      return (await res.arrayBuffer()).byteLength / 48_000;
    })();
    const rtfDirect = median(direct);
    console.log(
      `text: ${TEXT.length} chars, 5 sentences, voice ${VOICE} (${engine.id} ${rendering.voice}), ${pcmSeconds.toFixed(2)} s of audio, ${RUNS} runs, watermark ${watermark}`,
    );
    console.log(`engine direct RTF: ${rtfDirect.toFixed(4)}`);
    for (const format of Object.keys(http)) {
      const rtf = format === 'pcm' ? median(http.pcm!) : median(http[format]!) / pcmSeconds;
      console.log(
        `HTTP ${format.padEnd(4)} RTF: ${rtf.toFixed(4)}   ratio HTTP/direct: ${(rtf / rtfDirect).toFixed(2)}${format === 'pcm' || format === 'wav' ? '   (target ≤ 1.10)' : ''}`,
      );
    }
    console.log(`streaming WAV: time to first byte ÷ total = ${median(ttfb).toFixed(3)}   (target ≤ 0.35)`);
  } finally {
    await engine.dispose();
    await server.close();
  }
}
