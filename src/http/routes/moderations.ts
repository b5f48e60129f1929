import type { FastifyInstance } from 'fastify';
import { decodeBase64Strict } from '../../audio/decode/index.js';
import type { ModerationInput } from '../../pipeline/moderate.js';
import { moderateInputs } from '../../pipeline/moderate.js';
import type { Services } from '../../runtime/services.js';
import { renderModerationResponse } from '../../safety/moderation.js';
import { ApiError } from '../errors.js';
import { meteredUsage } from '../key-limits.js';
import { requestScope } from '../request-scope.js';
import { asObject, readEnum, readString } from '../validate.js';

const AUDIO_FORMATS = ['wav', 'mp3', 'flac', 'ogg', 'webm', 'm4a'] as const;
const MAX_INPUTS = 32;

/** The `input` of a moderation request: a string, strings, or content parts (text, and — a Parley extension — input_audio). */
function parseInputs(value: unknown): ModerationInput[] {
  if (value === undefined || value === null) throw ApiError.missingParameter('input');
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  if (!Array.isArray(value))
    throw ApiError.invalidRequest('input', "Invalid type for 'input': expected a string, an array of strings or an array of content parts.", 'invalid_type');
  if (value.length === 0) throw ApiError.invalidRequest('input', "Invalid 'input': empty array.", 'empty_array');
  if (value.length > MAX_INPUTS) throw ApiError.invalidRequest('input', `Invalid 'input': at most ${MAX_INPUTS} inputs per request.`, 'array_above_max_length');
  return value.map((item, i): ModerationInput => {
    const at = `input[${i}]`;
    if (typeof item === 'string') return { type: 'text', text: item };
    const part = asObject(item, at);
    switch (part.type) {
      case 'text':
        return { type: 'text', text: readString(part, 'text', { required: true }, at) };
      case 'input_audio': {
        const audio = asObject(part.input_audio ?? null, `${at}.input_audio`);
        const format = readEnum(audio, 'format', AUDIO_FORMATS, {}, `${at}.input_audio`);
        const data = decodeBase64Strict(readString(audio, 'data', { required: true }, `${at}.input_audio`), `${at}.input_audio.data`, {
          maxBytes: 20 * 1024 * 1024,
        });
        return { type: 'audio', data, ...(format ? { format } : {}), param: `${at}.input_audio.data` };
      }
      case 'image_url':
        throw ApiError.invalidRequest(
          `${at}.type`,
          'Images cannot be moderated by this server: it has no image model. Send text or input_audio.',
          'unsupported_value',
        );
      default:
        throw ApiError.invalidValue(`${at}.type`, part.type, ['text', 'image_url', 'input_audio']);
    }
  });
}

/**
 * `POST /v1/moderations` as OpenAI's (all 13 categories, scores, applied input types; string, strings
 * or content parts), backed by the safety layers of the default pipeline — see src/safety/README.md
 * for which layer covers which category. Parley extension: an `input_audio` part is transcribed and
 * moderated as its transcript, which the result then carries as `transcript`.
 */
export function moderationRoutes(app: FastifyInstance, services: Services): void {
  app.post('/v1/moderations', async (request, reply) => {
    const body = asObject(request.body);
    const model = readString(body, 'model') ?? 'omni-moderation-latest';
    const inputs = parseInputs(body.input);
    const scope = requestScope(request, reply, services);
    const moderated = await moderateInputs({ engines: services.engines(), usage: meteredUsage(request, services), scope }, model, inputs);
    const wire = renderModerationResponse({ model, outcomes: moderated.map((m) => m.outcome) });
    return {
      ...wire,
      results: wire.results.map((r, i) => ({ ...r, ...(moderated[i]!.transcript !== undefined ? { transcript: moderated[i]!.transcript } : {}) })),
    };
  });
}
