import type { OutputFormat } from '../audio/types.js';
import { ContentFilterError } from '../safety/azure.js';
import type { Engines } from './context.js';
import { elapsedSec, type MeteredContext, metered, realTimeFactor, recordUsage, speechCounts } from './metering.js';
import { speak } from './speak.js';

/** A validated speech request (`POST /v1/audio/speech`, a batch speech line). */
export interface SpeechParams {
  model: string;
  input: string;
  voice: string;
  format: OutputFormat;
  speed: number;
  instructions?: string;
}

/** A speech being made: its content type, its bytes in order, and its usage once done. */
export interface SpeechResult {
  contentType: string;
  /** The encoded audio; usage is recorded when it ends (or stops early: what was made is billed). */
  chunks: AsyncGenerator<Uint8Array>;
  /** Tokens as the seed model bills them (valid once `chunks` is done). */
  usage(): { inputTokens: number; outputTokens: number };
}

/**
 * One speech request: the text goes through the reply-side content filters (blocked → 400
 * `content_filter` naming `input`; masked profanity is spoken masked), then the speaking path
 * (watermarked);
 * characters and seconds spoken are recorded with the engine time when the audio ends.
 */
export async function synthesizeSpeech(ctx: MeteredContext & { engines: Engines }, params: SpeechParams): Promise<SpeechResult> {
  const { engines, scope } = ctx;
  const safety = await metered(scope, () => engines.safety.checkReply(params.input, scope.signal));
  if (safety.action === 'block') throw new ContentFilterError(safety, 'input');
  const speech = metered(scope, () =>
    speak(engines.speaker, {
      text: safety.redacted?.[0] ?? params.input,
      voice: params.voice,
      speed: params.speed,
      format: params.format,
      instructions: params.instructions,
      streaming: true,
      signal: scope.signal,
      transform: engines.watermark.begin({ responseId: scope.requestId, owner: scope.owner, model: params.model, voice: params.voice }),
    }),
  );
  const counts = () => speechCounts(params.input, speech.stats.durationSec);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let firstAudioSec: number | undefined;
    try {
      for await (const chunk of speech.chunks()) {
        firstAudioSec ??= elapsedSec(scope);
        yield chunk;
      }
    } finally {
      recordUsage(ctx, { endpoint: '/v1/audio/speech', model: params.model }, counts(), {
        firstAudioSec,
        ttsRtf: realTimeFactor(scope, 'tts', speech.stats.durationSec),
      });
    }
  }
  return {
    contentType: speech.contentType,
    chunks: chunks(),
    usage: () => {
      const c = counts();
      return { inputTokens: c.promptTextTokens ?? 0, outputTokens: c.completionAudioTokens ?? 0 };
    },
  };
}
