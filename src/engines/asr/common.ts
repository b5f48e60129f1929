/**
 * Small pieces both recognisers share: 16 kHz input, timeouts, and turning timed words into
 * segments.
 */
import { resample } from '../../audio/resample.js';
import type { PcmAudio } from '../../audio/types.js';
import { ApiError } from '../../errors.js';
import type { SerialQueue } from '../../lib/limiter.js';
import type { AsrTranscribeOptions, TranscriptSegment, TranscriptWord } from './types.js';

/** Both engines' models are trained on 16 kHz audio. */
export const ASR_SAMPLE_RATE = 16_000;

/** `pcm` at 16 kHz (a copy when it already is, so callers may transfer or mutate it). */
export function to16k(pcm: PcmAudio): Float32Array {
  return resample(pcm, ASR_SAMPLE_RATE).samples;
}

/** Length of `pcm` in seconds. */
export function durationOf(pcm: PcmAudio): number {
  return pcm.sampleRate > 0 ? pcm.samples.length / pcm.sampleRate : 0;
}

/**
 * Default time one call may take: two minutes plus ten times the audio's length. Generous on
 * purpose — a large whisper model on one thread of a busy machine can need several times its
 * audio's length — the timeout exists to catch a call that never finishes, not a slow one.
 * Configure a tighter one per engine (`timeoutMs`) or per call.
 */
export function defaultTimeoutMs(durationSec: number): number {
  return 120_000 + 10_000 * durationSec;
}

/** 504 `engine_timeout`: the engine did not finish in time and was stopped. */
export function engineTimeout(engine: string, timeoutMs: number): ApiError {
  return new ApiError({
    status: 504,
    type: 'server_error',
    code: 'engine_timeout',
    message: `Speech recognition (${engine}) did not finish within ${formatMs(timeoutMs)} and was stopped. Try shorter audio or a smaller model.`,
  });
}

/** Error for calls on a disposed engine (a programming error, never a client's). */
export function engineDisposed(engine: string): ApiError {
  return ApiError.internal(new Error(`${engine} engine has been disposed`));
}

/** What a recogniser tells `queuedRecognition` about itself. */
export interface RecognizerState {
  /** Engine id, for errors. */
  id: string;
  /** True once disposed (checked before queueing and again when the call's turn comes). */
  disposed: () => boolean;
  /** The engine's configured timeout per call, if any. */
  timeoutMs: number | undefined;
}

/**
 * The frame of every queued recogniser's `transcribe`: refuses a disposed engine or an aborted
 * call, works out the call's timeout (the call's, the engine's, or the default for the audio's
 * length), and runs `job` in the engine's queue once its turn comes and it is still wanted.
 */
export async function queuedRecognition<T>(
  queue: SerialQueue,
  engine: RecognizerState,
  pcm: PcmAudio,
  options: AsrTranscribeOptions,
  job: (call: { durationSec: number; timeoutMs: number }) => Promise<T>,
): Promise<T> {
  if (engine.disposed()) throw engineDisposed(engine.id);
  options.signal?.throwIfAborted();
  const durationSec = durationOf(pcm);
  const timeoutMs = options.timeoutMs ?? engine.timeoutMs ?? defaultTimeoutMs(durationSec);
  return queue.run(
    async () => {
      if (engine.disposed()) throw engineDisposed(engine.id);
      options.signal?.throwIfAborted();
      return job({ durationSec, timeoutMs });
    },
    { signal: options.signal },
  );
}

/** The reason an aborted signal carries, as something throwable. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** Clamps a time to [0, duration] and rounds it to milliseconds. */
export function clampTime(t: number, durationSec: number): number {
  const c = Math.min(Math.max(t, 0), durationSec);
  return Math.round(c * 1000) / 1000;
}

/**
 * Groups timed words into segments the way a reader expects: a segment ends after a word that
 * ends a sentence, before a pause of `maxGapSec`, or once it is `maxSegmentSec` long. Segment
 * texts are the words joined with spaces, with a leading space as whisper writes them.
 */
export function wordsToSegments<W extends TranscriptWord>(
  words: readonly W[],
  options: {
    maxGapSec?: number;
    maxSegmentSec?: number;
    /** First id to give (when appending to segments made earlier). */
    firstId?: number;
    /** Extra fields of a segment from its words (e.g. `avgLogprob`). */
    describe?: (words: readonly W[]) => Partial<TranscriptSegment>;
  } = {},
): TranscriptSegment[] {
  const maxGap = options.maxGapSec ?? 1.0;
  const maxLen = options.maxSegmentSec ?? 30;
  const firstId = options.firstId ?? 0;
  const segments: TranscriptSegment[] = [];
  let current: W[] = [];
  const flush = (): void => {
    if (current.length === 0) return;
    segments.push({
      id: firstId + segments.length,
      start: current[0]!.start,
      end: current[current.length - 1]!.end,
      text: current.map((w) => ` ${w.word}`).join(''),
      ...options.describe?.(current),
    });
    current = [];
  };
  for (const w of words) {
    const prev = current[current.length - 1];
    if (prev && (w.start - prev.end > maxGap || w.end - current[0]!.start > maxLen)) flush();
    current.push(w);
    if (/[.!?…。！？]["')\]]*$/.test(w.word)) flush();
  }
  flush();
  return segments;
}
