/**
 * The language-model engine interface. Engines live in one folder each under engines/llm/
 * (`llama` = node-llama-cpp in-process, `openai-compatible` = any upstream server).
 */

/** One message of the conversation as the engine sees it (audio already turned into text). */
export interface LlmMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** Plain text content (may be empty for an assistant message that only calls tools). */
  content: string;
  /** Tool calls an assistant message made. */
  toolCalls?: LlmToolCall[];
  /** For role `tool`: the id of the call this answers. */
  toolCallId?: string;
}

/** A function the model may call (OpenAI's `tools[].function`). */
export interface LlmTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
}

/** A call the model made. */
export interface LlmToolCall {
  /** `call_…` id. */
  id: string;
  name: string;
  /** The arguments as a JSON string (OpenAI's wire form). */
  arguments: string;
}

/** OpenAI's `response_format`. */
export type LlmResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean };

export interface LlmGenerateOptions {
  messages: LlmMessage[];
  /** 0–2 (OpenAI's range); default 1. */
  temperature?: number;
  /** 0–1; default 1. */
  topP?: number;
  /** Most tokens to generate; undefined = until the model stops or the context is full. */
  maxTokens?: number;
  /** Up to 4 stop sequences; the text ends before the first one found (not included). */
  stop?: string[];
  /** Seed for reproducible sampling. */
  seed?: number;
  /** -2–2; penalises tokens by how often they already appeared (OpenAI's `frequency_penalty`); default 0. */
  frequencyPenalty?: number;
  /** -2–2; penalises tokens that already appeared at all (OpenAI's `presence_penalty`); default 0. */
  presencePenalty?: number;
  /** Constrain the output (grammar / JSON schema). */
  responseFormat?: LlmResponseFormat;
  /**
   * A GBNF grammar the output must follow (llama.cpp's format), e.g. a guard model's verdict
   * lines. Takes precedence over `responseFormat`; not combined with tools. Engines that cannot
   * enforce a grammar (upstream servers) ignore it: parse the output as if unconstrained.
   */
  grammar?: string;
  /** Functions the model may call. */
  tools?: LlmTool[];
  /** OpenAI's `tool_choice`. */
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  /** Receives generated text as it is produced (not tool-call text). */
  onText?: (delta: string) => void;
  /** Cancels generation; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface LlmUsage {
  /** Tokens of the prompt as the model saw it (chat template included). */
  promptTokens: number;
  /** Tokens generated. */
  completionTokens: number;
  /** Prompt tokens served from the evaluated-prefix cache (not recomputed). */
  cachedTokens: number;
}

export interface LlmResult {
  /** The generated text (empty when the model only called tools). */
  text: string;
  toolCalls: LlmToolCall[];
  /** `stop` (natural end or a stop sequence), `length` (maxTokens or context), `tool_calls`. */
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: LlmUsage;
}

/** A language model. */
export interface LlmEngine {
  /** Engine id (`llama`, `openai-compatible`). */
  readonly id: string;
  /** The model's name (file name or upstream model id). */
  readonly model: string;
  /** Generates one reply. Calls may be queued by the engine (one context, one generation at a time). */
  generate(options: LlmGenerateOptions): Promise<LlmResult>;
  /** Tokens of `text` with the model's tokenizer (an estimate for upstream engines). */
  countTokens(text: string): Promise<number>;
  /** Free the model. */
  dispose(): Promise<void>;
}

export interface LlmEngineOptions {
  /** GGUF path or model cache name (llama); model id (openai-compatible). */
  model?: string;
  /** Folder of the model cache. */
  modelsDir: string;
  /** Turns a cache name into a path. Default: the name is a path. */
  resolveModel?: (name: string) => string | Promise<string>;
  /** CPU threads (llama). */
  threads: number;
  /** Upstream base URL (openai-compatible), e.g. http://127.0.0.1:11434/v1. */
  url?: string;
  /** Upstream API key. */
  apiKey?: string;
  /** Context size in tokens (llama); default from the model, capped. */
  contextSize?: number;
  /** Let the llama engine offload to a GPU node-llama-cpp finds (default false: CPU only). */
  gpu?: boolean;
  /** openai-compatible: ms to wait for the upstream's response to start (headers and first bytes; default 60 000). */
  connectTimeoutMs?: number;
  /** openai-compatible: longest silence between streamed chunks, in ms (default 60 000). */
  idleTimeoutMs?: number;
  /** openai-compatible: retries of 408/409/429/5xx/network failures before the first token (default 2). */
  maxRetries?: number;
}

/** What an engine folder exports: cheap to import, heavy parts load in `create`. */
export interface LlmEngineDescriptor {
  id: string;
  description: string;
  create(options: LlmEngineOptions): Promise<LlmEngine>;
}
