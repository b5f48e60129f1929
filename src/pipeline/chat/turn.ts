import crypto from 'node:crypto';
import { DEFAULT_MAX_BYTES, type DecodedAudio } from '../../audio/decode/index.js';
import { concatBytes } from '../../audio/pcm.js';
import type { OutputFormat } from '../../audio/types.js';
import { ApiError } from '../../errors.js';
import type { AudioIdStore, Engines, RequestScope, UsageRecorder } from '../context.js';
import { decodeForRecognition } from '../input-audio.js';
import { SpeechStream } from '../speak.js';
import type { Understanding } from '../understand.js';
import { buildLlmMessages } from './prompt.js';
import type { ChatPart, ChatTurnMessage, ChatTurnParams, ChatTurnResult, ChatTurnSink } from './types.js';
import { chatUsage } from './usage.js';

/** Reply audio can be referred to for one hour (OpenAI's `expires_at`). */
export const REPLY_AUDIO_TTL_SEC = 3600;
/** Encoded input audio per request, all parts together, by default (OpenAI's 20 MB). */
export const MAX_CHAT_AUDIO_BYTES = DEFAULT_MAX_BYTES;
/**
 * Decoded input audio per request, all parts together, by default: 45 minutes, which is 20 MB of
 * 64 kbit/s MP3. Bounds the memory and work one request can cause (16 kHz floats: ≈ 170 MB at most).
 */
export const MAX_CHAT_AUDIO_SEC = 45 * 60;

/** What a chat turn runs with. */
export interface ChatContext {
  /** The engines of the model's pipeline. */
  engines: Engines;
  /** Where reply audio is kept for later turns. */
  audioIds: AudioIdStore;
  /** Where usage is recorded (absent: not metered). */
  usage?: UsageRecorder;
  /** Who asks, and the signal that cancels the turn. */
  scope: RequestScope;
  /** Bounds on the input audio of one request (defaults: {@link MAX_CHAT_AUDIO_BYTES}, {@link MAX_CHAT_AUDIO_SEC}). */
  limits?: { audioBytes?: number; audioSec?: number };
}

/** A turn whose input is checked and decoded, ready to run. */
export interface PreparedChatTurn {
  /** The completion's id (`chatcmpl-…`). */
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  /** The reply audio's id, known before any audio exists (a stream announces it first). */
  readonly audioId: string | undefined;
  /** Runs the turn: understanding, the language model, speech; streams through `sink` when given. */
  run(sink?: ChatTurnSink): Promise<ChatTurnResult>;
}

/** `pcm16` is chat's name for raw PCM. */
function outputFormat(format: string): OutputFormat {
  return format === 'pcm16' ? 'pcm' : (format as OutputFormat);
}

/**
 * Checks and decodes a turn's input — every problem with the input is an ApiError here, before any
 * answer starts, so a stream can still refuse with a clean JSON error: assistant audio ids are
 * looked up (for the caller's owner only) and input audio is decoded (inside the engine limiter,
 * within the per-request bounds).
 */
export async function prepareChatTurn(ctx: ChatContext, params: ChatTurnParams): Promise<PreparedChatTurn> {
  const { engines, scope } = ctx;
  if (params.audioOut && !engines.speaker.voiceNames().includes(params.audioOut.voice)) {
    throw ApiError.invalidValue('audio.voice', params.audioOut.voice, engines.speaker.voiceNames());
  }
  const messages: ChatTurnMessage[] = [];
  const maxBytes = ctx.limits?.audioBytes ?? MAX_CHAT_AUDIO_BYTES;
  const maxSec = ctx.limits?.audioSec ?? MAX_CHAT_AUDIO_SEC;
  let bytesLeft = maxBytes;
  let secondsLeft = maxSec;
  for (const m of params.messages) {
    const parts: ChatPart[] = [];
    for (const p of m.parts) {
      if (p.type === 'text') {
        parts.push(p);
        continue;
      }
      const param = `${p.param}.data`;
      if (p.data.length > bytesLeft) {
        throw ApiError.invalidRequest(
          param,
          `Input audio is too large: all the audio of one request may add up to ${formatMb(maxBytes)} MB; this part goes past that.`,
          'audio_too_large',
        );
      }
      bytesLeft -= p.data.length;
      const pcm = await decodeInputAudio(engines, p.data, { param, format: p.format, maxDurationSec: secondsLeft, totalSec: maxSec, signal: scope.signal });
      secondsLeft -= pcm.durationSec;
      parts.push({ type: 'audio', pcm, digest: crypto.createHash('sha256').update(p.data).digest('hex'), param: p.param });
    }
    if (m.audioRef) {
      // An earlier reply's audio: the model sees what it said.
      const stored = ctx.audioIds.get(m.audioRef.id, scope.owner);
      if (!stored) {
        throw new ApiError({
          status: 400,
          type: 'invalid_request_error',
          code: 'audio_not_found',
          param: `${m.audioRef.param}.id`,
          message: `Assistant audio ${m.audioRef.id} not found.`,
        });
      }
      parts.push({ type: 'text', text: stored.transcript });
    }
    messages.push({ role: m.role, parts, ...(m.toolCalls ? { toolCalls: m.toolCalls } : {}), ...(m.toolCallId ? { toolCallId: m.toolCallId } : {}) });
  }
  const id = `chatcmpl-${crypto.randomBytes(15).toString('base64url')}`;
  const audioId = params.audioOut ? `audio_${crypto.randomBytes(16).toString('hex')}` : undefined;
  return { id, created: Math.floor(Date.now() / 1000), audioId, run: (sink) => runPrepared(ctx, params, messages, { id, audioId }, sink) };
}

/** Decodes one input audio part to ≤ 16 kHz mono, as one `decode` job of the engine limiter. */
async function decodeInputAudio(
  engines: Engines,
  data: Uint8Array,
  options: { param: string; format: string; maxDurationSec: number; totalSec: number; signal: AbortSignal },
): Promise<DecodedAudio> {
  try {
    return await decodeForRecognition(engines.limiter, data, options);
  } catch (e) {
    // OpenAI names `messages` for undecodable audio (captured); size limits keep the part's path.
    if (e instanceof ApiError && e.code === 'unsupported_format') throw ApiError.unsupportedFormat('messages');
    if (e instanceof ApiError && e.code === 'audio_too_long') {
      throw ApiError.invalidRequest(
        options.param,
        `Input audio is too long: all the audio of one request may last ${Math.round(options.totalSec)} seconds together; this part goes past that.`,
        'audio_too_long',
      );
    }
    throw e;
  }
}

/** Prepares and runs one turn. */
export async function runChatTurn(ctx: ChatContext, params: ChatTurnParams, sink?: ChatTurnSink): Promise<ChatTurnResult & { id: string; created: number }> {
  const turn = await prepareChatTurn(ctx, params);
  return { ...(await turn.run(sink)), id: turn.id, created: turn.created };
}

/**
 * One chat turn: every audio part is understood (in parallel, each clip once), the language model
 * answers, and — when audio is requested — its words go to the speaking path as they come, so the
 * first passage is synthesised while the model is still writing. Audio is streamed as pcm16 in
 * order (sink.onAudio) or encoded whole; the reply audio is kept under its id and the usage recorded.
 */
async function runPrepared(
  ctx: ChatContext,
  params: ChatTurnParams,
  messages: ChatTurnMessage[],
  ids: { id: string; audioId: string | undefined },
  sink: ChatTurnSink = {},
): Promise<ChatTurnResult> {
  const { engines, scope } = ctx;
  const signal = scope.signal;
  const audioParts = new Map<string, Extract<ChatPart, { type: 'audio' }>>();
  for (const m of messages) for (const p of m.parts) if (p.type === 'audio') audioParts.set(p.digest, p);
  const understood = new Map<string, Understanding>();
  await Promise.all(
    [...audioParts.values()].map(async (part) => {
      understood.set(part.digest, await engines.understander.understand(part.pcm, part.digest, signal));
    }),
  );
  const audioInSec = messages.flatMap((m) => m.parts).reduce((sum, p) => (p.type === 'audio' ? sum + p.pcm.samples.length / p.pcm.sampleRate : sum), 0);

  const audioOut = params.audioOut;
  const { messages: llmMessages, audioText } = buildLlmMessages(messages, understood, { speaks: audioOut !== undefined });
  const llm = await engines.llm();

  // The speaking path runs beside generation; its bytes are collected (or streamed) in order.
  const speech = audioOut
    ? new SpeechStream(engines.speaker, {
        voice: audioOut.voice,
        speed: 1,
        format: params.stream ? 'pcm' : outputFormat(audioOut.format),
        streaming: params.stream,
        signal,
      })
    : undefined;
  const spoken: Uint8Array[] = [];
  const speaking = speech
    ? (async () => {
        for await (const bytes of speech.chunks()) {
          spoken.push(bytes);
          if (params.stream) sink.onAudio?.(bytes);
        }
      })()
    : Promise.resolve();
  speaking.catch(() => undefined); // awaited below; generation may fail first

  let result: Awaited<ReturnType<typeof llm.generate>>;
  try {
    result = await llm.generate({
      messages: llmMessages,
      temperature: params.temperature,
      topP: params.topP,
      maxTokens: params.maxTokens,
      stop: params.stop,
      seed: params.seed,
      responseFormat: params.responseFormat,
      tools: params.tools,
      toolChoice: params.toolChoice,
      signal,
      onText: (delta) => {
        if (delta.length === 0) return;
        sink.onText?.(delta);
        speech?.push(delta);
      },
    });
  } catch (e) {
    speech?.abort(e);
    throw e;
  }
  // A reply that calls tools is not spoken.
  if (result.toolCalls.length > 0) speech?.abort();
  else speech?.end();
  if (result.toolCalls.length === 0) await speaking;
  signal.throwIfAborted();

  let audio: ChatTurnResult['audio'];
  const audioOutSec = speech && result.toolCalls.length === 0 ? speech.stats.durationSec : 0;
  if (audioOut && ids.audioId && result.toolCalls.length === 0) {
    const data = concatBytes(spoken);
    // A streamed reply is kept as the pcm16 the client received.
    const stored = ctx.audioIds.put({
      id: ids.audioId,
      format: params.stream ? 'pcm16' : audioOut.format,
      data,
      transcript: result.text,
      ttlSec: REPLY_AUDIO_TTL_SEC,
      owner: scope.owner,
    });
    audio = { id: stored.id, data: params.stream ? new Uint8Array(0) : data, expiresAt: stored.expiresAt, transcript: result.text, durationSec: audioOutSec };
  }
  const audioDerivedTokens = audioText.length > 0 ? await llm.countTokens(audioText.join('\n')) : 0;
  const usage = chatUsage({
    llmPromptTokens: result.usage.promptTokens,
    audioDerivedTokens,
    cachedTokens: result.usage.cachedTokens,
    completionTokens: result.usage.completionTokens,
    audioInSec,
    audioOutSec: audio ? audioOutSec : 0,
  });
  ctx.usage?.record({
    requestId: ids.id,
    owner: scope.owner,
    endpoint: '/v1/chat/completions',
    model: params.model,
    promptTextTokens: usage.promptTextTokens,
    promptAudioTokens: usage.promptAudioTokens,
    completionTextTokens: usage.completionTextTokens,
    completionAudioTokens: usage.completionAudioTokens,
    cachedTokens: usage.cachedTokens,
    audioInSec: usage.audioInSec,
    audioOutSec: usage.audioOutSec,
  });
  return { text: result.text, toolCalls: result.toolCalls, finishReason: result.finishReason, audio, usage };
}

function formatMb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}
