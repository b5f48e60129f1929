import crypto from 'node:crypto';
import { DEFAULT_MAX_BYTES, type DecodedAudio } from '../../audio/decode/index.js';
import { concatBytes } from '../../audio/pcm.js';
import type { OutputFormat } from '../../audio/types.js';
import { ApiError } from '../../errors.js';
import { linkSignals } from '../../lib/signals.js';
import { ContentFilterError } from '../../safety/azure.js';
import type { SafetyDecision } from '../../safety/types.js';
import type { AudioIdStore, Engines, RequestScope, RequestTimings, UsageRecorder } from '../context.js';
import { decodeForRecognition } from '../input-audio.js';
import { elapsedSec, metered, realTimeFactor, recordUsage } from '../metering.js';
import { SpeechStream } from '../speak.js';
import type { Understanding } from '../understand.js';
import { buildLlmMessages } from './prompt.js';
import { ReplyGate } from './reply-gate.js';
import type { ChatPart, ChatTurnMessage, ChatTurnParams, ChatTurnResult, ChatTurnSink, ChatUsage } from './types.js';
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
  /** What the content filters found in the prompt (text parts and transcripts of input audio). */
  readonly promptSafety: SafetyDecision;
  /** Runs the turn: the language model and speech; streams through `sink` when given. */
  run(sink?: ChatTurnSink): Promise<ChatTurnResult>;
}

/** `pcm16` is chat's name for raw PCM. */
function outputFormat(format: string): OutputFormat {
  return format === 'pcm16' ? 'pcm' : (format as OutputFormat);
}

/**
 * Everything about a turn's input, before any answer starts — so a stream can still refuse with a
 * clean JSON error: assistant audio ids are looked up (for the caller's owner only), input audio is
 * decoded (inside the engine limiter, within the per-request bounds) and understood (each clip
 * once), and the prompt — text parts and the transcripts of input audio — goes through the content
 * filters: a blocked prompt is a 400 `content_filter`, billed for the prompt, with nothing generated.
 */
export function prepareChatTurn(ctx: ChatContext, params: ChatTurnParams): Promise<PreparedChatTurn> {
  return metered(ctx.scope, () => prepare(ctx, params));
}

async function prepare(ctx: ChatContext, params: ChatTurnParams): Promise<PreparedChatTurn> {
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
  const understood = await understandParts(engines, messages, scope.signal);
  const promptSafety = await engines.safety.checkPrompt(promptTexts(messages, understood), scope.signal);
  if (promptSafety.action === 'block') {
    const llm = await engines.llm();
    const { messages: llmMessages, audioText } = buildLlmMessages(messages, understood, { speaks: params.audioOut !== undefined });
    const promptTokens = await llm.countTokens(llmMessages.map((m) => m.content).join('\n'));
    recordChatUsage(
      ctx,
      id,
      params.model,
      {
        llmPromptTokens: promptTokens,
        audioDerivedTokens: audioText.length > 0 ? await llm.countTokens(audioText.join('\n')) : 0,
        cachedTokens: 0,
        completionTokens: 0,
        audioInSec: audioSecondsOf(messages),
        audioOutSec: 0,
      },
      { filtered: 'prompt' },
    );
    throw new ContentFilterError(promptSafety);
  }
  const audioId = params.audioOut ? `audio_${crypto.randomBytes(16).toString('hex')}` : undefined;
  return {
    id,
    created: Math.floor(Date.now() / 1000),
    audioId,
    promptSafety,
    run: (sink) => metered(scope, () => runPrepared(ctx, params, messages, understood, { id, audioId }, sink)),
  };
}

/** Understands every distinct input audio part (in parallel, each clip once). */
async function understandParts(engines: Engines, messages: readonly ChatTurnMessage[], signal: AbortSignal): Promise<Map<string, Understanding>> {
  const parts = new Map<string, Extract<ChatPart, { type: 'audio' }>>();
  for (const m of messages) for (const p of m.parts) if (p.type === 'audio') parts.set(p.digest, p);
  const understood = new Map<string, Understanding>();
  await Promise.all(
    [...parts.values()].map(async (part) => {
      understood.set(part.digest, await engines.understander.understand(part.pcm, part.digest, signal));
    }),
  );
  return understood;
}

/** What the prompt-side filters read: the users' text parts and what was heard in their audio. */
function promptTexts(messages: readonly ChatTurnMessage[], understood: ReadonlyMap<string, Understanding>): string[] {
  return messages
    .filter((m) => m.role === 'user')
    .flatMap((m) => m.parts.map((p) => (p.type === 'text' ? p.text : (understood.get(p.digest)?.transcript.text ?? ''))))
    .filter((t) => /\S/.test(t));
}

function audioSecondsOf(messages: readonly ChatTurnMessage[]): number {
  return messages.flatMap((m) => m.parts).reduce((sum, p) => (p.type === 'audio' ? sum + p.pcm.samples.length / p.pcm.sampleRate : sum), 0);
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
 * One chat turn after its input: the language model answers, and its words go through the reply
 * gate (each piece checked by the content filters before anybody gets it) to the client and — when
 * audio is requested — to the speaking path as they come, so the first passage is synthesised while
 * the model is still writing. A blocked passage stops the reply: finish reason `content_filter`,
 * the passage neither sent nor spoken, what was already sent stays valid. Audio is streamed as
 * pcm16 in order (sink.onAudio) or encoded whole; the reply audio is kept under its id and the
 * usage recorded.
 */
async function runPrepared(
  ctx: ChatContext,
  params: ChatTurnParams,
  messages: ChatTurnMessage[],
  understood: Map<string, Understanding>,
  ids: { id: string; audioId: string | undefined },
  sink: ChatTurnSink = {},
): Promise<ChatTurnResult> {
  const { engines, scope } = ctx;
  const audioOut = params.audioOut;
  const { messages: llmMessages, audioText } = buildLlmMessages(messages, understood, { speaks: audioOut !== undefined });
  const llm = await engines.llm();

  // The speaking path runs beside generation; its bytes are collected (and streamed) in order.
  const speech = audioOut
    ? new SpeechStream(engines.speaker, {
        voice: audioOut.voice,
        speed: 1,
        format: params.stream ? 'pcm' : outputFormat(audioOut.format),
        streaming: params.stream,
        signal: scope.signal,
        transform: engines.watermark.begin({ responseId: ids.id, owner: scope.owner, model: params.model, voice: audioOut.voice }),
      })
    : undefined;
  const spoken: Uint8Array[] = [];
  // What the metrics see: time to the first token and to the first audio, gaps between tokens.
  let firstAudioSec: number | undefined;
  let firstTokenSec: number | undefined;
  let lastTokenAt: number | undefined;
  const interTokenSec: number[] = [];
  const speaking = speech
    ? (async () => {
        for await (const bytes of speech.chunks()) {
          firstAudioSec ??= elapsedSec(scope);
          spoken.push(bytes);
          if (params.stream) sink.onAudio?.(bytes);
        }
      })()
    : Promise.resolve();
  speaking.catch(() => undefined); // awaited below; generation may fail first

  // A blocked passage stops generation: the model's signal is the request's plus the gate's.
  const stop = linkSignals(scope.signal);
  let generated = '';
  let released = '';
  const gate = new ReplyGate(engines.safety, {
    signal: scope.signal,
    release: ({ text, pieces }) => {
      released += text;
      sink.onText?.(text);
      if (!speech) return;
      if (pieces.length > 0) speech.pushPieces(pieces);
      else speech.push(text);
    },
    onBlock: () => stop.abort(new DOMException('reply stopped by the content filter', 'AbortError')),
  });

  let result: Awaited<ReturnType<typeof llm.generate>> | undefined;
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
      signal: stop.signal,
      onText: (delta) => {
        const now = performance.now();
        if (lastTokenAt === undefined) firstTokenSec = elapsedSec(scope);
        else interTokenSec.push((now - lastTokenAt) / 1000);
        lastTokenAt = now;
        generated += delta;
        gate.push(delta);
      },
    });
    if (result.toolCalls.length === 0) await gate.end();
  } catch (e) {
    if (!gate.blocked || scope.signal.aborted) {
      speech?.abort(e);
      stop.dispose();
      throw e;
    }
  } finally {
    stop.dispose();
  }
  const blocked = gate.blocked !== undefined;
  // A reply that calls tools is not spoken.
  if (result && result.toolCalls.length > 0) speech?.abort();
  else speech?.end();
  if (!result || result.toolCalls.length === 0) await speaking;
  scope.signal.throwIfAborted();

  const toolCalls = result?.toolCalls ?? [];
  const text = blocked ? released : (result?.text ?? released);
  let audio: ChatTurnResult['audio'];
  const audioOutSec = speech && toolCalls.length === 0 ? speech.stats.durationSec : 0;
  if (audioOut && ids.audioId && toolCalls.length === 0) {
    const data = concatBytes(spoken);
    // A streamed reply is kept as the pcm16 the client received.
    const stored = ctx.audioIds.put({
      id: ids.audioId,
      format: params.stream ? 'pcm16' : audioOut.format,
      data,
      transcript: text,
      ttlSec: REPLY_AUDIO_TTL_SEC,
      owner: scope.owner,
    });
    audio = { id: stored.id, data: params.stream ? new Uint8Array(0) : data, expiresAt: stored.expiresAt, transcript: text, durationSec: audioOutSec };
  }
  // A cut reply is billed for what the model generated (OpenAI and Azure bill prompt + completion).
  const usage = recordChatUsage(
    ctx,
    ids.id,
    params.model,
    {
      llmPromptTokens: result?.usage.promptTokens ?? (await llm.countTokens(llmMessages.map((m) => m.content).join('\n'))),
      audioDerivedTokens: audioText.length > 0 ? await llm.countTokens(audioText.join('\n')) : 0,
      cachedTokens: result?.usage.cachedTokens ?? 0,
      completionTokens: result?.usage.completionTokens ?? (await llm.countTokens(generated)),
      audioInSec: audioSecondsOf(messages),
      audioOutSec: audio ? audioOutSec : 0,
    },
    {
      firstTokenSec,
      firstAudioSec,
      interTokenSec,
      ttsRtf: realTimeFactor(scope, 'tts', audioOutSec),
      asrRtf: realTimeFactor(scope, 'asr', audioSecondsOf(messages)),
      ...(blocked ? { filtered: 'reply' as const } : {}),
    },
  );
  return {
    text,
    toolCalls,
    finishReason: blocked ? 'content_filter' : result!.finishReason,
    audio,
    usage,
    replySafety: gate.decision(),
  };
}

/** Records a turn's usage as OpenAI counts it, and returns it. */
function recordChatUsage(ctx: ChatContext, requestId: string, model: string, counts: Parameters<typeof chatUsage>[0], timings: RequestTimings): ChatUsage {
  const usage = chatUsage(counts);
  recordUsage(
    ctx,
    { endpoint: '/v1/chat/completions', model, requestId },
    {
      promptTextTokens: usage.promptTextTokens,
      promptAudioTokens: usage.promptAudioTokens,
      completionTextTokens: usage.completionTextTokens,
      completionAudioTokens: usage.completionAudioTokens,
      cachedTokens: usage.cachedTokens,
      audioInSec: usage.audioInSec,
      audioOutSec: usage.audioOutSec,
    },
    timings,
  );
  return usage;
}

function formatMb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}
