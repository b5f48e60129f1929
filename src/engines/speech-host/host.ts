/**
 * The speech host's child process: loads sherpa-onnx models and runs one recognition or
 * synthesis at a time for its parent (./client.ts).
 *
 * Why a process: sherpa-onnx calls `exit(-1)` on a model whose metadata it cannot read, and an
 * ONNX Runtime error inside a synthesis is an uncaught C++ exception (abort). Either ends this
 * process, not the server; the parent answers that request with a 503 and starts a fresh host for
 * the next one. The calls are synchronous on purpose: one request at a time, and an abort or a
 * timeout kills the process, which frees the CPU at once.
 */
import { createRequire } from 'node:module';
import type { HostModel, HostModelInfo, HostReply, HostReplyBody, HostRequest, SherpaRecognitionResult } from './protocol.js';

interface SherpaStream {
  acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void;
}
interface SherpaRecognizer {
  createStream(): SherpaStream;
  decode(stream: SherpaStream): void;
  getResult(stream: SherpaStream): SherpaRecognitionResult;
}
interface SherpaTts {
  readonly sampleRate: number;
  readonly numSpeakers: number;
  generate(request: { text: string; generationConfig: unknown }): { samples: Float32Array; sampleRate: number };
}
interface SherpaModule {
  OfflineRecognizer: new (config: unknown) => SherpaRecognizer;
  OfflineTts: new (config: unknown) => SherpaTts;
  GenerationConfig: new (options: object) => unknown;
}

/** Models kept loaded; the least recently used one is dropped beyond this. */
const MAX_LOADED = 2;

let sherpa: SherpaModule | undefined;
const loaded = new Map<string, SherpaRecognizer | SherpaTts>();

function module(): SherpaModule {
  // CommonJS package without types: the interfaces above are what is used.
  sherpa ??= createRequire(import.meta.url)('sherpa-onnx-node') as SherpaModule;
  return sherpa;
}

function load(model: HostModel): SherpaRecognizer | SherpaTts {
  const hit = loaded.get(model.key);
  if (hit) {
    loaded.delete(model.key);
    loaded.set(model.key, hit);
    return hit;
  }
  const sherpaOnnx = module();
  const instance = model.kind === 'recognizer' ? new sherpaOnnx.OfflineRecognizer(model.config) : new sherpaOnnx.OfflineTts(model.config);
  loaded.set(model.key, instance);
  // Dropping the reference lets the addon's finalizer free the native model.
  while (loaded.size > MAX_LOADED) loaded.delete(loaded.keys().next().value!);
  return instance;
}

function info(instance: SherpaRecognizer | SherpaTts): HostModelInfo {
  return 'sampleRate' in instance ? { sampleRate: instance.sampleRate, numSpeakers: instance.numSpeakers } : {};
}

function handle(request: HostRequest): HostReplyBody {
  try {
    if (request.type === 'load') return { type: 'loaded', info: info(load(request.model)) };
    if (request.type === 'recognize') {
      const recognizer = load(request.model) as SherpaRecognizer;
      const stream = recognizer.createStream();
      stream.acceptWaveform({ samples: request.samples, sampleRate: request.sampleRate });
      recognizer.decode(stream);
      return { type: 'recognized', result: recognizer.getResult(stream) };
    }
    const tts = load(request.model) as SherpaTts;
    const generationConfig = new (module().GenerationConfig)({
      sid: request.sid,
      speed: request.speed,
      ...(request.lang ? { extra: { lang: request.lang } } : {}),
    });
    try {
      const audio = tts.generate({ text: request.text, generationConfig });
      // The samples may live in native memory owned by the result: copy them out.
      return { type: 'synthesized', samples: Float32Array.from(audio.samples), sampleRate: audio.sampleRate };
    } catch (e) {
      // Text that yields no phonemes (only symbols, an unknown script) is silence, not a failure.
      if (e instanceof Error && /produced no audio/.test(e.message)) return { type: 'synthesized', samples: new Float32Array(0), sampleRate: tts.sampleRate };
      throw e;
    }
  } catch (e) {
    return { type: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}

process.on('message', (request: HostRequest) => {
  const started = performance.now();
  const reply = handle(request);
  process.send?.({ ...reply, rssBytes: process.memoryUsage.rss(), workMs: performance.now() - started } as HostReply);
});

// The parent went away (or dropped us): nothing left to do.
process.on('disconnect', () => process.exit(0));
