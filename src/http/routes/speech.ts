import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { OutputFormat } from '../../audio/types.js';
import { hasSpeakableText } from '../../pipeline/sentences.js';
import { synthesizeSpeech } from '../../pipeline/speech.js';
import type { Services } from '../../runtime/services.js';
import { ApiError } from '../errors.js';
import { meteredUsage } from '../key-limits.js';
import type { RouteOptions } from '../mount.js';
import { readVoice } from '../params.js';
import { requestScope } from '../request-scope.js';
import { sseData } from '../sse.js';
import { asObject, readEnum, readNumber, readString } from '../validate.js';

/** OpenAI's `response_format` values for speech, in the order its docs list them. */
export const SPEECH_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const satisfies readonly OutputFormat[];
const STREAM_FORMATS = ['audio', 'sse'] as const;

/** A validated `POST /v1/audio/speech` body (camelCase inside Parley). */
export interface SpeechCreateParams {
  model: string;
  input: string;
  voice: string;
  responseFormat: OutputFormat;
  speed: number;
  instructions?: string;
  streamFormat: 'audio' | 'sse';
}

/** Reads and checks the body; every problem is an ApiError naming its field. */
export function parseSpeechBody(raw: unknown, services: Services, fixedModel?: string): SpeechCreateParams {
  const body = asObject(raw);
  const model = fixedModel ?? readString(body, 'model', { required: true });
  services.models.resolve(model, 'speech');
  const input = readString(body, 'input', { required: true, min: 1, max: 4096 });
  if (!hasSpeakableText(input)) {
    throw ApiError.invalidRequest('input', "Invalid 'input': there is nothing to speak in it (no letters or digits).", 'invalid_value');
  }
  const voice = readVoice(body.voice, 'voice', services.config.tts.customVoices);
  const voices = services.engines(model).speaker.voiceNames();
  if (!voices.includes(voice)) throw ApiError.invalidValue('voice', voice, voices);
  const responseFormat = readEnum(body, 'response_format', SPEECH_FORMATS, { default: 'mp3' })!;
  const speed = readNumber(body, 'speed', { min: 0.25, max: 4, default: 1 })!;
  const instructions = readString(body, 'instructions', { max: 4096 });
  const streamFormat = readEnum(body, 'stream_format', STREAM_FORMATS, { default: 'audio' })!;
  return { model, input, voice, responseFormat, speed, instructions, streamFormat };
}

/** `POST /v1/audio/speech` as OpenAI's: audio bytes, streamed as they are made, or SSE events. */
export function speechRoutes(app: FastifyInstance, services: Services, options: RouteOptions = {}): void {
  app.post(`${options.prefix ?? '/v1'}/audio/speech`, async (request, reply) => {
    const params = parseSpeechBody(request.body, services, options.modelFor?.(request));
    const scope = requestScope(request, reply, services);
    const speech = await synthesizeSpeech(
      { engines: services.engines(params.model), usage: meteredUsage(request, services), scope },
      {
        model: params.model,
        input: params.input,
        voice: params.voice,
        format: params.responseFormat,
        speed: params.speed,
        instructions: params.instructions,
      },
    );
    const chunks = speech.chunks;
    // Wait for the first bytes before committing to 200, so an engine failure on the first
    // passage is still a clean JSON error.
    const first = await chunks.next();
    const body =
      params.streamFormat === 'sse'
        ? (async function* events(): AsyncGenerator<string> {
            if (!first.done) yield sseData({ type: 'speech.audio.delta', audio: Buffer.from(first.value).toString('base64') });
            for await (const chunk of chunks) yield sseData({ type: 'speech.audio.delta', audio: Buffer.from(chunk).toString('base64') });
            const { inputTokens, outputTokens } = speech.usage();
            yield sseData({
              type: 'speech.audio.done',
              usage: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
            });
          })()
        : (async function* bytes(): AsyncGenerator<Buffer> {
            if (!first.done) yield Buffer.from(first.value);
            for await (const chunk of chunks) yield Buffer.from(chunk);
          })();
    if (params.streamFormat === 'sse') reply.header('content-type', 'text/event-stream').header('cache-control', 'no-cache');
    else reply.header('content-type', speech.contentType);
    return reply.send(Readable.from(body, { objectMode: false }));
  });
}
