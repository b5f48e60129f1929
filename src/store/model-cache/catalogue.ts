/**
 * The models `parley models pull NAME` knows how to fetch: a small catalogue of real defaults.
 *
 * Every URL is pinned to an immutable Hugging Face revision (a commit id, never `main`), so a
 * checksum stays valid for as long as the repository exists.
 *
 * Where the checksums come from (none is made up; see the model-cache README):
 * - Hugging Face serves large files through Git LFS; a file's LFS `oid` is its SHA-256. The values
 *   below are those oids (and byte sizes) at the pinned revisions, as recorded in several
 *   independent public projects that pin the same files, cross-checked against each other.
 * - The 15 Kokoro voice packs were also re-hashed locally from the copies the `kokoro-js@1.2.1`
 *   npm package ships (`node_modules/kokoro-js/voices/*.bin`): identical bytes. catalogue.test.ts
 *   repeats that check whenever the package is installed.
 * - toxic-bert's `onnx/model_quantized.onnx`: the SHA-256 on its Hugging Face page (Git LFS
 *   details); no second source was found.
 * - For whisper.cpp the upstream `models/README.md` publishes SHA-1s, not SHA-256s; the SHA-1 of
 *   each file is noted beside its entry as a second, independent identity.
 *
 * A file whose checksum is not known is written with `sha256: null`: the cache then computes the
 * checksum on the first download and records it in the model's manifest (trust on first use), and
 * every later download must match it. Only toxic-bert's vocab.txt needs that (Hugging Face
 * publishes SHA-256s for LFS files only); its model file is pinned.
 */

/** What a model is for. */
export type ModelKind = 'tts' | 'asr' | 'llm' | 'safety';

/** One file of a catalogue model. */
export interface CatalogueFile {
  /** Path relative to the model's folder in the cache, `/`-separated (e.g. `onnx/model_quantized.onnx`). */
  path: string;
  /** Where to download it (pinned revision). A mirror replaces only the origin. */
  url: string;
  /** Expected SHA-256 (lowercase hex); null = unknown, trusted and recorded on first download. */
  sha256: string | null;
  /** Expected size in bytes; null = unknown, taken from the server. */
  size: number | null;
}

/** A model Parley can download. */
export interface CatalogueEntry {
  /** Name used on the command line and in config, e.g. `whisper-base.en`. */
  name: string;
  /** What the model is for. */
  kind: ModelKind;
  /** Engine id that loads it (`kokoro`, `whisper-cpp`, `llama-cpp`). */
  engine: string;
  /** One line for `parley models list`. */
  description: string;
  /** SPDX id of the weights' licence. */
  licence: string;
  /** The file an engine loads, relative to the model folder; absent = the engine takes the folder. */
  main?: string;
  /** Every file to download. */
  files: readonly CatalogueFile[];
}

const HF = 'https://huggingface.co';

/** onnx-community/Kokoro-82M-v1.0-ONNX at this commit. */
const KOKORO_REPO = 'onnx-community/Kokoro-82M-v1.0-ONNX';
const KOKORO_REVISION = '1939ad2a8e416c0acfeecc08a694d14ef25f2231';

/** ggerganov/whisper.cpp (the Hugging Face model repo) at this commit. */
const WHISPER_REPO = 'ggerganov/whisper.cpp';
const WHISPER_REVISION = '5359861c739e955e79d9a303bcbc70fb988958b1';

/** Xenova/toxic-bert (unitary/toxic-bert, Detoxify "original", as ONNX) at this commit. */
const TOXIC_BERT_REPO = 'Xenova/toxic-bert';
const TOXIC_BERT_REVISION = '3c89195bae68ad90eba677b7f1a893bd28854d38';

function toxicBertFile(path: string, size: number | null, sha256: string | null): CatalogueFile {
  return { path, url: `${HF}/${TOXIC_BERT_REPO}/resolve/${TOXIC_BERT_REVISION}/${path}`, sha256, size };
}

/** Every Kokoro voice pack is a [510, 1, 256] float32 tensor. */
const KOKORO_VOICE_SIZE = 510 * 256 * 4;

/** The Kokoro voice packs downloaded (those the OpenAI voice map picks from), with their SHA-256. */
export const KOKORO_VOICES: Readonly<Record<string, string>> = {
  af_alloy: 'c4a6b876047fd7fb472edf4ebd63cfac7c3b958a7cae7c106e8f038ca6308c45',
  af_heart: 'd583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b',
  af_bella: 'f69d836209b78eb8c66e75e3cda491e26ea838a3674257e9d4e5703cbaf55c8b',
  af_nova: '18778272caa0d0eebaea251c35fd635f038434f9eee5e691d02a174bd328414f',
  af_sky: '4435255c9744f3f31659e0d714ab7689bf65d9e77ec1cce060f083912614f0b9',
  af_sarah: '4409fbc125afabacc615d94db5398d847006a737b0247d6892b7a9a0007a2f0a',
  af_nicole: 'cd2191ab31b914ed7b318416b0e4440fdf392ddad9106a060819aa600a64f59a',
  am_echo: '3968b92c3c4cd1c4416dbded36c13eaa388a90d5788d02a13e4d781f5f8cf3c3',
  am_onyx: 'da5d135b424164916d75a68ffb4c2abce3d7d5ccc82dd1ee6cf447ce286145e6',
  am_adam: '162b035ed91cfc48b6046982184c645f72edcdd1b82843347f605d7bf7b15716',
  am_michael: '1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1',
  am_puck: 'fcf73c989033e9233e0b98713eca600c8c74dcc1614b37009d5450ff4a2274a0',
  bf_emma: '669fe0647f9dd04fcab92f1439a40eeb4c8b4ab1f82e4996fe3d918ce4a63b73',
  bm_fable: 'f889083196807b4adb15e9204252165f503b8d33d3982e681c52443c49d798f1',
  bm_george: 'c4b235a4c1f2cd3b939fed08b899ce9385638b763f7b73a59616c4fc9bd6c9bc',
};

function kokoroFile(path: string, size: number, sha256: string): CatalogueFile {
  return { path, url: `${HF}/${KOKORO_REPO}/resolve/${KOKORO_REVISION}/${path}`, sha256, size };
}

function whisper(variant: string, size: number, sha256: string, description: string): CatalogueEntry {
  const file = `ggml-${variant}.bin`;
  return {
    name: `whisper-${variant}`,
    kind: 'asr',
    engine: 'whisper-cpp',
    description,
    licence: 'MIT',
    main: file,
    files: [{ path: file, url: `${HF}/${WHISPER_REPO}/resolve/${WHISPER_REVISION}/${file}`, sha256, size }],
  };
}

function qwenGguf(params: '0.5B' | '1.5B', revision: string, size: number, sha256: string, description: string): CatalogueEntry {
  const lower = params.toLowerCase();
  const file = `qwen2.5-${lower}-instruct-q4_k_m.gguf`;
  return {
    name: `qwen2.5-${lower}-instruct`,
    kind: 'llm',
    engine: 'llama-cpp',
    description,
    licence: 'Apache-2.0',
    main: file,
    files: [{ path: file, url: `${HF}/Qwen/Qwen2.5-${params}-Instruct-GGUF/resolve/${revision}/${file}`, sha256, size }],
  };
}

/** The built-in catalogue. */
export const DEFAULT_CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'kokoro-82m',
    kind: 'tts',
    engine: 'kokoro',
    description: 'Kokoro 82M v1.0 text-to-speech, ONNX int8 (q8), 15 English voices',
    licence: 'Apache-2.0',
    files: [
      // Small JSON files are stored in git, not LFS; their SHA-256 was computed from the pinned
      // revision by other projects (several agree on each value).
      kokoroFile('config.json', 44, 'df34b4f930b23447cd4dc410fabfb42eb3f24e803e6c3f97d618fb359380a36f'),
      kokoroFile('tokenizer.json', 3497, '77a02c8e164413299b4b4c403b14f8e0e1c1b727db4d46a09d6327b861060a34'),
      kokoroFile('tokenizer_config.json', 113, 'be1cb066d6ef6b074b3f15e6a6dd21ac88ff3cdaedf325f0aaed686c70f75d20'),
      kokoroFile('onnx/model_quantized.onnx', 92_361_116, 'fbae9257e1e05ffc727e951ef9b9c98418e6d79f1c9b6b13bd59f5c9028a1478'),
      ...Object.entries(KOKORO_VOICES).map(([voice, sha]) => kokoroFile(`voices/${voice}.bin`, KOKORO_VOICE_SIZE, sha)),
    ],
  },
  // whisper.cpp models/README.md SHA-1: tiny bd577a113a864445d4c299885e0cb97d4ba92b5f,
  // tiny.en c78c86eb1a8faa21b369bcd33207cc90d64ae9df, base 465707469ff3a37a2b9b8d8f89f2f99de7299dac,
  // base.en 137c40403d78fd54d454da0f9bd998f78703390c, small 55356645c2b361a969dfd0ef2c5a50d530afd8d5.
  whisper('tiny', 77_691_713, 'be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21', 'Whisper tiny (multilingual), whisper.cpp ggml'),
  whisper('tiny.en', 77_704_715, '921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f', 'Whisper tiny (English only), whisper.cpp ggml'),
  whisper('base', 147_951_465, '60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe', 'Whisper base (multilingual), whisper.cpp ggml'),
  whisper('base.en', 147_964_211, 'a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002', 'Whisper base (English only), whisper.cpp ggml'),
  whisper('small', 487_601_967, '1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b', 'Whisper small (multilingual), whisper.cpp ggml'),
  {
    name: 'toxic-bert',
    kind: 'safety',
    engine: 'onnx-classifier',
    description: 'toxic-bert (Detoxify original) text toxicity classifier, ONNX int8, for the safety filters',
    licence: 'Apache-2.0',
    files: [
      // The LFS oid (SHA-256) Hugging Face publishes for this file; its exact byte size is not
      // published in a form we could find ("111 MB"), so it is taken from the server.
      toxicBertFile('onnx/model_quantized.onnx', null, '620012c9bed13e3c58b9c959d160d955ff033a1a27528212b9da5b0aa4ac3f73'),
      // A small git-stored file: no published SHA-256, so trusted and recorded on first download.
      // Expected to be bert-base-uncased's vocabulary (231,508 bytes, SHA-256
      // 07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3), not verified for this
      // repository. config.json is not needed: the classifier knows toxic-bert's labels and casing.
      toxicBertFile('vocab.txt', null, null),
    ],
  },
  qwenGguf(
    '0.5B',
    '9217f5db79a29953eb74d5343926648285ec7e67',
    491_400_032,
    '74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db',
    'Qwen2.5 0.5B Instruct, GGUF Q4_K_M (small, fast chat model)',
  ),
  qwenGguf(
    '1.5B',
    '91cad51170dc346986eccefdc2dd33a9da36ead9',
    1_117_320_736,
    '6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e',
    'Qwen2.5 1.5B Instruct, GGUF Q4_K_M (better answers, ~2x slower)',
  ),
];

/** The entry called `name`, if any. */
export function findEntry(catalogue: readonly CatalogueEntry[], name: string): CatalogueEntry | undefined {
  return catalogue.find((e) => e.name === name);
}

/** Sum of the known sizes of an entry's files; null when any size is unknown. */
export function entrySize(entry: CatalogueEntry): number | null {
  let total = 0;
  for (const f of entry.files) {
    if (f.size === null) return null;
    total += f.size;
  }
  return total;
}
