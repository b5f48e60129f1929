/**
 * The whisper host: a child process that owns one whisper.cpp context (`@napi-rs/whisper`, built
 * with AVX2/FMA/F16C) and runs one transcription at a time for the engine (./engine.ts).
 *
 * Why a process: the binding's `full()` is synchronous — it would block the server's event loop
 * for the whole recognition — and cannot be interrupted (its abort callback only notifies, it
 * never stops whisper.cpp). A C++ exception or a ggml assertion inside it aborts the process.
 * Here a blocked loop is this process's only job; a timeout or an abort kills it, freeing the CPU
 * at once; a native crash costs one request, not the server.
 *
 * Not used from the binding: `setupLogger` (its callback frees its own state after the first
 * message and the second one panics), `detectLanguage` (makes whisper.cpp detect and stop).
 */
import type { Segment, Whisper as WhisperContext } from '@napi-rs/whisper';
import type { HostReply, HostRequest, HostSegment, HostTranscribeOptions } from './protocol.js';

type Binding = typeof import('@napi-rs/whisper');

/** Longest wait for the binding's segment callbacks after `full()` returned (they are queued, see below). */
const SEGMENT_WAIT_MS = 2_000;

let binding: Binding | undefined;
let context: WhisperContext | undefined;

function send(reply: HostReply): void {
  process.send?.(reply);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function load(modelPath: string): Promise<void> {
  try {
    binding = (await import('@napi-rs/whisper')) as Binding;
    // The binding reads the whole file and hands the buffer to whisper.cpp; no GPU backend is built in.
    context = new binding.Whisper(modelPath, { useGpu: false });
    send({ type: 'loaded' });
  } catch (e) {
    send({ type: 'load-failed', message: message(e) });
  }
}

function params(b: Binding, options: HostTranscribeOptions): InstanceType<Binding['WhisperFullParams']> {
  const p = new b.WhisperFullParams(b.WhisperSamplingStrategy.Greedy);
  p.nThreads = options.threads;
  p.language = options.language;
  p.translate = options.translate;
  // Each request stands alone: no text from an earlier request (another user's) as context.
  p.noContext = true;
  p.printProgress = false;
  p.printRealtime = false;
  p.printTimestamps = false;
  if (options.prompt) p.initialPrompt = options.prompt;
  if (options.temperature !== undefined) p.temperature = options.temperature;
  if (options.words) {
    // whisper.cpp cuts a segment before every token that starts with a space: one word each,
    // timed by its tokens' timestamps. (Token segments would lose the spaces: the binding trims.)
    p.tokenTimestamps = true;
    p.maxLen = 1;
    p.splitOnWord = true;
  }
  return p;
}

/** Text without any whitespace: the binding trims segment texts but not `full()`'s result. */
function squeeze(text: string): string {
  return text.replace(/\s+/g, '');
}

async function transcribe(request: Extract<HostRequest, { type: 'transcribe' }>): Promise<void> {
  const { id, pcm, options } = request;
  try {
    if (!binding || !context) throw new Error('no model loaded');
    const received: Segment[] = [];
    const p = params(binding, options);
    p.onNewSegment = (s) => received.push(s);
    const text = context.full(p, pcm);
    const language = binding.Whisper.lang(context.fullLangId) ?? undefined;
    // Segments reach JavaScript through a thread-safe function queue, so they arrive only after
    // `full()` has returned and the event loop turns. They carry the same texts `full()` joined
    // (both skip a segment that is not valid UTF-8): wait until all have come.
    const expected = squeeze(text);
    const deadline = performance.now() + SEGMENT_WAIT_MS;
    while (squeeze(received.map((s) => s.text).join('')) !== expected && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // whisper.cpp times segments in centiseconds.
    const segments: HostSegment[] = received.map((s) => ({ text: s.text, t0: s.start * 10, t1: s.end * 10 }));
    send({ type: 'result', id, language, text, segments });
  } catch (e) {
    send({ type: 'failed', id, message: message(e) });
  }
}

process.on('message', (request: HostRequest) => {
  if (request.type === 'load') void load(request.modelPath);
  else if (request.type === 'transcribe') void transcribe(request);
});

// The parent went away (or dropped us): nothing left to do.
process.on('disconnect', () => process.exit(0));
