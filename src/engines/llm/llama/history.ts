/**
 * OpenAI-style messages → node-llama-cpp chat history.
 *
 * node-llama-cpp keeps an assistant turn that calls tools as one `model` item holding the calls
 * *with their results*, followed by whatever the model said after reading them (that is how chat
 * templates render tool turns). So `assistant{tool_calls} → tool → tool → assistant{text}` becomes
 * one model item: `[call₁(result₁), call₂(result₂), text]`.
 */
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';
import type { LlmMessage } from '../types.js';

/** The history, and whether it ends inside a model turn (after tool results: the model continues it). */
export interface ConvertedHistory {
  /** Items for `LlamaChat.generateResponse`. */
  items: ChatHistoryItem[];
  /** True when the last item is a model turn the next generation continues. */
  endsWithModel: boolean;
}

/** Converts messages; text is passed as plain text, so special tokens in it stay inert. */
export function toChatHistory(messages: readonly LlmMessage[]): ConvertedHistory {
  const items: ChatHistoryItem[] = [];
  /** Calls of the last model item by id, waiting for their results. */
  let pending = new Map<string, ChatModelFunctionCall>();

  const lastModel = (): ChatModelResponse | undefined => {
    const last = items[items.length - 1];
    return last?.type === 'model' ? last : undefined;
  };

  for (const m of messages) {
    switch (m.role) {
      case 'system':
        items.push({ type: 'system', text: m.content });
        break;
      case 'user':
        items.push({ type: 'user', text: m.content });
        break;
      case 'assistant': {
        // After tool results, the model's answer continues the same turn.
        const previous = lastModel();
        const continues = previous !== undefined && previous.response.length > 0 && isFunctionCall(previous.response[previous.response.length - 1]);
        const target: ChatModelResponse = continues ? previous : { type: 'model', response: [] };
        if (m.content !== '') target.response.push(m.content);
        pending = new Map();
        for (const call of m.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: 'functionCall',
            name: call.name,
            params: parseJsonOr(call.arguments, {}),
            result: undefined,
          };
          target.response.push(item);
          pending.set(call.id, item);
        }
        if (!continues) items.push(target);
        break;
      }
      case 'tool': {
        const result = parseJsonOr(m.content, m.content);
        const byId = m.toolCallId !== undefined ? pending.get(m.toolCallId) : undefined;
        const call = byId ?? [...pending.values()].find((c) => c.result === undefined);
        if (call && lastModel()) {
          call.result = result;
          if (m.toolCallId !== undefined) pending.delete(m.toolCallId);
        } else {
          // A result without a matching call: keep the information as a user turn.
          items.push({ type: 'user', text: `Tool result${m.toolCallId ? ` (${m.toolCallId})` : ''}: ${m.content}` });
        }
        break;
      }
    }
  }
  // Calls never answered still need a result for the template to render them.
  for (const call of pending.values()) if (call.result === undefined) call.result = null;
  const last = items[items.length - 1];
  const endsWithModel = last?.type === 'model' && last.response.length > 0 && isFunctionCall(last.response[last.response.length - 1]);
  return { items, endsWithModel };
}

function isFunctionCall(item: ChatModelResponse['response'][number] | undefined): item is ChatModelFunctionCall {
  return typeof item === 'object' && item !== null && item.type === 'functionCall';
}

function parseJsonOr<T>(text: string, fallback: T): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}
