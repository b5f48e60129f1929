/**
 * `SafetyChecker`: the layers put together behind three calls the pipeline makes.
 *
 * - `checkPrompt(texts)`: a prompt's text parts and input-audio transcripts, before the LLM.
 * - `checkReply(text)`: a reply passage before it is synthesised (nothing flagged is spoken) and
 *   the text reply.
 * - `moderate(inputs)`: `/v1/moderations` (one outcome per input).
 *
 * Layers per text: the word list and the self-harm phrases always (sync, ~1 ms); the classifier
 * when configured; the judge when configured and the call asks for it — always in `moderate`,
 * on chat checks only with `strict` (it costs seconds) or `{judge: true}` (batches).
 * Models load lazily on first use (or `load()` at start); a load failure is retried at most every
 * 30 s. A configured layer that fails is reported as `failed` and the texts count as not checked
 * for its categories (the Azure annotations say so) — except with `strict`, where the check
 * rejects with the layer's `engine_unavailable` error instead (fail closed).
 * Every decision emits one metrics event per checked category to the `onEvent` listeners.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isApiError } from '../errors.js';
import { DEFAULT_THRESHOLDS, mapToxicBert, type SeverityThresholds } from './classifier/mapping.js';
import { createOnnxClassifier, type TextClassifier } from './classifier/onnx-classifier.js';
import { type GuardFamily, guardFamilyOf, mapGuardVerdict } from './judge/guard.js';
import { createGuardJudge, type GuardJudge } from './judge/judge.js';
import { ProfanityList } from './lexicon/profanity.js';
import { findSelfHarm } from './lexicon/self-harm.js';
import { combineLayers, decide, decisionEvents, moderationEvents, moderationOutcome, type SafetyPolicy } from './policy.js';
import type {
  BinaryCheck,
  HarmCategory,
  LayerName,
  LayerResult,
  ModerationCategory,
  ModerationOutcome,
  SafetyAssessment,
  SafetyDecision,
  SafetyEvent,
  SafetySide,
} from './types.js';

/** The deployment's safety settings (config `safety`). */
export interface SafetySettings extends SafetyPolicy {
  /** Classifier model: a cache name (`toxic-bert`) or a folder / .onnx path; unset = layer off. */
  classifier?: string | undefined;
  /** Guard model: a cache name or a GGUF path; unset = layer off. */
  judge?: string | undefined;
  /** Judge on every prompt and reply check (seconds each), and fail closed when a layer fails. */
  strict: boolean;
  /** Classifier score → severity. */
  thresholds: SeverityThresholds;
}

export const DEFAULT_SAFETY_SETTINGS: SafetySettings = { profanity: 'annotate', block: 'high', strict: false, thresholds: DEFAULT_THRESHOLDS };

export interface SafetyCheckerOptions {
  settings: SafetySettings;
  /** Model cache folder: a bare name not found as a path is looked for here. */
  modelsDir?: string;
  /** Turns a cache name into a path (the model cache); default: names are paths. */
  resolveModel?: (name: string) => string | Promise<string>;
  /** CPU threads for the classifier and the judge. Default 1. */
  threads?: number;
  /** Replaces the classifier loader (tests, or a shared lifecycle manager). */
  loadClassifier?: () => Promise<TextClassifier>;
  /** Replaces the judge loader. */
  loadJudge?: () => Promise<GuardJudge>;
  /** Metrics hook (more with `onEvent`). */
  onEvent?: (event: SafetyEvent) => void;
}

/** Per-call choices. */
export interface CheckOptions {
  /** Run the judge on this check (batches); default: only with `strict`. */
  judge?: boolean;
}

/** What a layer is and whether it is live (for /health and `parley doctor`). */
export interface SafetyLayerInfo {
  name: LayerName;
  /** `live`: usable now; `configured`: set, loads on first use; `failed`: could not load; `off`: not configured. */
  state: 'live' | 'configured' | 'loading' | 'failed' | 'off';
  /** The model, for model layers. */
  model?: string;
  /** Runs on every chat prompt and reply check (the spoken path). */
  hotPath: boolean;
  /** What it checks. */
  covers: { harms: HarmCategory[]; checks: BinaryCheck[]; moderation: ModerationCategory[] };
  /** Why it is not live. */
  detail?: string;
}

export interface SafetyChecker {
  /** Checks a prompt's texts (text parts and transcripts of input audio) together. */
  checkPrompt(texts: readonly string[], signal?: AbortSignal, options?: CheckOptions): Promise<SafetyDecision>;
  /** Checks one reply passage (before it is spoken) or the text reply. */
  checkReply(text: string, signal?: AbortSignal, options?: CheckOptions): Promise<SafetyDecision>;
  /**
   * One decision over texts of one side that were checked one by one (a reply's passages), e.g. for
   * the reply's Azure annotation: the worst finding per category, as if checked together.
   */
  combine(side: SafetySide, checked: ReadonlyArray<{ text: string; decision: SafetyDecision }>): SafetyDecision | undefined;
  /** True when the policy can stop a text (a block level is set, or profanity is masked): a reply must then be held until checked. */
  canIntervene(): boolean;
  /** True when a model layer (classifier or judge) is configured: checks then cost real CPU time. */
  usesModels(): boolean;
  /** Moderates each input with every available layer, judge included. */
  moderate(inputs: readonly string[], signal?: AbortSignal): Promise<ModerationOutcome[]>;
  /** The layers and their state. */
  layers(): SafetyLayerInfo[];
  /** Loads the configured models now (errors are kept in `layers()`, not thrown). */
  load(): Promise<void>;
  /** Adds a metrics listener; returns its removal. */
  onEvent(listener: (event: SafetyEvent) => void): () => void;
  /** Frees the models. */
  dispose(): Promise<void>;
}

const RETRY_AFTER_MS = 30_000;

/** A model loaded once on first use, its failure remembered for a while. */
class LazyModel<T extends { dispose(): Promise<void> }> {
  private pending: Promise<T> | undefined;
  private value: T | undefined;
  private failure: { error: unknown; at: number } | undefined;
  private disposed = false;

  constructor(private readonly loader: () => Promise<T>) {}

  get state(): 'live' | 'configured' | 'loading' | 'failed' {
    if (this.value) return 'live';
    if (this.pending) return 'loading';
    return this.failure ? 'failed' : 'configured';
  }

  get error(): unknown {
    return this.failure?.error;
  }

  get loaded(): T | undefined {
    return this.value;
  }

  get(): Promise<T> {
    if (this.value) return Promise.resolve(this.value);
    if (this.pending) return this.pending;
    if (this.failure && Date.now() - this.failure.at < RETRY_AFTER_MS) return Promise.reject(this.failure.error);
    const p = this.loader().then(
      async (v) => {
        if (this.disposed) {
          await v.dispose();
          throw new Error('the safety checker was disposed');
        }
        this.value = v;
        this.failure = undefined;
        return v;
      },
      (e: unknown) => {
        this.failure = { error: e, at: Date.now() };
        throw e;
      },
    );
    this.pending = p.finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.pending?.catch(() => undefined);
    await this.value?.dispose().catch(() => undefined);
    this.value = undefined;
  }
}

export function createSafetyChecker(options: SafetyCheckerOptions): SafetyChecker {
  const settings = options.settings;
  const threads = Math.max(1, options.threads ?? 1);
  const listeners = new Set<(event: SafetyEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);
  const words = new ProfanityList();

  const resolve = async (name: string): Promise<string> => {
    if (options.resolveModel) return options.resolveModel(name);
    if (path.isAbsolute(name) || !options.modelsDir) return path.resolve(name);
    return fs.existsSync(name) ? path.resolve(name) : path.join(options.modelsDir, name);
  };

  const classifier =
    settings.classifier === undefined
      ? undefined
      : new LazyModel<TextClassifier>(
          options.loadClassifier ?? (async () => createOnnxClassifier({ path: await resolve(settings.classifier!), name: settings.classifier!, threads })),
        );

  const judgeFamily: GuardFamily | undefined = settings.judge === undefined ? undefined : guardFamilyOf(path.basename(settings.judge));
  const judge =
    settings.judge === undefined
      ? undefined
      : new LazyModel<GuardJudge>(
          options.loadJudge ??
            (async () => {
              const { createLlamaEngine } = await import('../engines/llm/llama/index.js');
              const { ApiError } = await import('../errors.js');
              let engine: Awaited<ReturnType<typeof createLlamaEngine>>;
              try {
                engine = await createLlamaEngine({
                  model: settings.judge!,
                  modelsDir: options.modelsDir ?? '.',
                  ...(options.resolveModel ? { resolveModel: options.resolveModel } : {}),
                  threads,
                  contextSize: 4096,
                });
              } catch (e) {
                throw ApiError.engineUnavailable(
                  `The safety judge '${settings.judge}' could not be loaded: set PARLEY_SAFETY_JUDGE to a guard model GGUF (Llama Guard 3 1B or Qwen3Guard-Gen-0.6B), or unset it.`,
                  e,
                );
              }
              return createGuardJudge({ engine, ...(judgeFamily ? { family: judgeFamily } : {}) });
            }),
        );

  const emit = (events: SafetyEvent[]): void => {
    for (const e of events) {
      for (const l of listeners) {
        try {
          l(e);
        } catch {
          // A metrics listener must never break a request.
        }
      }
    }
  };

  /** Runs a model layer: its result, or `failed` (strict: rethrown); aborts always propagate. */
  const runModelLayer = async (
    layer: LayerName,
    signal: AbortSignal | undefined,
    body: () => Promise<Omit<LayerResult, 'layer' | 'status' | 'ms'>>,
  ): Promise<LayerResult> => {
    const started = performance.now();
    try {
      const r = await body();
      return { layer, status: 'ran', ms: performance.now() - started, ...r };
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (settings.strict) throw e;
      const detail = isApiError(e) ? e.message : `the ${layer} failed`;
      return { layer, status: 'failed', detail, ms: performance.now() - started, harms: {}, moderation: {}, raw: e instanceof Error ? e.message : String(e) };
    }
  };

  const assess = async (text: string, signal: AbortSignal | undefined, useJudge: boolean): Promise<SafetyAssessment> => {
    signal?.throwIfAborted();
    let t = performance.now();
    const matches = words.find(text);
    const wordList: LayerResult = {
      layer: 'wordList',
      status: 'ran',
      ms: performance.now() - t,
      harms: {},
      profanity: { detected: matches.length > 0, matches },
      moderation: {},
    };
    t = performance.now();
    const sh = findSelfHarm(text);
    const phrases: LayerResult = {
      layer: 'selfHarmPhrases',
      status: 'ran',
      ms: performance.now() - t,
      harms: { selfHarm: sh.finding },
      moderation: { ...sh.moderation },
      raw: sh.matches,
    };
    const classifierRun: Promise<LayerResult> = classifier
      ? runModelLayer('classifier', signal, async () => {
          const model = await classifier.get();
          const scores = await model.classify(text, signal);
          const mapped = mapToxicBert(scores, settings.thresholds, wordList.profanity!.detected);
          return { harms: mapped.harms, moderation: mapped.moderation, raw: scores };
        })
      : Promise.resolve(notRun('classifier', 'off', 'no classifier is configured (PARLEY_SAFETY_CLASSIFIER)'));
    const judgeRun: Promise<LayerResult> = !judge
      ? Promise.resolve(notRun('judge', 'off', 'no judge is configured (PARLEY_SAFETY_JUDGE)'))
      : !useJudge
        ? Promise.resolve(notRun('judge', 'skipped', 'the judge runs on moderations, batches and strict checks only'))
        : runModelLayer('judge', signal, async () => {
            const model = await judge.get();
            const verdict = await model.check(text, signal);
            const mapped = mapGuardVerdict(model.family, verdict);
            return {
              harms: mapped.harms,
              moderation: mapped.moderation,
              ...(mapped.jailbreak ? { jailbreak: mapped.jailbreak } : {}),
              raw: { answer: verdict.answer, safety: verdict.safety, categories: verdict.categories, unmapped: mapped.unmapped },
            };
          });
    const [c, j] = await Promise.all([classifierRun, judgeRun]);
    return combineLayers([wordList, phrases, c, j]);
  };

  const check = async (side: SafetySide, texts: readonly string[], signal: AbortSignal | undefined, o: CheckOptions | undefined): Promise<SafetyDecision> => {
    const list = texts.length > 0 ? texts : [''];
    const useJudge = settings.strict || o?.judge === true;
    const perText = await Promise.all(list.map((t) => assess(t, signal, useJudge)));
    const decision = decide(side, list, perText, settings);
    emit(decisionEvents(decision));
    return decision;
  };

  return {
    checkPrompt: (texts, signal, o) => check('prompt', texts, signal, o),
    checkReply: (text, signal, o) => check('reply', [text], signal, o),
    combine: (side, checked) =>
      checked.length === 0
        ? undefined
        : decide(
            side,
            checked.map((c) => c.text),
            checked.map((c) => c.decision.assessment),
            settings,
          ),
    canIntervene: () => settings.block !== 'off' || settings.profanity === 'filter',
    usesModels: () => classifier !== undefined || judge !== undefined,
    async moderate(inputs, signal) {
      const outcomes = await Promise.all(inputs.map(async (text) => moderationOutcome(await assess(text, signal, true))));
      for (const o of outcomes) emit(moderationEvents(o));
      return outcomes;
    },
    layers() {
      const info: SafetyLayerInfo[] = [
        { name: 'wordList', state: 'live', hotPath: true, covers: { harms: [], checks: ['profanity'], moderation: [] } },
        {
          name: 'selfHarmPhrases',
          state: 'live',
          hotPath: true,
          covers: { harms: ['selfHarm'], checks: [], moderation: ['self-harm', 'self-harm/intent', 'self-harm/instructions'] },
        },
      ];
      const classifierCovers: SafetyLayerInfo['covers'] = {
        harms: ['hate', 'sexual', 'violence'],
        checks: [],
        moderation: ['harassment', 'harassment/threatening', 'hate', 'hate/threatening', 'sexual', 'violence'],
      };
      info.push(modelInfo('classifier', classifier, settings.classifier, true, classifierCovers));
      info.push(modelInfo('judge', judge, settings.judge, settings.strict, judgeCovers(judgeFamily ?? 'llama-guard')));
      return info;
    },
    async load() {
      await Promise.all([classifier?.get().catch(() => undefined), judge?.get().catch(() => undefined)]);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async dispose() {
      await Promise.all([classifier?.dispose(), judge?.dispose()]);
    },
  };
}

function notRun(layer: LayerName, status: 'off' | 'skipped', detail: string): LayerResult {
  return { layer, status, detail, ms: 0, harms: {}, moderation: {} };
}

function modelInfo(
  name: LayerName,
  lazy: LazyModel<{ dispose(): Promise<void> }> | undefined,
  model: string | undefined,
  hotPath: boolean,
  covers: SafetyLayerInfo['covers'],
): SafetyLayerInfo {
  if (!lazy || model === undefined) return { name, state: 'off', hotPath: false, covers };
  const state = lazy.state;
  const error = lazy.error;
  return {
    name,
    state,
    model,
    hotPath,
    covers,
    ...(state === 'failed' ? { detail: isApiError(error) ? error.message : `the ${name} could not be loaded` } : {}),
  };
}

function judgeCovers(family: GuardFamily): SafetyLayerInfo['covers'] {
  const probe = mapGuardVerdict(family, { safety: 'safe', categories: [] });
  return {
    harms: Object.keys(probe.harms) as HarmCategory[],
    checks: probe.jailbreak ? ['jailbreak'] : [],
    moderation: Object.keys(probe.moderation) as ModerationCategory[],
  };
}
