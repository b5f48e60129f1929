import { withMeter } from '../lib/limiter.js';
import { NO_USAGE } from '../store/usage.js';
import { inputAudioTokens, outputAudioTokens } from './chat/usage.js';
import type { RequestScope, RequestTimings, UsageEntry, UsageRecorder } from './context.js';

/** What a pipeline function needs to meter its request: where usage goes (absent: not metered) and who asks. */
export interface MeteredContext {
  usage?: UsageRecorder;
  scope: RequestScope;
}

/** The counts one request reports; everything left out is 0. */
export type UsageCounts = Partial<Omit<UsageEntry, 'requestId' | 'owner' | 'endpoint' | 'model' | 'batch' | 'engineSec' | 'createdAt'>>;

/**
 * Records one request's usage with what the scope knows (owner, batch flag, the engine
 * core-seconds its jobs held so far) — the one place every endpoint's usage goes through.
 */
export function recordUsage(
  ctx: MeteredContext,
  request: { endpoint: string; model: string; requestId?: string },
  counts: UsageCounts,
  timings?: RequestTimings,
): void {
  if (!ctx.usage) return;
  const { scope } = ctx;
  ctx.usage.record(
    {
      requestId: request.requestId ?? scope.requestId,
      owner: scope.owner,
      endpoint: request.endpoint,
      model: request.model,
      batch: scope.batch === true,
      ...NO_USAGE,
      ...counts,
      engineSec: scope.meter?.coreSec ?? 0,
    },
    timings,
  );
}

/** Runs `fn` with every engine job it starts counted on the request's meter. */
export function metered<T>(scope: RequestScope, fn: () => T): T {
  return withMeter(scope.meter, fn);
}

/** Seconds since the request started (undefined when the scope does not know its start). */
export function elapsedSec(scope: RequestScope): number | undefined {
  return scope.startedAt === undefined ? undefined : (performance.now() - scope.startedAt) / 1000;
}

/** Real-time factor of one engine kind for this request: its slot-seconds ÷ the audio's seconds. */
export function realTimeFactor(scope: RequestScope, kind: 'asr' | 'tts', audioSec: number): number | undefined {
  const busy = scope.meter?.byKind[kind];
  return busy !== undefined && audioSec > 0 ? busy / audioSec : undefined;
}

/**
 * Text tokens of a text the pipeline did not run through a tokenizer (speech input, transcripts,
 * moderation input): OpenAI's rule of thumb, one token per four characters.
 */
export function textTokens(text: string | number): number {
  return Math.ceil((typeof text === 'number' ? text : text.length) / 4);
}

/** Usage of a speech request as the seed model bills it: the input as text tokens, 20 audio tokens per second spoken. */
export function speechCounts(input: string, audioOutSec: number): UsageCounts {
  return { promptTextTokens: textTokens(input), completionAudioTokens: outputAudioTokens(audioOutSec), characters: input.length, audioOutSec };
}

/** Usage of audio heard (transcription, translation, analysis): 10 audio tokens per second, the text out as text tokens. */
export function heardCounts(audioInSec: number, textOut: string): UsageCounts {
  return { promptAudioTokens: inputAudioTokens(audioInSec), completionTextTokens: textTokens(textOut), audioInSec };
}
