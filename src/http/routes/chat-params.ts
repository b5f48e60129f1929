import { decodeBase64Strict } from '../../audio/decode/index.js';
import type { LlmResponseFormat, LlmTool, LlmToolCall } from '../../engines/llm/types.js';
import { MAX_CHAT_AUDIO_BYTES } from '../../pipeline/chat/turn.js';
import { CHAT_AUDIO_FORMATS, CHAT_INPUT_AUDIO_FORMATS, type ChatInputMessage, type ChatInputPart, type ChatTurnParams } from '../../pipeline/chat/types.js';
import type { ModelRegistry } from '../../pipeline/models.js';
import { ApiError, listQuoted } from '../errors.js';
import { readMetadata, readVoice } from '../params.js';
import { asObject, type Body, readBoolean, readEnum, readNumber, readString } from '../validate.js';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

/** A chat-completions request: the turn for the pipeline, and what only the wire answer needs. */
export interface ChatCompletionParams {
  turn: ChatTurnParams;
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

function userParts(content: unknown, param: string): ChatInputPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw typeError(param, 'a string or an array of content parts');
  if (content.length === 0)
    throw ApiError.invalidRequest(
      param,
      `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`,
      'empty_array',
    );
  const parts: ChatInputPart[] = [];
  for (let j = 0; j < content.length; j++) {
    const at = `${param}[${j}]`;
    const p = asObject(content[j], at);
    switch (p.type) {
      case 'text':
        parts.push({ type: 'text', text: readString(p, 'text', { required: true }, at) });
        break;
      case 'input_audio': {
        const audio = asObject(p.input_audio ?? null, `${at}.input_audio`);
        const format = readEnum(audio, 'format', CHAT_INPUT_AUDIO_FORMATS, { required: true }, `${at}.input_audio`)!;
        const data = readString(audio, 'data', { required: true }, `${at}.input_audio`);
        const bytes = decodeBase64Strict(data, `${at}.input_audio.data`, { maxBytes: MAX_CHAT_AUDIO_BYTES });
        parts.push({ type: 'audio', data: bytes, format, param: `${at}.input_audio` });
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

function parseMessages(value: unknown): ChatInputMessage[] {
  if (value === undefined || value === null) throw ApiError.missingParameter('messages');
  if (!Array.isArray(value)) throw typeError('messages', 'an array');
  if (value.length === 0)
    throw ApiError.invalidRequest(
      'messages',
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'empty_array',
    );
  const out: ChatInputMessage[] = [];
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
        out.push({ role: 'user', parts: userParts(m.content, `${at}.content`) });
        break;
      case 'assistant': {
        const text = textOf(m.content, `${at}.content`);
        let audioRef: ChatInputMessage['audioRef'];
        if (m.audio !== undefined && m.audio !== null) {
          const ref = asObject(m.audio, `${at}.audio`);
          audioRef = { id: readString(ref, 'id', { required: true }, `${at}.audio`), param: `${at}.audio` };
        }
        out.push({
          role: 'assistant',
          parts: text ? [{ type: 'text', text }] : [],
          ...(audioRef ? { audioRef } : {}),
          toolCalls: toolCallsOf(m.tool_calls, `${at}.tool_calls`),
        });
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

function parseTools(body: Body): { tools?: LlmTool[]; toolChoice?: ChatTurnParams['toolChoice'] } {
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
  let toolChoice: ChatTurnParams['toolChoice'];
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

/**
 * Reads and checks a chat-completions body: every wire rule with OpenAI's wording and the field's
 * path. Maps it to the pipeline's typed params; what needs the engines (voices, audio ids,
 * decoding) is checked by the pipeline.
 */
export function parseChatBody(
  raw: unknown,
  models: ModelRegistry,
  options: { model?: string; customVoices?: Readonly<Record<string, unknown>> } = {},
): ChatCompletionParams {
  const fixedModel = options.model;
  const customVoices = options.customVoices ?? {};
  const body = asObject(raw);
  const model = fixedModel ?? readString(body, 'model', { required: true });
  models.resolve(model, 'chat');

  let modalities: Array<'text' | 'audio'> = ['text'];
  if (body.modalities !== undefined && body.modalities !== null) {
    if (!Array.isArray(body.modalities)) throw typeError('modalities', 'an array');
    modalities = body.modalities.map((v, k) => {
      if (v !== 'text' && v !== 'audio') throw ApiError.invalidValue(`modalities[${k}]`, v, ['text', 'audio']);
      return v;
    });
  }
  const stream = readBoolean(body, 'stream', { default: false })!;
  let audioOut: ChatTurnParams['audioOut'];
  if (modalities.includes('audio')) {
    if (body.audio === undefined || body.audio === null) throw ApiError.missingParameter('audio');
    const audio = asObject(body.audio, 'audio');
    const voice = readVoice(audio.voice, 'audio.voice', customVoices);
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
  const messages = parseMessages(body.messages);
  return {
    includeUsage: streamOptions ? (readBoolean(streamOptions, 'include_usage', {}, 'stream_options') ?? false) : false,
    store: readBoolean(body, 'store', { default: false })!,
    metadata: readMetadata(body.metadata),
    user: readString(body, 'user', { max: 512 }),
    turn: {
      model,
      stream,
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

/** True when a request hears or speaks audio (Azure gates that on the api-version). */
export function usesAudio(turn: ChatTurnParams): boolean {
  return turn.audioOut !== undefined || turn.messages.some((m) => m.audioRef !== undefined || m.parts.some((p) => p.type === 'audio'));
}
