import type { ModerationOutcome } from '../safety/types.js';
import type { Engines, RequestScope, UsageRecorder } from './context.js';
import { metered, realTimeFactor, recordUsage, textTokens } from './metering.js';
import { understandUpload } from './understand.js';

/** One input to moderate: text, or audio (transcribed first, then moderated as its transcript). */
export type ModerationInput = { type: 'text'; text: string } | { type: 'audio'; data: Uint8Array; format?: string; param: string };

/** A moderated input, with the transcript that was moderated when the input was audio. */
export interface ModeratedInput {
  outcome: ModerationOutcome;
  transcript?: string;
}

/** Longest audio input to moderate, bytes (OpenAI's 20 MB of audio). */
const MAX_AUDIO_BYTES = 20 * 1024 * 1024;

/**
 * `/v1/moderations`: every input through every safety layer the pipeline has, the judge included
 * (off the spoken path, so its seconds are acceptable here). Audio inputs are understood first
 * (the same understander as chat: a clip already heard is not recognised again). Usage is
 * recorded (moderations are free at OpenAI: the ledger prices them at 0).
 */
export async function moderateInputs(
  ctx: { engines: Engines; usage?: UsageRecorder; scope: RequestScope },
  model: string,
  inputs: readonly ModerationInput[],
): Promise<ModeratedInput[]> {
  return metered(ctx.scope, () => moderate(ctx, model, inputs));
}

async function moderate(
  ctx: { engines: Engines; usage?: UsageRecorder; scope: RequestScope },
  model: string,
  inputs: readonly ModerationInput[],
): Promise<ModeratedInput[]> {
  const { engines, scope } = ctx;
  const texts = await Promise.all(
    inputs.map(async (input) => {
      if (input.type === 'text') return { text: input.text, seconds: 0 };
      const { transcript } = await understandUpload(engines, input.data, {
        param: input.param,
        format: input.format,
        maxBytes: MAX_AUDIO_BYTES,
        signal: scope.signal,
      });
      return { text: transcript.text, seconds: transcript.durationSec, audio: true };
    }),
  );
  const outcomes = await engines.safety.moderate(
    texts.map((t) => t.text),
    scope.signal,
  );
  const characters = texts.reduce((n, t) => n + t.text.length, 0);
  recordUsage(
    ctx,
    { endpoint: '/v1/moderations', model },
    { promptTextTokens: textTokens(characters), audioInSec: texts.reduce((n, t) => n + t.seconds, 0) },
    {
      asrRtf: realTimeFactor(
        scope,
        'asr',
        texts.reduce((n, t) => n + t.seconds, 0),
      ),
    },
  );
  return outcomes.map((outcome, i) => ({ outcome, ...('audio' in texts[i]! ? { transcript: texts[i]!.text } : {}) }));
}
