import type { PcmAudio } from '../../audio/types.js';
import type { LlmResponseFormat, LlmTool, LlmToolCall } from '../../engines/llm/types.js';

/** Audio output formats of chat (`pcm16` is raw s16le 24 kHz, as OpenAI's). */
export const CHAT_AUDIO_FORMATS = ['wav', 'mp3', 'flac', 'opus', 'pcm16', 'aac'] as const;
export type ChatAudioFormat = (typeof CHAT_AUDIO_FORMATS)[number];

/** One content part after validation: text, or decoded input audio. */
export type ChatPart =
  | { type: 'text'; text: string }
  | {
      type: 'audio';
      /** Decoded audio (mono, source rate). */
      pcm: PcmAudio;
      /** sha256 of the encoded bytes, to reuse an earlier understanding of the same audio. */
      digest: string;
      /** The field path, for errors. */
      param: string;
    };

/** One message after validation (OpenAI roles folded: developer → system). */
export interface ChatTurnMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  parts: ChatPart[];
  /** Tool calls an assistant message made. */
  toolCalls?: LlmToolCall[];
  /** For role tool: the call answered. */
  toolCallId?: string;
}

/** A validated chat request, camelCase (the wire parsing lives in http/). */
export interface ChatTurnRequest {
  messages: ChatTurnMessage[];
  /** Present when `modalities` includes audio. */
  audioOut?: { voice: string; format: ChatAudioFormat };
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  responseFormat?: LlmResponseFormat;
  tools?: LlmTool[];
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  /** Stream pcm16 audio as it is made (only with format pcm16). */
  streamAudio: boolean;
  signal?: AbortSignal;
}

/** Callbacks for streaming. */
export interface ChatTurnSink {
  /** Generated text as it arrives (the transcript when audio is requested). */
  onText?(delta: string): void;
  /** Raw pcm16 (s16le, 24 kHz mono) as each sentence is synthesised, in order. */
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

export interface ChatTurnResult {
  text: string;
  toolCalls: LlmToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  /** The reply audio in the requested format (non-streamed), when audio was requested and spoken. */
  audio?: { data: Uint8Array; durationSec: number };
  usage: ChatUsage;
}
