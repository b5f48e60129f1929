import { encodeAll } from '../../audio/encode/index.js';
import { concatFloat32, floatToS16le } from '../../audio/pcm.js';
import { resample } from '../../audio/resample.js';
import { OUTPUT_SAMPLE_RATE, type OutputFormat, type PcmAudio } from '../../audio/types.js';
import type { LlmEngine } from '../../engines/llm/types.js';
import type { Speaker } from '../speak.js';
import type { Understanding } from '../understand.js';
import { buildLlmMessages } from './prompt.js';
import { SentenceStream } from './sentence-stream.js';
import type { ChatPart, ChatTurnRequest, ChatTurnResult, ChatTurnSink } from './types.js';
import { chatUsage } from './usage.js';

export interface ChatTurnDeps {
  llm: LlmEngine;
  speaker: Speaker;
  /** Understands one audio part (transcript + voice analysis); may answer from a cache. */
  understand(part: Extract<ChatPart, { type: 'audio' }>, signal?: AbortSignal): Promise<Understanding>;
}

/** `pcm16` is chat's name for raw PCM. */
function outputFormat(format: string): OutputFormat {
  return format === 'pcm16' ? 'pcm' : (format as OutputFormat);
}

/**
 * One chat turn: every audio part is understood (in parallel, bounded by the engines' limiter),
 * the language model answers, and — when audio is requested — each sentence goes to speech
 * synthesis as soon as the model has finished it, while the model keeps generating. Audio is
 * streamed as pcm16 in order (sink.onAudio) or encoded once at the end.
 */
export async function runChatTurn(deps: ChatTurnDeps, request: ChatTurnRequest, sink: ChatTurnSink = {}): Promise<ChatTurnResult> {
  const signal = request.signal;
  const audioParts = new Map<string, Extract<ChatPart, { type: 'audio' }>>();
  for (const m of request.messages) for (const p of m.parts) if (p.type === 'audio') audioParts.set(p.digest, p);
  const understood = new Map<string, Understanding>();
  await Promise.all(
    [...audioParts.values()].map(async (part) => {
      understood.set(part.digest, await deps.understand(part, signal));
    }),
  );
  const audioInSec = request.messages.flatMap((m) => m.parts).reduce((sum, p) => (p.type === 'audio' ? sum + p.pcm.samples.length / p.pcm.sampleRate : sum), 0);

  const speaks = request.audioOut !== undefined;
  const { messages, audioText } = buildLlmMessages(request.messages, understood, { speaks });

  // Speech synthesis runs beside generation: each finished sentence starts synthesising at once
  // (the limiter bounds how many run); results are emitted strictly in order.
  const sentences = new SentenceStream();
  const spoken: Float32Array[] = [];
  let chain: Promise<void> = Promise.resolve();
  let ttsFailure: unknown;
  const speak = (sentence: string) => {
    if (!request.audioOut) return;
    const pending = deps.speaker.synthesize({ text: sentence, voice: request.audioOut.voice, speed: 1, signal });
    pending.catch(() => undefined);
    chain = chain.then(async () => {
      if (ttsFailure) return;
      try {
        const pcm: PcmAudio = await pending;
        const at24k = pcm.sampleRate === OUTPUT_SAMPLE_RATE ? pcm.samples : resample(pcm, OUTPUT_SAMPLE_RATE).samples;
        spoken.push(at24k);
        if (request.streamAudio) sink.onAudio?.(floatToS16le(at24k));
      } catch (e) {
        ttsFailure = e;
      }
    });
  };

  const result = await deps.llm.generate({
    messages,
    temperature: request.temperature,
    topP: request.topP,
    maxTokens: request.maxTokens,
    stop: request.stop,
    seed: request.seed,
    responseFormat: request.responseFormat,
    tools: request.tools,
    toolChoice: request.toolChoice,
    signal,
    onText: (delta) => {
      sink.onText?.(delta);
      for (const s of sentences.push(delta)) speak(s);
    },
  });
  if (result.toolCalls.length === 0) for (const s of sentences.end()) speak(s);
  await chain;
  signal?.throwIfAborted();
  if (ttsFailure) throw ttsFailure;

  const samples = concatFloat32(spoken);
  const audioOutSec = samples.length / OUTPUT_SAMPLE_RATE;
  let audio: ChatTurnResult['audio'];
  if (request.audioOut && result.toolCalls.length === 0) {
    const data = request.streamAudio ? new Uint8Array(0) : await encodeAll(outputFormat(request.audioOut.format), samples);
    audio = { data, durationSec: audioOutSec };
  }
  const audioDerivedTokens = audioText.length > 0 ? await deps.llm.countTokens(audioText.join('\n')) : 0;
  return {
    text: result.text,
    toolCalls: result.toolCalls,
    finishReason: result.finishReason,
    audio,
    usage: chatUsage({
      llmPromptTokens: result.usage.promptTokens,
      audioDerivedTokens,
      cachedTokens: result.usage.cachedTokens,
      completionTokens: result.usage.completionTokens,
      audioInSec,
      audioOutSec: audio ? audioOutSec : 0,
    }),
  };
}
