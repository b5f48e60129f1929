import type { PcmAudio } from '../../audio/types.js';
import type { LlmResponseFormat, LlmTool, LlmToolCall } from '../../engines/llm/types.js';
import type { SafetyDecision } from '../../safety/types.js';

/** Audio output formats of chat (`pcm16` is raw s16le 24 kHz, as OpenAI's). */
export const CHAT_AUDIO_FORMATS = ['wav', 'mp3', 'flac', 'opus', 'pcm16', 'aac'] as const;
export type ChatAudioFormat = (typeof CHAT_AUDIO_FORMATS)[number];

/** Formats of input audio parts (OpenAI's `input_audio.format`). */
export const CHAT_INPUT_AUDIO_FORMATS = ['wav', 'mp3'] as const;
export type ChatInputAudioFormat = (typeof CHAT_INPUT_AUDIO_FORMATS)[number];

/** One content part as the caller sent it: text, or encoded input audio (decoded by the turn). */
export type ChatInputPart =
  | { type: 'text'; text: string }
  | {
      type: 'audio';
      /** The encoded audio bytes (wav or mp3), as sent. */
      data: Uint8Array;
      format: ChatInputAudioFormat;
      /** Path of the field, for errors (e.g. `messages[1].content[0].input_audio`). */
      param: string;
    };

/** One message as the caller sent it (OpenAI roles folded: developer → system). */
export interface ChatInputMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  parts: ChatInputPart[];
  /** An earlier reply's audio, referred to by id (assistant messages): its transcript takes its place. */
  audioRef?: { id: string; param: string };
  /** Tool calls an assistant message made. */
  toolCalls?: LlmToolCall[];
  /** For role tool: the call answered. */
  toolCallId?: string;
}

/** A validated chat request, camelCase (the wire parsing lives in http/). */
export interface ChatTurnParams {
  /** The model name as requested (resolves to a pipeline of engines). */
  model: string;
  messages: ChatInputMessage[];
  /** Present when the reply is to be spoken. */
  audioOut?: { voice: string; format: ChatAudioFormat };
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  responseFormat?: LlmResponseFormat;
  tools?: LlmTool[];
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  /** Text and (pcm16) audio go to the sink as they are made. */
  stream: boolean;
}

/** A content part after decoding. */
export type ChatPart =
  | { type: 'text'; text: string }
  | {
      type: 'audio';
      /** Decoded audio (mono, at most 16 kHz). */
      pcm: PcmAudio;
      /** sha256 of the encoded bytes, to reuse an earlier understanding of the same audio. */
      digest: string;
      /** The field path, for errors. */
      param: string;
    };

/** A message after decoding and resolving audio ids: what the prompt is built from. */
export interface ChatTurnMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  parts: ChatPart[];
  toolCalls?: LlmToolCall[];
  toolCallId?: string;
}

/** Callbacks of a streamed turn. */
export interface ChatTurnSink {
  /** Generated text as it arrives (the transcript when audio is requested). */
  onText?(delta: string): void;
  /** Raw pcm16 (s16le, 24 kHz mono) as each passage is spoken, in order. */
  onAudio?(pcm16: Uint8Array): void;
}

/** Token accounting as OpenAI reports it. */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  promptTextTokens: number;
  promptAudioTokens: number;
  cachedTokens: number;
  completionTextTokens: number;
  completionAudioTokens: number;
  /** Seconds of input audio heard and output audio spoken (for the usage ledger). */
  audioInSec: number;
  audioOutSec: number;
}

/** The reply audio of a turn. */
export interface ChatReplyAudio {
  /** `audio_…`: refer to it in a later turn as `{"role": "assistant", "audio": {"id"}}`. */
  id: string;
  /** The audio in the requested format; empty when it was streamed through the sink. */
  data: Uint8Array;
  /** Unix seconds after which the id is gone. */
  expiresAt: number;
  /** What the audio says. */
  transcript: string;
  /** Seconds of audio. */
  durationSec: number;
}

export interface ChatTurnResult {
  /** The reply's text as sent (up to a blocked passage, when one stopped it). */
  text: string;
  toolCalls: LlmToolCall[];
  /** `content_filter` when the content filters stopped the reply. */
  finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** The spoken reply, when audio was requested and the model answered in words. */
  audio?: ChatReplyAudio;
  usage: ChatUsage;
  /** What the content filters found in the reply (undefined when there was nothing to check, e.g. tool calls). */
  replySafety?: SafetyDecision;
}
