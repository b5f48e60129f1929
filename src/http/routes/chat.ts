import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LlmToolCall } from '../../engines/llm/types.js';
import { runChatTurn } from '../../pipeline/chat/turn.js';
import type { ChatTurnResult, ChatUsage } from '../../pipeline/chat/types.js';
import { requestKey } from '../auth.js';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { SseQueue } from '../sse.js';
import { type ChatParams, parseChatBody } from './chat-params.js';
import { clientAbortSignal, type RouteOptions } from './speech.js';

/** Base64 pcm16 is sent in slices of this many bytes (0.5 s at 24 kHz). */
const AUDIO_SLICE_BYTES = 24_000;
/** Reply audio can be referred to for one hour (OpenAI's `expires_at`). */
const AUDIO_TTL_SEC = 3600;

/** The model name OpenAI reports: the undated alias resolves to the dated snapshot. */
function reportedModel(model: string): string {
  return model === 'gpt-4o-mini-audio-preview'
    ? 'gpt-4o-mini-audio-preview-2024-12-17'
    : model === 'gpt-4o-audio-preview'
      ? 'gpt-4o-audio-preview-2024-12-17'
      : model;
}

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

/** Azure adds content-filter annotations; Parley's filters passed everything they saw. */
const SAFE = { filtered: false, severity: 'safe' };
const CONTENT_FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };

export interface ChatRouteOptions extends RouteOptions {
  /** Azure flavour: content-filter annotations on responses. */
  azure?: boolean;
}

/** `POST /v1/chat/completions`: the audio chat pipeline, non-streamed or as SSE chunks. */
export function chatRoutes(app: FastifyInstance, services: Services, options: ChatRouteOptions = {}): void {
  const prefix = options.prefix ?? '/v1';
  app.post(`${prefix}/chat/completions`, async (request, reply) => {
    const signal = clientAbortSignal(request, reply, services);
    // Reply audio belongs to the key that made it; without configured keys everything is anonymous.
    const apiKey = services.config.apiKeys.length > 0 ? requestKey(request) : undefined;
    const params = await parseChatBody(request.body, services, { apiKey, signal, model: options.modelFor?.(request) });
    const llm = await services.llm();
    const id = `chatcmpl-${crypto.randomBytes(15).toString('base64url')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = reportedModel(params.model);
    const deps = { llm, speaker: services.speaker, understand: services.understand };
    if (!params.stream) {
      const result = await runChatTurn(deps, { ...params.turn, streamAudio: false, signal });
      const body = completionBody(services, { id, created, model, params, result, apiKey, azure: !!options.azure });
      services.usage?.record({ requestId: request.id, apiKey, endpoint: '/v1/chat/completions', model, usage: result.usage });
      return reply.send(body);
    }
    return streamCompletion(services, reply, { id, created, model, params, signal, apiKey, requestId: request.id, azure: !!options.azure, deps });
  });
}

function completionBody(
  services: Services,
  c: { id: string; created: number; model: string; params: ChatParams; result: ChatTurnResult; apiKey?: string; azure: boolean },
) {
  const { result } = c;
  const message: Record<string, unknown> = { role: 'assistant', content: null, refusal: null };
  if (result.toolCalls.length > 0) {
    message.tool_calls = wireToolCalls(result.toolCalls);
  } else if (c.params.turn.audioOut && result.audio) {
    const stored = services.audioStore.put({
      format: c.params.turn.audioOut.format,
      data: result.audio.data,
      transcript: result.text,
      ttlSec: AUDIO_TTL_SEC,
      apiKey: c.apiKey,
    });
    message.audio = { id: stored.id, data: Buffer.from(result.audio.data).toString('base64'), expires_at: stored.expiresAt, transcript: result.text };
  } else {
    message.content = result.text;
  }
  return {
    id: c.id,
    object: 'chat.completion',
    created: c.created,
    model: c.model,
    ...(c.azure ? { prompt_filter_results: [{ prompt_index: 0, content_filter_results: CONTENT_FILTER_RESULTS }] } : {}),
    choices: [
      { index: 0, message, logprobs: null, finish_reason: result.finishReason, ...(c.azure ? { content_filter_results: CONTENT_FILTER_RESULTS } : {}) },
    ],
    usage: wireUsage(result.usage),
    service_tier: 'default',
    system_fingerprint: 'fp_parley',
  };
}

function streamCompletion(
  services: Services,
  reply: FastifyReply,
  c: {
    id: string;
    created: number;
    model: string;
    params: ChatParams;
    signal: AbortSignal;
    apiKey?: string;
    requestId: string;
    azure: boolean;
    deps: Parameters<typeof runChatTurn>[0];
  },
) {
  const audioOut = c.params.turn.audioOut;
  const audioId = `audio_${crypto.randomBytes(16).toString('hex')}`;
  const events = new SseQueue();
  const push = (delta: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}) => {
    const chunk = {
      id: c.id,
      object: 'chat.completion.chunk',
      created: c.created,
      model: c.model,
      service_tier: 'default',
      system_fingerprint: 'fp_parley',
      choices: [
        {
          index: 0,
          delta,
          logprobs: null,
          finish_reason: finishReason,
          ...(c.azure ? { content_filter_results: finishReason ? CONTENT_FILTER_RESULTS : {} } : {}),
        },
      ],
      usage: null,
      ...extra,
    };
    events.push(chunk);
  };
  push({ role: 'assistant', content: audioOut ? null : '', refusal: null });
  let sentTranscript = false;
  let sentAudio = false;
  const audioBytes: Uint8Array[] = [];
  void runChatTurn(
    c.deps,
    { ...c.params.turn, streamAudio: true, signal: c.signal },
    {
      onText: (delta) => {
        if (delta.length === 0) return;
        if (!audioOut) return push({ content: delta });
        push({ ...(sentTranscript ? {} : { content: null }), audio: { ...(sentTranscript ? {} : { id: audioId }), transcript: delta } });
        sentTranscript = true;
      },
      onAudio: (pcm16) => {
        audioBytes.push(pcm16);
        for (let at = 0; at < pcm16.length; at += AUDIO_SLICE_BYTES) {
          const data = Buffer.from(pcm16.subarray(at, at + AUDIO_SLICE_BYTES)).toString('base64');
          push(sentAudio ? { audio: { data } } : { role: 'assistant', content: null, refusal: null, audio: { id: audioId, data } });
          sentAudio = true;
        }
      },
    },
  )
    .then(
      (result) => {
        if (result.toolCalls.length > 0) {
          push({ tool_calls: wireToolCalls(result.toolCalls).map((t, index) => ({ index, ...t })) });
        } else if (audioOut) {
          const data = Buffer.concat(audioBytes);
          const stored = services.audioStore.put({ id: audioId, format: 'pcm16', data, transcript: result.text, ttlSec: AUDIO_TTL_SEC, apiKey: c.apiKey });
          push({ audio: { expires_at: stored.expiresAt } });
        }
        push({}, result.finishReason);
        if (c.params.includeUsage) {
          const chunk = {
            id: c.id,
            object: 'chat.completion.chunk',
            created: c.created,
            model: c.model,
            service_tier: 'default',
            system_fingerprint: 'fp_parley',
            choices: [],
            usage: wireUsage(result.usage),
          };
          events.push(chunk);
        }
        services.usage?.record({ requestId: c.requestId, apiKey: c.apiKey, endpoint: '/v1/chat/completions', model: c.model, usage: result.usage });
        events.push('[DONE]');
      },
      (error: unknown) => {
        if (c.signal.aborted) return;
        const e = error instanceof ApiError ? error : ApiError.internal(error);
        if (e.status >= 500) reply.log.error({ err: e.cause ?? error }, 'chat stream failed');
        events.push(e.toWire());
      },
    )
    .finally(() => events.close());
  reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('connection', 'keep-alive');
  return reply.send(Readable.from(events.events()));
}
