/**
 * Bench only: the previous whisper engine's host, on `@fugood/whisper.node` 1.1.1 (whisper.cpp
 * built without SIMD), so `bench/engines-whisper.ts` can measure the new engine against it in
 * the same run. Not a dependency: install it for the comparison with
 * `npm i --no-save @fugood/whisper.node@1.1.1`.
 *
 * It does what the old host did per call: int16 audio over IPC, `transcribeData` with the
 * language and thread count, one call at a time (the parent forks it with
 * OMP_WAIT_POLICY=passive, as the old engine did).
 */
import { createRequire } from 'node:module';

interface Context {
  transcribeData(audio: ArrayBuffer, options: object): { promise: Promise<{ result: string }> };
}

type Request = { type: 'load'; modelPath: string } | { type: 'transcribe'; pcm: Int16Array; language: string; threads: number };

let context: Context | undefined;

process.on('message', async (request: Request) => {
  try {
    if (request.type === 'load') {
      const whisper = createRequire(import.meta.url)('@fugood/whisper.node') as { initWhisper(o: object): Promise<Context> };
      context = await whisper.initWhisper({ filePath: request.modelPath, useGpu: false });
      process.send?.({ type: 'loaded' });
    } else {
      if (!context) throw new Error('no model loaded');
      const { pcm } = request;
      const audio = pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength) as ArrayBuffer;
      const r = await context.transcribeData(audio, { language: request.language, maxThreads: request.threads }).promise;
      process.send?.({ type: 'result', text: r.result });
    }
  } catch (e) {
    process.send?.({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  }
});

process.on('disconnect', () => process.exit(0));
