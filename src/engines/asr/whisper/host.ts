/**
 * The whisper host: a child process that owns one whisper.cpp context and runs one transcription
 * at a time for the engine (./engine.ts).
 *
 * Why a process and not the server's own thread pool: in @fugood/whisper.node 1.1.3 a failed or
 * stopped transcription never settles its promise (the native error callback is called with too
 * few arguments), `stop()` cannot interrupt whisper.cpp's computation (no abort callback is set),
 * and an unknown language makes the native callback throw, which ends the whole process. In a
 * child, a timeout or an abort kills the process — freeing the CPU at once — and a native crash
 * costs one request, not the server.
 */
import type { HostReply, HostRequest } from './protocol.js';

interface NativeJob {
  stop(): Promise<void>;
  promise: Promise<{ language?: string; result: string; segments: Array<{ text: string; t0: number; t1: number }> }>;
}
interface NativeContext {
  transcribeData(audio: ArrayBuffer, options: object): NativeJob;
  release(): Promise<void>;
}
interface WhisperModule {
  initWhisper(options: { filePath: string; useGpu?: boolean }): Promise<NativeContext>;
}

let context: NativeContext | undefined;

function send(reply: HostReply): void {
  process.send?.(reply);
}

async function load(modelPath: string): Promise<void> {
  try {
    // A variable specifier: the package ships no .d.ts, the interfaces above are what we use.
    const specifier = '@fugood/whisper.node';
    const mod = (await import(specifier)) as Partial<WhisperModule> & { default?: WhisperModule };
    const api = mod.default ?? (mod as WhisperModule);
    context = await api.initWhisper({ filePath: modelPath, useGpu: false });
    send({ type: 'loaded' });
  } catch (e) {
    send({ type: 'load-failed', message: e instanceof Error ? e.message : String(e) });
  }
}

async function transcribe(request: Extract<HostRequest, { type: 'transcribe' }>): Promise<void> {
  const { id, pcm, options } = request;
  try {
    if (!context) throw new Error('no model loaded');
    const audio = pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength) as ArrayBuffer;
    const result = await context.transcribeData(audio, options).promise;
    send({
      type: 'result',
      id,
      language: result.language,
      text: result.result,
      segments: result.segments.map((s) => ({ text: s.text, t0: s.t0, t1: s.t1 })),
    });
  } catch (e) {
    send({ type: 'failed', id, message: e instanceof Error ? e.message : String(e) });
  }
}

process.on('message', (message: HostRequest) => {
  if (message.type === 'load') void load(message.modelPath);
  else if (message.type === 'transcribe') void transcribe(message);
});

// The parent went away (or dropped us): nothing left to do.
process.on('disconnect', () => process.exit(0));
