import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LlmToolCall } from '../../engines/llm/types.js';
import { type PreparedChatTurn, prepareChatTurn } from '../../pipeline/chat/turn.js';
import type { ChatTurnParams, ChatTurnResult, ChatUsage } from '../../pipeline/chat/types.js';
import type { Services } from '../../runtime/services.js';
import { azureContentFilterResults, azurePromptFilterResults } from '../../safety/azure.js';
import type { SafetyDecision } from '../../safety/types.js';
import { ApiError } from '../errors.js';
import { meteredUsage } from '../key-limits.js';
import type { RouteOptions } from '../mount.js';
import { requestScope } from '../request-scope.js';
import { SseQueue } from '../sse.js';
import { type ChatCompletionParams, parseChatBody } from './chat-params.js';

/** Base64 pcm16 is sent in slices of this many bytes (0.5 s at 24 kHz). */
const AUDIO_SLICE_BYTES = 24_000;

/** The model name OpenAI reports: the undated alias resolves to the dated snapshot. */
function reportedModel(model: string): string {
  return model === 'gpt-4o-mini-audio-preview'
    ? 'gpt-4o-mini-audio-preview-2024-12-17'
    : model === 'gpt-4o-audio-preview'
      ? 'gpt-4o-audio-preview-2024-12-17'
      : model;
}

/** Usage in OpenAI's wire shape. */
export function wireUsage(u: ChatUsage) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.totalTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens, audio_tokens: u.promptAudioTokens, text_tokens: u.promptTextTokens, image_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: u.completionAudioTokens,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
      text_tokens: u.completionTextTokens,
    },
  };
}

function wireToolCalls(calls: readonly LlmToolCall[]) {
  return calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));
}

/** Where chat completions are mounted, and what the mount checks beyond the wire rules. */
export interface ChatRouteOptions extends RouteOptions {
  /** Checks the parsed request before anything runs (Azure: audio needs a recent api-version). */
  checkTurn?: (request: FastifyRequest, turn: ChatTurnParams) => void;
}

/** What every response of one completion shares. */
interface Envelope {
  id: string;
  created: number;
  model: string;
  azure: boolean;
  /** What the content filters found in the prompt (Azure's `prompt_filter_results`). */
  promptSafety: SafetyDecision;
}

/**
 * `POST /v1/chat/completions`: maps the wire request to the pipeline's params, runs the turn in
 * `pipeline/chat`, and maps the result back — as one JSON body or as SSE chunks, in the OpenAI or
 * the Azure flavour. Nothing else happens here.
 */
export function chatRoutes(app: FastifyInstance, services: Services, options: ChatRouteOptions = {}): void {
  const prefix = options.prefix ?? '/v1';
  app.post(`${prefix}/chat/completions`, async (request, reply) => {
    const params = parseChatBody(request.body, services.models, { model: options.modelFor?.(request), customVoices: services.config.tts.customVoices });
    options.checkTurn?.(request, params.turn);
    const scope = requestScope(request, reply, services);
    const { chatAudioBytes, chatAudioSec } = services.config.limits;
    const ctx = {
      engines: services.engines(params.turn.model),
      audioIds: services.audioIds,
      usage: meteredUsage(request, services),
      scope,
      limits: { audioBytes: chatAudioBytes, audioSec: chatAudioSec },
    };
    const turn = await prepareChatTurn(ctx, params.turn);
    const envelope: Envelope = {
      id: turn.id,
      created: turn.created,
      model: reportedModel(params.turn.model),
      azure: options.azure === true,
      promptSafety: turn.promptSafety,
    };
    if (!params.turn.stream) return reply.send(completionBody(envelope, params, await turn.run()));
    return streamCompletion(reply, envelope, params, turn, scope.signal);
  });
}

function completionBody(e: Envelope, params: ChatCompletionParams, result: ChatTurnResult) {
  const message: Record<string, unknown> = { role: 'assistant', content: null, refusal: null };
  if (result.toolCalls.length > 0) {
    message.tool_calls = wireToolCalls(result.toolCalls);
  } else if (params.turn.audioOut && result.audio) {
    const a = result.audio;
    message.audio = { id: a.id, data: Buffer.from(a.data).toString('base64'), expires_at: a.expiresAt, transcript: a.transcript };
  } else {
    message.content = result.text;
  }
  return {
    id: e.id,
    object: 'chat.completion',
    created: e.created,
    model: e.model,
    ...(e.azure ? { prompt_filter_results: azurePromptFilterResults(e.promptSafety) } : {}),
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: result.finishReason,
        ...(e.azure ? { content_filter_results: azureContentFilterResults(result.replySafety) } : {}),
      },
    ],
    usage: wireUsage(result.usage),
    service_tier: 'default',
    system_fingerprint: 'fp_parley',
  };
}

function streamCompletion(reply: FastifyReply, e: Envelope, params: ChatCompletionParams, turn: PreparedChatTurn, signal: AbortSignal) {
  const audioOut = params.turn.audioOut;
  const events = new SseQueue();
  const chunk = (choices: unknown[], usage: unknown = null) => ({
    id: e.id,
    object: 'chat.completion.chunk',
    created: e.created,
    model: e.model,
    service_tier: 'default',
    system_fingerprint: 'fp_parley',
    choices,
    usage,
  });
  const push = (delta: Record<string, unknown>, finishReason: string | null = null, annotation?: SafetyDecision) =>
    events.push(
      chunk([
        {
          index: 0,
          delta,
          logprobs: null,
          finish_reason: finishReason,
          ...(e.azure ? { content_filter_results: finishReason ? azureContentFilterResults(annotation) : {} } : {}),
        },
      ]),
    );
  // Azure's first chunk carries only the prompt's filter results.
  if (e.azure)
    events.push({ id: '', object: '', created: 0, model: '', prompt_filter_results: azurePromptFilterResults(e.promptSafety), choices: [], usage: null });
  push({ role: 'assistant', content: audioOut ? null : '', refusal: null });
  let sentTranscript = false;
  let sentAudio = false;
  void turn
    .run({
      onText: (delta) => {
        if (!audioOut) return push({ content: delta });
        push({ ...(sentTranscript ? {} : { content: null }), audio: { ...(sentTranscript ? {} : { id: turn.audioId }), transcript: delta } });
        sentTranscript = true;
      },
      onAudio: (pcm16) => {
        for (let at = 0; at < pcm16.length; at += AUDIO_SLICE_BYTES) {
          const data = Buffer.from(pcm16.subarray(at, at + AUDIO_SLICE_BYTES)).toString('base64');
          push(sentAudio ? { audio: { data } } : { role: 'assistant', content: null, refusal: null, audio: { id: turn.audioId, data } });
          sentAudio = true;
        }
      },
    })
    .then(
      (result) => {
        if (result.toolCalls.length > 0) push({ tool_calls: wireToolCalls(result.toolCalls).map((t, index) => ({ index, ...t })) });
        else if (result.audio) push({ audio: { expires_at: result.audio.expiresAt } });
        push({}, result.finishReason, result.replySafety);
        if (params.includeUsage) events.push(chunk([], wireUsage(result.usage)));
        events.push('[DONE]');
      },
      (error: unknown) => {
        if (signal.aborted) return;
        const apiError = error instanceof ApiError ? error : ApiError.internal(error);
        if (apiError.status >= 500) reply.log.error({ err: apiError.cause ?? error }, 'chat stream failed');
        events.push(apiError.toWire());
      },
    )
    .finally(() => events.close());
  reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('connection', 'keep-alive');
  return reply.send(Readable.from(events.events()));
}
