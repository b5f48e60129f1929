/**
 * A BERT-style ONNX text classifier (toxic-bert: Xenova/toxic-bert's `onnx/model_quantized.onnx`)
 * run in-process by onnxruntime-node, with our WordPiece tokenizer (wordpiece.ts).
 *
 * The model folder holds the ONNX file (`onnx/model_quantized.onnx`, `onnx/model.onnx`,
 * `model_quantized.onnx` or `model.onnx`, first found wins), `vocab.txt`, and optionally
 * `config.json` (labels from `id2label`, `problem_type`) and `tokenizer_config.json`
 * (`do_lower_case`, `model_max_length`). A path to an `.onnx` file works too (the other files
 * beside it or one folder up). Inputs fed: those of `input_ids`, `attention_mask`,
 * `token_type_ids` the graph declares; output: `logits` [1, labels].
 * Scores: sigmoid per label (multi-label, as toxic-bert is trained) unless `problem_type` says
 * `single_label_classification` (softmax). Text longer than the model's 512 positions is read in
 * overlapping windows and each label keeps its highest score.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ApiError } from '../../errors.js';
import { WordPieceTokenizer } from './wordpiece.js';

type Ort = typeof import('onnxruntime-node');

/** toxic-bert's labels (Detoxify "original", Jigsaw 2018), in output order. */
export const TOXIC_BERT_LABELS = ['toxic', 'severe_toxic', 'obscene', 'threat', 'insult', 'identity_hate'] as const;

/** A text classifier: label → probability. */
export interface TextClassifier {
  /** The model's name (as configured). */
  readonly model: string;
  /** Labels, in output order. */
  readonly labels: readonly string[];
  /** Scores 0–1 per label for `text`. */
  classify(text: string, signal?: AbortSignal): Promise<Record<string, number>>;
  /** Frees the session. */
  dispose(): Promise<void>;
}

export interface OnnxClassifierOptions {
  /** Model folder or `.onnx` file. */
  path: string;
  /** Name to report (the configured name). Default: the path's base name. */
  name?: string;
  /** onnxruntime intra-op threads. Default 1 (the 2-core machines this runs on are shared). */
  threads?: number;
}

const MODEL_FILES = ['onnx/model_quantized.onnx', 'onnx/model.onnx', 'model_quantized.onnx', 'model.onnx'];

/** Where a classifier's files are. */
export interface ClassifierFiles {
  model: string;
  vocab: string;
  config?: string;
  tokenizerConfig?: string;
}

/** Finds the ONNX file and its tokenizer files; undefined when the model or vocab.txt is missing. */
export function locateClassifierFiles(p: string): ClassifierFiles | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return undefined;
  }
  let model: string | undefined;
  let dirs: string[];
  if (stat.isDirectory()) {
    model = MODEL_FILES.map((f) => path.join(p, f)).find((f) => fs.existsSync(f));
    dirs = [p];
  } else {
    model = p;
    dirs = [path.dirname(p), path.dirname(path.dirname(p))];
  }
  const find = (name: string): string | undefined => dirs.map((d) => path.join(d, name)).find((f) => fs.existsSync(f));
  const vocab = find('vocab.txt');
  if (!model || !vocab) return undefined;
  const config = find('config.json');
  const tokenizerConfig = find('tokenizer_config.json');
  return { model, vocab, ...(config ? { config } : {}), ...(tokenizerConfig ? { tokenizerConfig } : {}) };
}

/** Loads the classifier. A missing model or library is `engine_unavailable` saying what to run. */
export async function createOnnxClassifier(options: OnnxClassifierOptions): Promise<TextClassifier> {
  const name = options.name ?? path.basename(options.path);
  const files = locateClassifierFiles(options.path);
  if (!files) {
    throw ApiError.engineUnavailable(
      `The safety classifier '${name}' was not found: run \`parley models pull toxic-bert\`, or set PARLEY_SAFETY_CLASSIFIER to a folder with an ONNX text classifier and its vocab.txt.`,
      new Error(`looked in ${options.path}`),
    );
  }
  let ort: Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    throw ApiError.engineUnavailable('The safety classifier needs the npm package onnxruntime-node: run `npm ci`.', e);
  }
  const config = readJson(files.config);
  const tokenizerConfig = readJson(files.tokenizerConfig);
  const tokenizer = WordPieceTokenizer.fromVocabText(fs.readFileSync(files.vocab, 'utf8'), {
    lowerCase: tokenizerConfig.do_lower_case !== false,
  });
  const maxLength = Math.min(512, positiveInt(tokenizerConfig.model_max_length) ?? positiveInt(config.max_position_embeddings) ?? 512);
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(files.model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: Math.max(1, options.threads ?? 1),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw ApiError.engineUnavailable(
      `The safety classifier '${name}' could not be loaded: the ONNX file may be incomplete. Run \`parley models pull toxic-bert\` again or choose another model.`,
      e,
    );
  }
  const labels = labelsOf(config) ?? [...TOXIC_BERT_LABELS];
  const softmax = config.problem_type === 'single_label_classification';
  return new OnnxClassifier(ort, session, tokenizer, name, labels, softmax, maxLength);
}

class OnnxClassifier implements TextClassifier {
  private disposed = false;

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly tokenizer: WordPieceTokenizer,
    readonly model: string,
    readonly labels: readonly string[],
    private readonly softmax: boolean,
    private readonly maxLength: number,
  ) {}

  async classify(text: string, signal?: AbortSignal): Promise<Record<string, number>> {
    const best = new Array<number>(this.labels.length).fill(0);
    for (const window of this.tokenizer.encodeWindows(text, this.maxLength)) {
      signal?.throwIfAborted();
      if (this.disposed) throw ApiError.engineUnavailable('The safety classifier was unloaded; retry the request.');
      const logits = await this.run(window.ids);
      const probs = this.softmax ? softmaxOf(logits) : logits.map(sigmoid);
      probs.forEach((p, i) => {
        if (p > best[i]!) best[i] = p;
      });
    }
    signal?.throwIfAborted();
    return Object.fromEntries(this.labels.map((l, i) => [l, best[i]!]));
  }

  private async run(ids: number[]): Promise<number[]> {
    const n = ids.length;
    const int64 = (values: number[]): Tensor =>
      new this.ort.Tensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(v)),
        [1, n],
      );
    const available: Record<string, () => Tensor> = {
      input_ids: () => int64(ids),
      attention_mask: () => int64(new Array<number>(n).fill(1)),
      token_type_ids: () => int64(new Array<number>(n).fill(0)),
    };
    const feeds: Record<string, Tensor> = {};
    for (const input of this.session.inputNames) {
      const make = available[input];
      if (!make) throw ApiError.engineUnavailable(`The safety classifier '${this.model}' wants an input '${input}' that a BERT classifier does not have.`);
      feeds[input] = make();
    }
    let out: InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      throw ApiError.internal(e);
    }
    const output = out.logits ?? out[this.session.outputNames[0]!];
    if (!output || output.data.length !== this.labels.length) {
      throw ApiError.engineUnavailable(
        `The safety classifier '${this.model}' gave ${output?.data.length ?? 0} scores for ${this.labels.length} labels: its config.json does not match the model.`,
      );
    }
    return Array.from(output.data as Float32Array, Number);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release().catch(() => undefined);
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function softmaxOf(xs: number[]): number[] {
  const max = Math.max(...xs);
  const exps = xs.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function readJson(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/** Labels from `config.json`'s `id2label` ({"0": "toxic", …}), in id order. */
function labelsOf(config: Record<string, unknown>): string[] | undefined {
  const map = config.id2label;
  if (typeof map !== 'object' || map === null) return undefined;
  const entries = Object.entries(map as Record<string, unknown>)
    .map(([k, v]) => [Number(k), v] as const)
    .filter(([k, v]) => Number.isInteger(k) && typeof v === 'string')
    .sort((a, b) => a[0] - b[0]);
  if (entries.length === 0 || entries.some(([k], i) => k !== i)) return undefined;
  return entries.map(([, v]) => v as string);
}
