/**
 * What sherpa-onnx 1.13.8 reads from each model's ONNX metadata while loading, and a check that
 * runs in JavaScript first. sherpa calls `exit(-1)` for a key that is missing, empty, negative
 * where it reads an integer, or not a list of numbers where it reads a vector; the sources are
 * `offline-sense-voice-model.cc`, `offline-transducer-nemo-model.cc`,
 * `offline-tts-kokoro-model.cc` and `offline-tts-vits-model.cc` (SHERPA_ONNX_READ_META_DATA*).
 * Keys read with a default are not required and not listed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError } from '../../errors.js';
import { OnnxFormatError, type OnnxMetadata, readOnnxMetadata } from './onnx-metadata.js';

/** The metadata one model file must carry. */
export interface MetadataRules {
  /** Read with `atoi` and must be ≥ 0. */
  integers?: readonly string[];
  /** Must be a non-empty string. */
  strings?: readonly string[];
  /** Comma-separated numbers. */
  vectors?: readonly string[];
}

export const SENSEVOICE_METADATA: MetadataRules = {
  integers: [
    'vocab_size',
    'lfr_window_size',
    'lfr_window_shift',
    'normalize_samples',
    'with_itn',
    'without_itn',
    'lang_auto',
    'lang_zh',
    'lang_en',
    'lang_ja',
    'lang_ko',
    'lang_yue',
  ],
  vectors: ['neg_mean', 'inv_stddev'],
};

/** The NeMo transducer encoder (decoder and joiner carry none that sherpa reads). */
export const NEMO_TRANSDUCER_METADATA: MetadataRules = {
  integers: ['vocab_size', 'subsampling_factor', 'pred_rnn_layers', 'pred_hidden'],
};

export const KOKORO_METADATA: MetadataRules = {
  integers: ['sample_rate', 'n_speakers', 'has_espeak'],
  vectors: ['style_dim'],
};

/** VITS models (Piper, Coqui, MeloTTS, icefall). */
export const VITS_METADATA: MetadataRules = {
  integers: ['sample_rate', 'n_speakers'],
  strings: ['language', 'comment'],
};

/** Why a model file cannot be handed to sherpa: what is wrong, in one line. */
export function metadataProblems(metadata: OnnxMetadata, rules: MetadataRules): string[] {
  const problems: string[] = [];
  const value = (key: string): string | undefined => {
    const v = metadata.get(key);
    if (v === undefined || v === '') {
      problems.push(`the metadata key '${key}' is missing`);
      return undefined;
    }
    return v;
  };
  for (const key of rules.integers ?? []) {
    const v = value(key);
    // atoi: leading whitespace and sign, then digits; anything else reads as 0.
    if (v !== undefined && Number.parseInt(v.trim(), 10) < 0) problems.push(`the metadata key '${key}' is negative (${v})`);
  }
  for (const key of rules.strings ?? []) value(key);
  for (const key of rules.vectors ?? []) {
    const v = value(key);
    if (v !== undefined && !v.split(',').every((x) => x.trim() !== '' && Number.isFinite(Number(x)))) {
      problems.push(`the metadata key '${key}' is not a list of numbers`);
    }
  }
  return problems;
}

/**
 * Reads and checks `file`'s metadata; rejects with `engine_unavailable` naming the file, the
 * missing keys and `fix` (what to run). Returns the metadata for callers that need values.
 */
export async function checkModelMetadata(file: string, rules: MetadataRules, fix: string): Promise<OnnxMetadata> {
  let metadata: OnnxMetadata;
  try {
    metadata = await readOnnxMetadata(file);
  } catch (e) {
    const what = e instanceof OnnxFormatError ? e.message : `${path.basename(file)} could not be read`;
    throw ApiError.engineUnavailable(`${what}. ${fix}`, e);
  }
  const problems = metadataProblems(metadata, rules);
  if (problems.length > 0) {
    throw ApiError.engineUnavailable(
      `The model ${path.basename(file)} cannot be loaded: ${problems.join('; ')} (sherpa-onnx would stop the process). ${fix}`,
      new Error(`model file: ${file}`),
    );
  }
  return metadata;
}

/** The first of `names` that is a file in `dir`, or undefined. */
export async function firstFile(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const p = path.join(dir, name);
    if ((await fs.stat(p).catch(() => null))?.isFile()) return p;
  }
  return undefined;
}

/** Whether `dir` is a directory. */
export async function isDirectory(dir: string): Promise<boolean> {
  return (await fs.stat(dir).catch(() => null))?.isDirectory() ?? false;
}

/**
 * Checks a phoneme `tokens.txt` (Kokoro, Piper) the way sherpa reads it: one code point per
 * symbol (else `exit(-1)`), and the symbols sherpa looks up by name present (else an uncaught
 * `std::out_of_range` aborts the process while speaking).
 */
export async function checkPhonemeTokens(file: string, required: readonly string[], fix: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  const symbols = new Set<string>();
  for (const [i, line] of text.split('\n').entries()) {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed.trim() === '') continue;
    // "sym id", where a line " 3" is the space symbol.
    const m = /^(.*?)\s+(\d+)\s*$/u.exec(trimmed);
    const symbol = m ? (m[1] === '' ? ' ' : m[1]!) : undefined;
    if (symbol === undefined || ([...symbol].length !== 1 && symbol !== '<BLNK>')) {
      throw ApiError.engineUnavailable(`${path.basename(file)} line ${i + 1} is not a phoneme token ("symbol id"). ${fix}`);
    }
    symbols.add(symbol);
  }
  const missing = required.filter((s) => !symbols.has(s));
  if (missing.length > 0) {
    throw ApiError.engineUnavailable(`${path.basename(file)} lacks the tokens ${missing.map((s) => JSON.stringify(s)).join(', ')}. ${fix}`);
  }
}
