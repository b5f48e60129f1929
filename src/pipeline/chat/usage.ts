import type { ChatUsage } from './types.js';

/** OpenAI's audio accounting: 1 token per 100 ms heard, 1 per 50 ms spoken. */
export const INPUT_AUDIO_TOKENS_PER_SEC = 10;
export const OUTPUT_AUDIO_TOKENS_PER_SEC = 20;

/** Audio tokens for `seconds` of input audio. */
export function inputAudioTokens(seconds: number): number {
  return Math.ceil(seconds * INPUT_AUDIO_TOKENS_PER_SEC);
}

/** Audio tokens for `seconds` of output audio. */
export function outputAudioTokens(seconds: number): number {
  return Math.ceil(seconds * OUTPUT_AUDIO_TOKENS_PER_SEC);
}

/**
 * Usage as OpenAI reports it for this model: the audio heard counts as prompt audio tokens (in
 * place of the text Parley derived from it), the transcript of the reply counts as completion
 * text tokens and the reply's audio as completion audio tokens.
 */
export function chatUsage(input: {
  llmPromptTokens: number;
  audioDerivedTokens: number;
  cachedTokens: number;
  completionTokens: number;
  audioInSec: number;
  audioOutSec: number;
}): ChatUsage {
  const promptAudioTokens = input.audioInSec > 0 ? inputAudioTokens(input.audioInSec) : 0;
  const promptTextTokens = Math.max(0, input.llmPromptTokens - input.audioDerivedTokens);
  const completionAudioTokens = input.audioOutSec > 0 ? outputAudioTokens(input.audioOutSec) : 0;
  const completionTextTokens = input.completionTokens;
  const promptTokens = promptTextTokens + promptAudioTokens;
  const completionTokens = completionTextTokens + completionAudioTokens;
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    promptTextTokens,
    promptAudioTokens,
    cachedTokens: Math.min(input.cachedTokens, promptTextTokens),
    completionTextTokens,
    completionAudioTokens,
    audioInSec: input.audioInSec,
    audioOutSec: input.audioOutSec,
  };
}
