/**
 * The judge: a guard LLM (Llama Guard 3 1B, Qwen3Guard-Gen-0.6B — GGUF) asked through an
 * `LlmEngine` whether a text is safe.
 *
 * Each text goes in as one user message; the guard's own chat template (shipped in its GGUF)
 * wraps it in the guard instruction and category list, as Ollama and llama.cpp's server do. Reply
 * passages are checked the same way, as standalone text (a content filter judges the passage,
 * not the conversation). Greedy decoding, ≤ 40 tokens, and a grammar that admits only the
 * family's verdict format (guard.ts), so even a small or quantised guard answers parseably.
 * Cost: seconds per check on 2 cores (contract §3: ~2.7 s for 0.6B, 5–11 s for 1B on 256
 * tokens), hence off the spoken hot path unless the policy is `strict`.
 */
import path from 'node:path';
import type { LlmEngine } from '../../engines/llm/types.js';
import { ApiError } from '../../errors.js';
import { type GuardFamily, type GuardVerdict, guardFamilyOf, guardGrammar, parseGuardAnswer } from './guard.js';

/** A guard model behind an LLM engine. */
export interface GuardJudge {
  /** The guard model's name. */
  readonly model: string;
  /** Its answer format. */
  readonly family: GuardFamily;
  /** The verdict on `text`, and the guard's answer as written. Rejects when the answer is unreadable. */
  check(text: string, signal?: AbortSignal): Promise<GuardVerdict & { answer: string }>;
  /** Frees the engine. */
  dispose(): Promise<void>;
}

export interface GuardJudgeOptions {
  /** The engine running the guard model (owned by the judge: `dispose` frees it). */
  engine: LlmEngine;
  /** Answer format; default from the model's name (guardFamilyOf). */
  family?: GuardFamily;
  /** Most tokens of an answer. Default 40 (a full Llama Guard list is ~35). */
  maxTokens?: number;
  /** Constrain the answer with the family's grammar. Default true. */
  useGrammar?: boolean;
}

export function createGuardJudge(options: GuardJudgeOptions): GuardJudge {
  const { engine } = options;
  const family = options.family ?? guardFamilyOf(path.basename(engine.model));
  const grammar = options.useGrammar === false ? undefined : guardGrammar(family);
  const maxTokens = options.maxTokens ?? 40;
  return {
    model: engine.model,
    family,
    async check(text, signal) {
      const result = await engine.generate({
        messages: [{ role: 'user', content: text }],
        maxTokens,
        temperature: 0,
        ...(grammar !== undefined ? { grammar } : {}),
        ...(signal ? { signal } : {}),
      });
      const verdict = parseGuardAnswer(family, result.text);
      if (!verdict) {
        throw ApiError.engineUnavailable(
          `The safety judge '${engine.model}' answered in a form Parley cannot read: is it a ${family === 'llama-guard' ? 'Llama Guard' : 'Qwen3Guard'} model?`,
          new Error(`guard answer: ${JSON.stringify(result.text.slice(0, 200))}`),
        );
      }
      return { ...verdict, answer: result.text };
    },
    dispose: () => engine.dispose(),
  };
}
