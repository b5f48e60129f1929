/**
 * The llama engine: a GGUF model run in-process by node-llama-cpp (llama.cpp).
 *
 * One model, one context, one persistent context sequence, one `LlamaChat` on it. Generations are
 * queued (one at a time). Each call hands the whole conversation to `LlamaChat.generateResponse`,
 * which templates it with the model's chat wrapper, compares the tokens with what the sequence
 * already holds (`sequence.compareContextTokens`), erases only the part after the first different
 * token and evaluates the rest: a long system prompt (and the earlier turns of the same
 * conversation) is evaluated once and then reused. We compute the same templated tokens ourselves
 * first, so `usage.promptTokens` and `usage.cachedTokens` are the real numbers.
 *
 * Tools: `toolChoice: 'auto'` uses node-llama-cpp function calling (the chat wrapper documents the
 * functions in the template's own format — native for Qwen, Llama 3.1, Mistral, Functionary… — and
 * grammar-constrains the arguments once the model starts a call). `required` / `{name}` force a call
 * with a JSON-schema grammar over `{"name": …, "arguments": {…}}` (Hermes/Qwen's shape) plus an
 * instruction listing the tools; `none` offers no tools.
 */
import type {
  ChatHistoryItem,
  ChatModelFunctions,
  ChatWrapper,
  Llama,
  LlamaChat,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
  Token,
} from 'node-llama-cpp';
import { ApiError, isApiError } from '../../../errors.js';
import { SerialQueue } from '../../../lib/limiter.js';
import { linkSignals } from '../../../lib/signals.js';
import { newToolCallId } from '../tool-call-id.js';
import type { LlmEngine, LlmGenerateOptions, LlmResult, LlmTool, LlmToolCall } from '../types.js';
import { toChatHistory } from './history.js';
import { type GrammarSchema, toGrammarSchema } from './json-schema.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** What `createLlamaEngine` needs (resolved from `LlmEngineOptions`). */
export interface LlamaEngineSettings {
  /** Path of the GGUF file. */
  modelPath: string;
  /** Name to report as `model` (the configured name or the file name). */
  modelName: string;
  /** CPU threads for evaluation. */
  threads: number;
  /** Context size in tokens; default min(the model's training context, 8192). */
  contextSize?: number;
  /** Offload to a GPU when node-llama-cpp finds one (default false: CPU only). */
  gpu?: boolean;
}

/** Default cap of the context size: memory for the KV cache grows with it. */
export const DEFAULT_MAX_CONTEXT = 8192;
/** Prompt tokens evaluated per slice before generation (an abort waits for at most one slice). */
const PRE_EVALUATE_SLICE = 64;
/** Shorter new prompt parts are left to LlamaChat. */
const PRE_EVALUATE_MIN = 32;
/** Grammars kept per engine (json_schema formats and forced tool calls), least recently used out. */
const GRAMMAR_CACHE_SIZE = 32;

/** How one generation runs, decided from the options. */
interface Plan {
  history: ChatHistoryItem[];
  functions?: ChatModelFunctions;
  grammar?: LlamaGrammar;
  /** Forced tool call: the output is `{"name","arguments"}` JSON. */
  forcedTools?: LlmTool[];
}

export class LlamaEngine implements LlmEngine {
  /** Engine id. */
  readonly id = 'llama';
  /** The model's name. */
  readonly model: string;
  /** Tokens the context holds (prompt + reply). */
  readonly contextSize: number;
  /** CPU threads used for evaluation. */
  readonly threads: number;
  /** node-llama-cpp's name of the chat wrapper in use (e.g. `ChatML`, `Qwen`, `Jinja`). */
  readonly chatWrapperName: string;

  private readonly queue = new SerialQueue();
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly disposing = new AbortController();
  private disposed = false;

  private constructor(
    private readonly lib: NodeLlamaCpp,
    private readonly llama: Llama,
    private readonly llamaModel: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly chat: LlamaChat,
    settings: LlamaEngineSettings,
  ) {
    this.model = settings.modelName;
    this.contextSize = context.contextSize;
    this.threads = settings.threads;
    this.chatWrapperName = chat.chatWrapper.wrapperName;
  }

  /** Loads the native library, the model and a context. Failures are `engine_unavailable`. */
  static async create(settings: LlamaEngineSettings): Promise<LlamaEngine> {
    let lib: NodeLlamaCpp;
    try {
      lib = await import('node-llama-cpp');
    } catch (e) {
      throw ApiError.engineUnavailable('The llama engine needs the npm package node-llama-cpp: run `npm ci`.', e);
    }
    const threads = Number.isInteger(settings.threads) && settings.threads > 0 ? settings.threads : 2;
    let llama: Llama;
    try {
      llama = await lib.getLlama({
        gpu: settings.gpu ? 'auto' : false,
        // Never compile llama.cpp or download anything at runtime: use the prebuilt binaries.
        build: 'never',
        skipDownload: true,
        progressLogs: false,
        maxThreads: threads,
        logLevel: lib.LlamaLogLevel.error,
      });
    } catch (e) {
      throw ApiError.engineUnavailable(
        "node-llama-cpp has no working prebuilt binary for this machine: reinstall it with `npm ci` (see node-llama-cpp's docs to build it from source).",
        e,
      );
    }
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: settings.modelPath });
    } catch (e) {
      await llama.dispose().catch(() => undefined);
      throw ApiError.engineUnavailable(
        `The language model '${settings.modelName}' could not be loaded: it may be incomplete or of an architecture this llama.cpp does not support. Download it again (\`parley models pull\`) or choose another GGUF file.`,
        e,
      );
    }
    try {
      const contextSize = Math.max(64, settings.contextSize ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT));
      const context = await model.createContext({ contextSize, sequences: 1, threads });
      const sequence = context.getSequence();
      const chat = new lib.LlamaChat({ contextSequence: sequence, chatWrapper: chooseChatWrapper(lib, model) });
      return new LlamaEngine(lib, llama, model, context, sequence, chat, { ...settings, threads });
    } catch (e) {
      await model.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
      throw ApiError.engineUnavailable(
        `The language model '${settings.modelName}' loaded, but no context of the requested size fits in memory: lower the context size.`,
        e,
      );
    }
  }

  /** Generates one reply; calls wait in a queue (one generation at a time on the one context). */
  generate(options: LlmGenerateOptions): Promise<LlmResult> {
    if (this.disposed) return Promise.reject(unloaded());
    return this.queue.run(() => this.run(options), options.signal ? { signal: options.signal } : {});
  }

  /** Tokens of `text` with the model's tokenizer (no BOS). */
  async countTokens(text: string): Promise<number> {
    if (this.disposed) throw unloaded();
    return this.llamaModel.tokenize(text).length;
  }

  /** Stops a running generation and frees the context, the model and the native library. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.disposing.abort(unloaded());
    // Wait for the running generation to notice (it rejects); queued ones then see `disposed`.
    await this.queue.run(async () => undefined).catch(() => undefined);
    this.chat.dispose();
    await this.context.dispose().catch(() => undefined);
    await this.llamaModel.dispose().catch(() => undefined);
    await this.llama.dispose().catch(() => undefined);
  }

  private async run(options: LlmGenerateOptions): Promise<LlmResult> {
    if (this.disposed) throw unloaded();
    const linked = linkSignals(options.signal, this.disposing.signal);
    try {
      return await this.runLinked(options, linked.signal);
    } finally {
      linked.dispose();
    }
  }

  private async runLinked(options: LlmGenerateOptions, signal: AbortSignal): Promise<LlmResult> {
    signal.throwIfAborted();
    let plan: Plan;
    let promptTokens: Token[];
    try {
      plan = await this.plan(options);
      promptTokens = this.templatedTokens(plan.history, plan.functions);
    } catch (e) {
      throw this.failure(e, options);
    }
    const promptCount = promptTokens.length;
    // Keep prompt + reply inside the context so node-llama-cpp never shifts (drops) old tokens.
    const room = this.contextSize - promptCount - 1;
    if (room < 1) {
      throw ApiError.invalidRequest(
        'messages',
        `This model's maximum context length is ${this.contextSize} tokens. However, your messages resulted in ${promptCount} tokens. Please reduce the length of the messages.`,
        'context_length_exceeded',
      );
    }
    const maxTokens = Math.max(1, Math.min(options.maxTokens ?? room, room));
    // LlamaChat keeps the matching prefix and always re-evaluates at least the last prompt token.
    const cachedTokens = Math.min(this.sequence.compareContextTokens(promptTokens).firstDifferentIndex, promptCount - 1);
    const meterBefore = this.sequence.tokenMeter.getState();
    try {
      await this.preEvaluate(promptTokens, cachedTokens, signal);
    } catch (e) {
      throw this.failure(e, options);
    }

    const onText = options.onText;
    const streamText = onText !== undefined && plan.forcedTools === undefined;
    const frequencyPenalty = options.frequencyPenalty ?? 0;
    const presencePenalty = options.presencePenalty ?? 0;
    const common = {
      signal,
      maxTokens,
      temperature: options.temperature ?? 1,
      topP: options.topP ?? 1,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      // OpenAI has no repeat penalty, only frequency/presence penalties (0 by default).
      repeatPenalty:
        frequencyPenalty !== 0 || presencePenalty !== 0
          ? { penalty: 1, frequencyPenalty, presencePenalty, lastTokens: Math.min(1024, this.contextSize) }
          : (false as const),
      ...(options.stop && options.stop.length > 0 && plan.forcedTools === undefined ? { customStopTriggers: options.stop } : {}),
      ...(streamText ? { onTextChunk: (chunk: string) => onText(chunk) } : {}),
    };

    let response: Awaited<ReturnType<LlamaChat['generateResponse']>>;
    try {
      response = plan.functions
        ? await this.chat.generateResponse(plan.history, { ...common, functions: plan.functions, documentFunctionParams: true })
        : await this.chat.generateResponse(plan.history, { ...common, ...(plan.grammar ? { grammar: plan.grammar } : {}) });
    } catch (e) {
      throw this.failure(e, options);
    }
    const completionTokens = this.lib.TokenMeter.diff(this.sequence.tokenMeter, meterBefore).usedOutputTokens;
    const usage = { promptTokens: promptCount, completionTokens, cachedTokens };
    const stopReason = response.metadata.stopReason;

    if (plan.forcedTools) {
      const call = parseForcedCall(response.response, plan.forcedTools);
      if (call) return { text: '', toolCalls: [call], finishReason: 'tool_calls', usage };
      // Only a cut-off reply can fail to parse: the grammar allows nothing else.
      return { text: '', toolCalls: [], finishReason: 'length', usage };
    }
    const toolCalls: LlmToolCall[] = (response.functionCalls ?? []).map((c) => ({
      id: newToolCallId(),
      name: c.functionName,
      arguments: JSON.stringify(c.params ?? {}),
    }));
    const finishReason = toolCalls.length > 0 ? 'tool_calls' : stopReason === 'maxTokens' ? 'length' : 'stop';
    return { text: response.response, toolCalls, finishReason, usage };
  }

  /**
   * Evaluates the new part of the prompt (all but its last token) in slices, checking the signal
   * between them. LlamaChat would evaluate it in one go that an abort cannot interrupt (measured:
   * 7 s past the abort for a 1,300-token prompt on a 0.5B model); afterwards it finds the prefix
   * in the sequence and evaluates only the last token. An aborted call leaves a valid prefix that
   * the next call reuses.
   */
  private async preEvaluate(tokens: Token[], from: number, signal: AbortSignal): Promise<void> {
    const end = tokens.length - 1;
    if (end - from < PRE_EVALUATE_MIN) return;
    if (this.sequence.nextTokenIndex > from) await this.sequence.eraseContextTokenRanges([{ start: from, end: this.sequence.nextTokenIndex }]);
    for (let i = from; i < end; i += PRE_EVALUATE_SLICE) {
      signal.throwIfAborted();
      await this.sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(i, Math.min(end, i + PRE_EVALUATE_SLICE)));
    }
  }

  /** What a failed generation rejects with: the caller's abort reason, `unloaded`, or a 500. */
  private failure(e: unknown, options: LlmGenerateOptions): unknown {
    if (options.signal?.aborted) return options.signal.reason;
    if (this.disposing.signal.aborted) return unloaded();
    return isApiError(e) ? e : ApiError.internal(e);
  }

  /** Decides history, functions and grammar for one call. */
  private async plan(options: LlmGenerateOptions): Promise<Plan> {
    const converted = toChatHistory(options.messages);
    const history = converted.items;
    const tools = options.tools ?? [];
    const choice = options.toolChoice ?? 'auto';
    if (tools.length === 0 && choice !== 'auto' && choice !== 'none') {
      throw ApiError.invalidRequest('tool_choice', "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.");
    }

    let forced: LlmTool[] | undefined;
    if (typeof choice === 'object') {
      const tool = tools.find((t) => t.name === choice.name);
      if (!tool) throw ApiError.invalidRequest('tool_choice', `Tool choice '${choice.name}' not found in 'tools' parameter.`);
      forced = [tool];
    } else if (choice === 'required') {
      forced = tools;
    }

    if (forced) {
      // An instruction after the conversation (so the cached prefix stays valid) and a grammar
      // that admits only a call of one of these tools.
      history.push({ type: 'system', text: forcedCallInstruction(forced) }, { type: 'model', response: [] });
      const grammar = await this.forcedCallGrammar(forced).catch((e: unknown) => {
        throw schemaError('tools', 'The parameters schema of a tool could not be compiled into a grammar: simplify it.', e);
      });
      return { history, forcedTools: forced, grammar };
    }
    if (!converted.endsWithModel) history.push({ type: 'model', response: [] });

    if (options.grammar !== undefined) {
      const gbnf = options.grammar;
      const grammar = await this.cachedGrammar(`gbnf:${gbnf}`, async () => new this.lib.LlamaGrammar(this.llama, { grammar: gbnf })).catch((e: unknown) => {
        throw new ApiError({
          status: 400,
          type: 'invalid_request_error',
          code: 'invalid_grammar',
          param: 'grammar',
          message: 'The grammar could not be parsed.',
          cause: e,
        });
      });
      return { history, grammar };
    }

    const format = options.responseFormat;
    if (format?.type === 'json_object') {
      return { history, grammar: await this.cachedGrammar('json', async () => this.boundNumbers(await this.llama.getGrammarFor('json'))) };
    }
    if (format?.type === 'json_schema') {
      const grammar = await this.schemaGrammar(toGrammarSchema(format.schema)).catch((e: unknown) => {
        throw schemaError('response_format', `The schema of response_format '${format.name}' could not be compiled into a grammar: simplify it.`, e);
      });
      return { history, grammar };
    }
    // A JSON response format wins over optional tools: node-llama-cpp cannot combine a grammar
    // with function calling, and the format is a hard promise while `auto` tools are optional.
    if (tools.length > 0 && choice === 'auto') return { history, functions: toFunctions(tools) };
    return { history };
  }

  /** The tokens node-llama-cpp will evaluate for `history` (same wrapper call as LlamaChat). */
  private templatedTokens(history: ChatHistoryItem[], functions: ChatModelFunctions | undefined): Token[] {
    const { contextText } = this.chat.chatWrapper.generateContextState({
      chatHistory: history,
      ...(functions ? { availableFunctions: functions } : {}),
      documentFunctionParams: true,
    });
    return contextText.tokenize(this.llamaModel.tokenizer);
  }

  private forcedCallGrammar(tools: LlmTool[]): Promise<LlamaGrammar> {
    const alternatives = tools.map((t) => ({
      type: 'object',
      properties: { name: { const: t.name }, arguments: toGrammarSchema(t.parameters ?? { type: 'object', properties: {} }) },
      additionalProperties: false,
    }));
    const schema: GrammarSchema = alternatives.length === 1 ? alternatives[0]! : { oneOf: alternatives };
    return this.schemaGrammar(schema);
  }

  private schemaGrammar(schema: GrammarSchema): Promise<LlamaGrammar> {
    // GrammarSchema is structurally node-llama-cpp's GbnfJsonSchema (see json-schema.ts).
    return this.cachedGrammar(`schema:${JSON.stringify(schema)}`, async () =>
      this.boundNumbers(await this.llama.createGrammarForJsonSchema(schema as Parameters<Llama['createGrammarForJsonSchema']>[0])),
    );
  }

  /**
   * node-llama-cpp's number rules allow exponents of up to 16 digits, so a model (a small or
   * random one especially) can write `2e+436840945`: valid JSON text that parses to Infinity and
   * fails `integer`. Integers get no exponent, other numbers at most two exponent digits.
   */
  private boundNumbers(grammar: LlamaGrammar): LlamaGrammar {
    const text = boundGrammarNumbers(grammar.grammar);
    if (text === grammar.grammar) return grammar;
    return new this.lib.LlamaGrammar(this.llama, {
      grammar: text,
      stopGenerationTriggers: grammar.stopGenerationTriggers,
      trimWhitespaceSuffix: grammar.trimWhitespaceSuffix,
      rootRuleName: grammar.rootRuleName,
    });
  }

  private cachedGrammar(key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.grammars.get(key);
    if (grammar) {
      this.grammars.delete(key); // re-insert: most recently used last
    } else {
      grammar = create();
      grammar.catch(() => this.grammars.delete(key));
    }
    this.grammars.set(key, grammar);
    while (this.grammars.size > GRAMMAR_CACHE_SIZE) this.grammars.delete(this.grammars.keys().next().value!);
    return grammar;
  }
}

/**
 * The model's own chat template (node-llama-cpp picks a specialised wrapper or runs the Jinja
 * template). Without a template in the file: ChatML when the vocabulary has `<|im_start|>` (the
 * model was trained on it) or when node-llama-cpp knows nothing better; otherwise its guess from
 * the model's name (its guess from a `<s>` BOS alone would make every SentencePiece model Llama 2).
 */
function chooseChatWrapper(lib: NodeLlamaCpp, model: LlamaModel): ChatWrapper {
  const resolved = lib.resolveChatWrapper(model);
  if (typeof model.fileInfo.metadata?.tokenizer?.chat_template === 'string') return resolved;
  const knowsChatMl = model.tokenize('<|im_start|>', true).length === 1;
  if (knowsChatMl || resolved instanceof lib.GeneralChatWrapper) return new lib.ChatMLChatWrapper();
  return resolved;
}

function toFunctions(tools: LlmTool[]): ChatModelFunctions {
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const t of tools) {
    functions[t.name] = {
      ...(t.description ? { description: t.description } : {}),
      ...(t.parameters ? { params: toGrammarSchema(t.parameters) as ChatModelFunctions[string]['params'] } : {}),
    };
  }
  return functions;
}

function forcedCallInstruction(tools: LlmTool[]): string {
  const list = tools
    .map((t) =>
      JSON.stringify({
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: t.parameters ?? { type: 'object', properties: {} },
      }),
    )
    .join('\n');
  const which = tools.length === 1 ? `the function \`${tools[0]!.name}\`` : 'one of these functions';
  return (
    `You must now call ${which}. Answer with only a JSON object of the form ` +
    `{"name": <function name>, "arguments": <arguments object>}, with arguments that match the function's parameters.\n` +
    `Functions:\n${list}`
  );
}

function parseForcedCall(text: string, tools: LlmTool[]): LlmToolCall | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { name, arguments: args } = parsed as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string' || !tools.some((t) => t.name === name)) return undefined;
  return { id: newToolCallId(), name, arguments: JSON.stringify(args ?? {}) };
}

/** The rewrite of `boundNumbers`, on GBNF text (node-llama-cpp's schema rules and llama.cpp's json.gbnf). */
export function boundGrammarNumbers(grammar: string): string {
  const longExponent = ' ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?';
  return grammar
    .split('\n')
    .map((line) => {
      if (line.startsWith('integer-number-rule ::=')) return line.replace(longExponent, '');
      if (line.startsWith('fractional-number-rule ::=')) return line.replace(longExponent, ' ([eE] [-+]? [0-9]{1,2})?');
      if (line.startsWith('number ::=')) return line.replace('([eE] [-+]? [0-9] [1-9]{0,15})?', '([eE] [-+]? [0-9]{1,2})?');
      return line;
    })
    .join('\n');
}

function schemaError(param: string, message: string, cause: unknown): ApiError {
  return new ApiError({ status: 400, type: 'invalid_request_error', code: 'invalid_schema', param, message, cause });
}

function unloaded(): ApiError {
  return ApiError.engineUnavailable('The language model was unloaded; retry the request.');
}
