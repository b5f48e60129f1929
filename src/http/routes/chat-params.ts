import crypto from 'node:crypto';
import { decodeAudio, decodeBase64Strict, DEFAULT_MAX_BYTES as MAX_INPUT_AUDIO_BYTES } from '../../audio/decode/index.js';
import type { LlmResponseFormat, LlmTool, LlmToolCall } from '../../engines/llm/types.js';
import { CHAT_AUDIO_FORMATS, type ChatPart, type ChatTurnMessage, type ChatTurnRequest } from '../../pipeline/chat/types.js';
import { RECOGNITION_RATE } from '../../pipeline/transcribe.js';
import { ApiError, listQuoted } from '../errors.js';
import type { Services } from '../services.js';
import { asObject, type Body, readBoolean, readEnum, readNumber, readString } from '../validate.js';

const INPUT_AUDIO_FORMATS = ['wav', 'mp3'] as const;
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

/** What the route needs besides the turn itself. */
export interface ChatParams {
  model: string;
  turn: Omit<ChatTurnRequest, 'signal' | 'streamAudio'>;
  stream: boolean;
  includeUsage: boolean;
  store: boolean;
  metadata?: Record<string, string>;
  user?: string;
}

function typeError(param: string, expected: string): ApiError {
  return ApiError.invalidRequest(param, `Invalid type for '${param}': expected ${expected}.`, 'invalid_type');
}

/** Text of a content given as a string or an array of text parts. */
function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw typeError(param, 'a string or an array of content parts');
  return content
    .map((part, j) => {
      const p = asObject(part, `${param}[${j}]`);
      if (p.type === 'text' || p.type === 'refusal') return readString(p, p.type === 'text' ? 'text' : 'refusal', { required: true }, `${param}[${j}]`);
      throw ApiError.invalidValue(`${param}[${j}].type`, p.type, ['text']);
    })
    .join('\n');
}

async function userParts(content: unknown, param: string, signal?: AbortSignal): Promise<ChatPart[]> {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw typeError(param, 'a string or an array of content parts');
  if (content.length === 0)
    throw ApiError.invalidRequest(
      param,
      `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
      'empty_array',
    );
  const parts: ChatPart[] = [];
  for (let j = 0; j < content.length; j++) {
    const at = `${param}[${j}]`;
    const p = asObject(content[j], at);
    switch (p.type) {
      case 'text':
        parts.push({ type: 'text', text: readString(p, 'text', { required: true }, at) });
        break;
      case 'input_audio': {
        const audio = asObject(p.input_audio ?? null, `${at}.input_audio`);
        const format = readEnum(audio, 'format', INPUT_AUDIO_FORMATS, { required: true }, `${at}.input_audio`)!;
        const data = readString(audio, 'data', { required: true }, `${at}.input_audio`);
        const bytes = decodeBase64Strict(data, `${at}.input_audio.data`, { maxBytes: MAX_INPUT_AUDIO_BYTES });
        let pcm: Awaited<ReturnType<typeof decodeAudio>>;
        try {
          pcm = await decodeAudio(bytes, { param: `${at}.input_audio.data`, format, maxBytes: MAX_INPUT_AUDIO_BYTES, maxRate: RECOGNITION_RATE, signal });
        } catch (e) {
          // OpenAI names `messages` for undecodable audio (captured); sizes keep the part's path.
          if (e instanceof ApiError && e.code === 'unsupported_format') throw ApiError.unsupportedFormat('messages');
          throw e;
        }
        parts.push({ type: 'audio', pcm, digest: crypto.createHash('sha256').update(bytes).digest('hex'), param: `${at}.input_audio` });
        break;
      }
      case 'image_url':
      case 'file':
        throw ApiError.invalidRequest(
          `${at}.type`,
          `Invalid content type: '${String(p.type)}' is not supported by this model. Supported types are: 'text' and 'input_audio'.`,
          'unsupported_value',
        );
      default:
        throw ApiError.invalidValue(`${at}.type`, p.type, ['text', 'input_audio', 'image_url']);
    }
  }
  return parts;
}

function toolCallsOf(value: unknown, param: string): LlmToolCall[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw typeError(param, 'an array');
  return value.map((raw, k) => {
    const c = asObject(raw, `${param}[${k}]`);
    const fn = asObject(c.function ?? null, `${param}[${k}].function`);
    return {
      id: readString(c, 'id', { required: true }, `${param}[${k}]`),
      name: readString(fn, 'name', { required: true }, `${param}[${k}].function`),
      arguments: readString(fn, 'arguments', {}, `${param}[${k}].function`) ?? '{}',
    };
  });
}

async function parseMessages(value: unknown, services: Services, apiKey: string | undefined, signal?: AbortSignal): Promise<ChatTurnMessage[]> {
  if (value === undefined || value === null) throw ApiError.missingParameter('messages');
  if (!Array.isArray(value)) throw typeError('messages', 'an array');
  if (value.length === 0)
    throw ApiError.invalidRequest(
      'messages',
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'empty_array',
    );
  const out: ChatTurnMessage[] = [];
  for (let i = 0; i < value.length; i++) {
    const at = `messages[${i}]`;
    const m = asObject(value[i], at);
    const role = readEnum(m, 'role', ROLES, { required: true }, at)!;
    switch (role) {
      case 'system':
      case 'developer':
        out.push({ role: 'system', parts: [{ type: 'text', text: textOf(m.content, `${at}.content`) }] });
        break;
      case 'user':
        if (m.content === undefined || m.content === null) throw ApiError.missingParameter(`${at}.content`);
        out.push({ role: 'user', parts: await userParts(m.content, `${at}.content`, signal) });
        break;
      case 'assistant': {
        let text = textOf(m.content, `${at}.content`);
        if (m.audio !== undefined && m.audio !== null) {
          const ref = asObject(m.audio, `${at}.audio`);
          const id = readString(ref, 'id', { required: true }, `${at}.audio`);
          const stored = services.audioStore.get(id, apiKey);
          if (!stored) {
            throw new ApiError({
              status: 400,
              type: 'invalid_request_error',
              code: 'audio_not_found',
              param: `${at}.audio.id`,
              message: `Assistant audio ${id} not found.`,
            });
          }
          text = text ? `${text}\n${stored.transcript}` : stored.transcript;
        }
        out.push({ role: 'assistant', parts: [{ type: 'text', text }], toolCalls: toolCallsOf(m.tool_calls, `${at}.tool_calls`) });
        break;
      }
      case 'tool':
        out.push({
          role: 'tool',
          parts: [{ type: 'text', text: textOf(m.content, `${at}.content`) }],
          toolCallId: readString(m, 'tool_call_id', { required: true }, at),
        });
        break;
      case 'function':
        out.push({
          role: 'tool',
          parts: [{ type: 'text', text: textOf(m.content, `${at}.content`) }],
          toolCallId: readString(m, 'name', {}, at) ?? 'function',
        });
        break;
    }
  }
  return out;
}

function parseTools(body: Body): { tools?: LlmTool[]; toolChoice?: ChatTurnRequest['toolChoice'] } {
  let tools: LlmTool[] | undefined;
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw typeError('tools', 'an array');
    tools = body.tools.map((raw, k) => {
      const t = asObject(raw, `tools[${k}]`);
      readEnum(t, 'type', ['function'] as const, { required: true }, `tools[${k}]`);
      const fn = asObject(t.function ?? null, `tools[${k}].function`);
      const name = readString(fn, 'name', { required: true, min: 1, max: 64 }, `tools[${k}].function`);
      if (!/^[a-zA-Z0-9_-]+$/.test(name))
        throw ApiError.invalidRequest(
          `tools[${k}].function.name`,
          `Invalid 'tools[${k}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
          'invalid_value',
        );
      const parameters = fn.parameters === undefined ? undefined : asObject(fn.parameters, `tools[${k}].function.parameters`);
      return { name, description: readString(fn, 'description', {}, `tools[${k}].function`), parameters };
    });
  }
  let toolChoice: ChatTurnRequest['toolChoice'];
  const choice = body.tool_choice;
  if (choice !== undefined && choice !== null) {
    if (typeof choice === 'string') {
      toolChoice = readEnum(body, 'tool_choice', ['none', 'auto', 'required'] as const);
    } else {
      const c = asObject(choice, 'tool_choice');
      const fn = asObject(c.function ?? null, 'tool_choice.function');
      const name = readString(fn, 'name', { required: true }, 'tool_choice.function');
      if (!tools?.some((t) => t.name === name)) throw ApiError.invalidValue('tool_choice.function.name', name, tools?.map((t) => t.name) ?? []);
      toolChoice = { name };
    }
    if (toolChoice !== 'none' && !tools)
      throw ApiError.invalidRequest(
        'tool_choice',
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        'invalid_value',
      );
  }
  return { tools, toolChoice };
}

function parseResponseFormat(body: Body): LlmResponseFormat | undefined {
  if (body.response_format === undefined || body.response_format === null) return undefined;
  const rf = asObject(body.response_format, 'response_format');
  const type = readEnum(rf, 'type', ['text', 'json_object', 'json_schema'] as const, { required: true }, 'response_format')!;
  if (type !== 'json_schema') return { type };
  const js = asObject(rf.json_schema ?? null, 'response_format.json_schema');
  const name = readString(js, 'name', { required: true, min: 1, max: 64 }, 'response_format.json_schema');
  const schema = js.schema === undefined ? { type: 'object' } : asObject(js.schema, 'response_format.json_schema.schema');
  return { type, name, schema, strict: readBoolean(js, 'strict', {}, 'response_format.json_schema') };
}

function parseStop(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw typeError('stop', 'a string or an array of strings');
  if (list.length > 4)
    throw ApiError.invalidRequest(
      'stop',
      `Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length ${list.length} instead.`,
      'array_above_max_length',
    );
  return (list as string[]).filter((s) => s.length > 0);
}

function parseMetadata(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const m = asObject(value, 'metadata');
  const entries = Object.entries(m);
  if (entries.length > 16)
    throw ApiError.invalidRequest(
      'metadata',
      "Invalid 'metadata': too many properties. Expected an object with at most 16 properties.",
      'object_above_max_properties',
    );
  for (const [k, v] of entries) {
    if (k.length > 64) throw ApiError.invalidRequest(`metadata.${k}`, `Invalid 'metadata': keys must be at most 64 characters.`, 'invalid_value');
    if (typeof v !== 'string' || v.length > 512)
      throw ApiError.invalidRequest(`metadata.${k}`, `Invalid 'metadata.${k}': expected a string of at most 512 characters.`, 'invalid_type');
  }
  return m as Record<string, string>;
}

/**
 * Reads and checks a chat-completions body: every contract error with OpenAI's wording and the
 * field's path. Decodes input audio and resolves assistant audio ids (so it is async).
 */
export async function parseChatBody(raw: unknown, services: Services, options: { apiKey?: string; signal?: AbortSignal; model?: string }): Promise<ChatParams> {
  const body = asObject(raw);
  const model = options.model ?? readString(body, 'model', { required: true });
  services.models.resolve(model, 'chat');

  let modalities: Array<'text' | 'audio'> = ['text'];
  if (body.modalities !== undefined && body.modalities !== null) {
    if (!Array.isArray(body.modalities)) throw typeError('modalities', 'an array');
    modalities = body.modalities.map((v, k) => {
      if (v !== 'text' && v !== 'audio') throw ApiError.invalidValue(`modalities[${k}]`, v, ['text', 'audio']);
      return v;
    });
  }
  const stream = readBoolean(body, 'stream', { default: false })!;
  let audioOut: ChatTurnRequest['audioOut'];
  if (modalities.includes('audio')) {
    if (body.audio === undefined || body.audio === null) throw ApiError.missingParameter('audio');
    const audio = asObject(body.audio, 'audio');
    let voice: string;
    if (typeof audio.voice === 'object' && audio.voice !== null)
      voice = readString(asObject(audio.voice, 'audio.voice'), 'id', { required: true }, 'audio.voice');
    else voice = readString(audio, 'voice', { required: true }, 'audio');
    const voices = services.speaker.voiceNames();
    if (!voices.includes(voice)) throw ApiError.invalidValue('audio.voice', voice, voices);
    const format = readEnum(audio, 'format', CHAT_AUDIO_FORMATS, { required: true }, 'audio')!;
    if (stream && format !== 'pcm16') {
      throw ApiError.unsupportedValue(
        'audio.format',
        `Unsupported value: 'audio.format' does not support '${format}' when stream=true. Supported values are: 'pcm16'.`,
      );
    }
    audioOut = { voice, format };
  } else if (body.audio !== undefined && body.audio !== null) {
    throw ApiError.invalidRequest('audio', "The 'audio' parameter requires 'modalities' to include 'audio'.", 'invalid_value');
  }

  const n = readNumber(body, 'n', { integer: true, min: 1, default: 1 })!;
  if (n !== 1) throw ApiError.unsupportedValue('n', `Unsupported value: 'n' must be 1 for this model; got ${n}. Supported values are: ${listQuoted(['1'])}.`);
  const maxCompletion = readNumber(body, 'max_completion_tokens', { integer: true, min: 1 });
  const maxTokens = maxCompletion ?? readNumber(body, 'max_tokens', { integer: true, min: 1 });
  const responseFormat = parseResponseFormat(body);
  if (audioOut && responseFormat && responseFormat.type !== 'text') {
    throw ApiError.unsupportedValue(
      'response_format',
      `Unsupported value: 'response_format' of type '${responseFormat.type}' is not supported with the 'audio' modality.`,
    );
  }
  const streamOptions = body.stream_options === undefined || body.stream_options === null ? undefined : asObject(body.stream_options, 'stream_options');
  if (streamOptions && !stream)
    throw ApiError.invalidRequest('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'invalid_value');
  const messages = await parseMessages(body.messages, services, options.apiKey, options.signal);
  return {
    model,
    stream,
    includeUsage: streamOptions ? (readBoolean(streamOptions, 'include_usage', {}, 'stream_options') ?? false) : false,
    store: readBoolean(body, 'store', { default: false })!,
    metadata: parseMetadata(body.metadata),
    user: readString(body, 'user', { max: 512 }),
    turn: {
      messages,
      audioOut,
      temperature: readNumber(body, 'temperature', { min: 0, max: 2 }),
      topP: readNumber(body, 'top_p', { min: 0, max: 1 }),
      maxTokens,
      stop: parseStop(body.stop),
      seed: readNumber(body, 'seed', { integer: true }),
      responseFormat,
      ...parseTools(body),
    },
  };
}
