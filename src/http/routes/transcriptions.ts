import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { decodeUpload } from '../../pipeline/heard.js';
import { type FullTranscript, TRANSCRIPT_FORMATS, type TranscriptFormat, toSrt, toVerboseJson, toVtt } from '../../pipeline/transcript-format.js';
import type { Services } from '../../runtime/services.js';
import { ApiError } from '../errors.js';
import { assertModelAllowed, meteredUsage } from '../key-limits.js';
import type { RouteOptions } from '../mount.js';
import { field, readUploadForm, type UploadForm } from '../multipart.js';
import { requestScope } from '../request-scope.js';
import { SseQueue } from '../sse.js';

/** OpenAI's upload limit for transcriptions. */
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
const GRANULARITIES = ['word', 'segment'] as const;

/** A validated transcription/translation form. */
export interface TranscriptionParams {
  model: string;
  audio: { bytes: Buffer; filename: string };
  language?: string;
  prompt?: string;
  responseFormat: TranscriptFormat;
  temperature: number;
  granularities: Set<'word' | 'segment'>;
  stream: boolean;
}

function parseForm(form: UploadForm, services: Services, task: 'transcribe' | 'translate', fixedModel?: string): TranscriptionParams {
  const model = fixedModel ?? field(form, 'model');
  if (model === undefined || model === '') throw ApiError.missingParameter('model');
  services.models.resolve(model, 'transcription');
  if (!form.file) throw ApiError.missingParameter('file');
  const language = task === 'transcribe' ? field(form, 'language') : undefined;
  if (language !== undefined && !/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/.test(language)) throw ApiError.invalidValue('language', language);
  const format = field(form, 'response_format') ?? 'json';
  if (!(TRANSCRIPT_FORMATS as readonly string[]).includes(format)) throw ApiError.invalidValue('response_format', format, TRANSCRIPT_FORMATS);
  const temperatureText = field(form, 'temperature');
  const temperature = temperatureText === undefined ? 0 : Number(temperatureText);
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 1) {
    throw ApiError.invalidRequest(
      'temperature',
      `Invalid 'temperature': expected a number between 0 and 1, but got '${temperatureText}' instead.`,
      'invalid_value',
    );
  }
  const granularities = new Set<'word' | 'segment'>();
  for (const value of [...(form.fields.get('timestamp_granularities[]') ?? []), ...(form.fields.get('timestamp_granularities') ?? [])]) {
    if (!(GRANULARITIES as readonly string[]).includes(value)) throw ApiError.invalidValue('timestamp_granularities', value, GRANULARITIES);
    granularities.add(value as 'word' | 'segment');
  }
  if (granularities.size > 0 && format !== 'verbose_json') {
    throw ApiError.invalidRequest('timestamp_granularities', "timestamp_granularities is only supported with response_format 'verbose_json'.", 'invalid_value');
  }
  const streamText = field(form, 'stream');
  const stream = streamText === 'true' || streamText === '1';
  return { model, audio: form.file, language, prompt: field(form, 'prompt'), responseFormat: format as TranscriptFormat, temperature, granularities, stream };
}

async function send(reply: FastifyReply, transcript: FullTranscript, params: TranscriptionParams, task: 'transcribe' | 'translate') {
  switch (params.responseFormat) {
    case 'text':
      return reply.type('text/plain; charset=utf-8').send(`${transcript.text}\n`);
    case 'srt':
      return reply.type('text/plain; charset=utf-8').send(toSrt(transcript));
    case 'vtt':
      return reply.type('text/plain; charset=utf-8').send(toVtt(transcript));
    case 'verbose_json':
      return reply.send(toVerboseJson(transcript, task, params.granularities));
    default:
      return reply.send({ text: transcript.text });
  }
}

/**
 * `POST /v1/audio/transcriptions` and `/v1/audio/translations` as OpenAI's (multipart). The audio
 * is decoded, trimmed and windowed by VAD, recognised, and rendered in the requested format;
 * `stream=true` sends `transcript.text.delta` events as each window is recognised.
 */
export function transcriptionRoutes(app: FastifyInstance, services: Services, options: RouteOptions = {}): void {
  const prefix = options.prefix ?? '/v1';
  const handle = (task: 'transcribe' | 'translate') => async (request: import('fastify').FastifyRequest, reply: FastifyReply) => {
    const form = await readUploadForm(request, { fileField: 'file', maxFileBytes: MAX_UPLOAD_BYTES });
    const params = parseForm(form, services, task, options.modelFor?.(request));
    assertModelAllowed(request, services, params.model);
    const ctx = { engines: services.engines(params.model), usage: meteredUsage(request, services), scope: requestScope(request, reply, services) };
    // A missing recogniser is said before the audio is decoded.
    await Promise.all([ctx.engines.asr(), ctx.engines.vad()]);
    const audio = await decodeUpload(ctx, params.model, {
      bytes: params.audio.bytes,
      param: 'file',
      format: params.audio.filename.split('.').pop(),
      maxBytes: MAX_UPLOAD_BYTES,
    });
    const turn = {
      language: params.language,
      prompt: params.prompt,
      temperature: params.temperature,
      task,
      wordTimestamps: params.granularities.has('word'),
    };
    if (!params.stream) return send(reply, await audio.transcribe(turn), params, task);

    const events = new SseQueue();
    audio
      .transcribe({ ...turn, onText: (delta) => events.push({ type: 'transcript.text.delta', delta }) })
      .then(
        (t) => events.push({ type: 'transcript.text.done', text: t.text }),
        (error: unknown) => {
          // The client left and the recognition stopped because of it: nobody to tell, nothing failed.
          if (ctx.scope.signal.aborted) return;
          const e = error instanceof ApiError ? error : ApiError.internal(error);
          if (e.status >= 500) reply.log.error({ err: e.cause ?? error }, 'transcription stream failed');
          events.push({ type: 'error', error: e.toWire().error });
        },
      )
      .finally(() => events.close());
    reply.header('content-type', 'text/event-stream').header('cache-control', 'no-cache');
    return reply.send(Readable.from(events.events()));
  };
  app.post(`${prefix}/audio/transcriptions`, handle('transcribe'));
  app.post(`${prefix}/audio/translations`, handle('translate'));
}
