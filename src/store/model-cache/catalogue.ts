/**
 * The models `parley models pull NAME` knows how to fetch: a small catalogue of real defaults.
 *
 * Every Hugging Face URL is pinned to an immutable revision (a commit id, never `main`), so a
 * checksum stays valid for as long as the repository exists. sherpa-onnx also publishes some
 * files only as GitHub release assets (espeak-ng's data, Piper voices as int8 archives); those
 * URLs name a release, and their SHA-256 is what holds them to the bytes verified.
 *
 * Where the checksums come from (none is made up; see the model-cache README):
 * - Hugging Face serves large files through Git LFS; a file's LFS `oid` is its SHA-256. The values
 *   below are those oids (and byte sizes) at the pinned revisions, as recorded in several
 *   independent public projects that pin the same files, cross-checked against each other.
 * - toxic-bert's `onnx/model_quantized.onnx`: the SHA-256 on its Hugging Face page (Git LFS
 *   details); no second source was found.
 * - For whisper.cpp the upstream `models/README.md` publishes SHA-1s, not SHA-256s; the SHA-1 of
 *   each file is noted beside its entry as a second, independent identity.
 * - The sherpa-onnx entries (SenseVoice, Parakeet, Moonshine, Kokoro, Piper) and the release
 *   archives: SHA-256 and sizes as pinned by several independent public projects (manifests of
 *   apps that download the same files); every value below was found in at least two that agree.
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
  /**
   * An archive to unpack into the model folder once verified (sherpa-onnx publishes espeak-ng's
   * data and its Piper voices as release archives): what it holds under `root/` (`''`: all of it)
   * lands in the model folder. The archive is not kept; it counts as present when the manifest
   * records its checksum and every path of `contains` exists.
   */
  extract?: { format: 'tar.bz2'; root: string; contains: readonly string[] };
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

/** ggerganov/whisper.cpp (the Hugging Face model repo) at this commit. */
const WHISPER_REPO = 'ggerganov/whisper.cpp';
const WHISPER_REVISION = '5359861c739e955e79d9a303bcbc70fb988958b1';

/** Xenova/toxic-bert (unitary/toxic-bert, Detoxify "original", as ONNX) at this commit. */
const TOXIC_BERT_REPO = 'Xenova/toxic-bert';
const TOXIC_BERT_REVISION = '3c89195bae68ad90eba677b7f1a893bd28854d38';

function toxicBertFile(path: string, size: number | null, sha256: string | null): CatalogueFile {
  return { path, url: `${HF}/${TOXIC_BERT_REPO}/resolve/${TOXIC_BERT_REVISION}/${path}`, sha256, size };
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

/** A file of a Hugging Face repository at a pinned revision. */
function hf(repo: string, revision: string, file: string, size: number, sha256: string, path = file): CatalogueFile {
  return { path, url: `${HF}/${repo}/resolve/${revision}/${file}`, sha256, size };
}

/** sherpa-onnx's GitHub releases (tts-models): archives only, held to their SHA-256. */
const SHERPA_TTS_RELEASE = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/tts-models';

/**
 * espeak-ng's phoneme data as sherpa-onnx ships it with Kokoro and Piper (355 files, 18 MB
 * unpacked). Without it the engines fall back to Debian's `espeak-ng-data` package.
 */
const ESPEAK_NG_DATA: CatalogueFile = {
  path: 'espeak-ng-data.tar.bz2',
  url: `${SHERPA_TTS_RELEASE}/espeak-ng-data.tar.bz2`,
  sha256: '4135ccf82e1f40613491c0874d4945ae9e9c7840933d8e25a6f9e003d9ebf533',
  size: 7_252_012,
  extract: { format: 'tar.bz2', root: '', contains: ['espeak-ng-data/phontab'] },
};

/** A Piper voice from sherpa-onnx's int8 release archive (the voice, tokens.txt and espeak-ng-data). */
function piper(voice: string, size: number, sha256: string, language: string, licence: string): CatalogueEntry {
  const folder = `vits-piper-${voice}-int8`;
  return {
    name: `piper-${voice}`,
    kind: 'tts',
    engine: 'piper',
    description: `Piper ${voice} (${language}), sherpa-onnx int8 VITS voice`,
    licence,
    files: [
      {
        path: `${folder}.tar.bz2`,
        url: `${SHERPA_TTS_RELEASE}/${folder}.tar.bz2`,
        sha256,
        size,
        extract: { format: 'tar.bz2', root: folder, contains: [`${voice}.onnx`, 'tokens.txt', 'espeak-ng-data/phontab'] },
      },
    ],
  };
}

const SENSEVOICE = { repo: 'csukuangfj/sherpa-onnx-sense-voice-zh-en-ja-ko-yue-2024-07-17', revision: '2365baeacb507f821a0c8120fcee3d484dba7a07' };
const PARAKEET = { repo: 'csukuangfj/sherpa-onnx-nemo-parakeet-tdt-0.6b-v2-int8', revision: '1ab9323565ddb038682214b292f588070a538ce2' };
const MOONSHINE_TINY = { repo: 'csukuangfj/sherpa-onnx-moonshine-tiny-en-int8', revision: 'bf2b762c076d8ea61e2af0b3851c9564fb77552e' };
const MOONSHINE_BASE = { repo: 'csukuangfj/sherpa-onnx-moonshine-base-en-int8', revision: '052b0798ad1bf046a140fdd4efcd9426530fa3f5' };
/** Kokoro v1.0: the int8 model from its int8 repository, voices/tokens/lexicon from the float one (the same files in both). */
const KOKORO_INT8 = { repo: 'csukuangfj/kokoro-int8-multi-lang-v1_0', revision: '5d6cbe65546edb3ebae8bde976c8ad3438b3f34b' };
const KOKORO_V1 = { repo: 'csukuangfj/kokoro-multi-lang-v1_0', revision: '7e9b67b79bfdcbd2b4bc144370345fcceac3cb0c' };

/** The models that run on sherpa-onnx (engines/speech-host). */
const SHERPA_ENTRIES: readonly CatalogueEntry[] = [
  {
    name: 'sensevoice-small-int8',
    kind: 'asr',
    engine: 'sensevoice',
    description: 'SenseVoice-small int8 (sherpa-onnx): zh/en/ja/ko/yue words, language, emotion and audio events; ~0.7 GB RAM',
    licence: 'LicenseRef-FunASR-Model-License',
    files: [
      hf(SENSEVOICE.repo, SENSEVOICE.revision, 'model.int8.onnx', 239_233_841, 'c71f0ce00bec95b07744e116345e33d8cbbe08cef896382cf907bf4b51a2cd51'),
      hf(SENSEVOICE.repo, SENSEVOICE.revision, 'tokens.txt', 315_894, 'f449eb28dc567533d7fa59be34e2abca8784f771850c78a47fb731a31429a1dc'),
    ],
  },
  {
    name: 'parakeet-tdt-0.6b-v2-int8',
    kind: 'asr',
    engine: 'parakeet',
    description: 'NVIDIA Parakeet-TDT 0.6b v2 int8 (sherpa-onnx): the most accurate English recogniser; ~2 GB RAM',
    licence: 'CC-BY-4.0',
    files: [
      hf(PARAKEET.repo, PARAKEET.revision, 'encoder.int8.onnx', 652_184_296, 'a32b12d17bbbc309d0686fbbcc2987b5e9b8333a7da83fa6b089f0a2acd651ab'),
      hf(PARAKEET.repo, PARAKEET.revision, 'decoder.int8.onnx', 7_257_753, 'b6bb64963457237b900e496ee9994b59294526439fbcc1fecf705b31a15c6b4e'),
      hf(PARAKEET.repo, PARAKEET.revision, 'joiner.int8.onnx', 1_739_080, '7946164367946e7f9f29a122407c3252b680dbae9a51343eb2488d057c3c43d2'),
      hf(PARAKEET.repo, PARAKEET.revision, 'tokens.txt', 9_384, 'ec182b70dd42113aff6c5372c75cac58c952443eb22322f57bbd7f53977d497d'),
    ],
  },
  {
    name: 'moonshine-tiny-en-int8',
    kind: 'asr',
    engine: 'moonshine',
    description: 'Moonshine tiny int8 (sherpa-onnx): the smallest, fastest English recogniser',
    licence: 'MIT',
    files: [
      hf(MOONSHINE_TINY.repo, MOONSHINE_TINY.revision, 'preprocess.onnx', 6_800_738, 'f33addce61a143460fe753b5ee5b7db255e5140b5b779c065b94f6c83ff0bf4e'),
      hf(MOONSHINE_TINY.repo, MOONSHINE_TINY.revision, 'encode.int8.onnx', 18_249_187, '8774dfba578de027ec6595c2c654a0836434489bc963a0db124a7f181f571acb'),
      hf(
        MOONSHINE_TINY.repo,
        MOONSHINE_TINY.revision,
        'uncached_decode.int8.onnx',
        53_216_096,
        '216737000dd5881a17aa043f6bbd286add33e4c3b0ae257153e2ec15438bdc41',
      ),
      hf(
        MOONSHINE_TINY.repo,
        MOONSHINE_TINY.revision,
        'cached_decode.int8.onnx',
        45_264_830,
        '2aff28bba6a03d8dcf5c9feac45462629bae37317442299f28115ad09da773f6',
      ),
      hf(MOONSHINE_TINY.repo, MOONSHINE_TINY.revision, 'tokens.txt', 436_688, '1165c2aeb9f72f457a83be2d459a09054f27490acd9b41bd43794dfd25e296ea'),
    ],
  },
  {
    name: 'moonshine-base-en-int8',
    kind: 'asr',
    engine: 'moonshine',
    description: 'Moonshine base int8 (sherpa-onnx): small, fast English recogniser, better than tiny',
    licence: 'MIT',
    files: [
      hf(MOONSHINE_BASE.repo, MOONSHINE_BASE.revision, 'preprocess.onnx', 14_077_290, 'ffa630d395c5ccf76f5d4954be5b882df76aaf6491519ec01fd82ea7a3819fb2'),
      hf(MOONSHINE_BASE.repo, MOONSHINE_BASE.revision, 'encode.int8.onnx', 50_311_494, '7e38770f776f2e5583a53b052936005df2ba5c833d7e09c2a5fd796b94bf73e2'),
      hf(
        MOONSHINE_BASE.repo,
        MOONSHINE_BASE.revision,
        'uncached_decode.int8.onnx',
        122_120_451,
        'c01f4b35093bcac20d352d23a75a539e772964579f9d024a90e5e6f09cae9987',
      ),
      hf(
        MOONSHINE_BASE.repo,
        MOONSHINE_BASE.revision,
        'cached_decode.int8.onnx',
        99_983_837,
        '2db74e51cedf64a8b1be3c8192e0bb5e4923af0e90bd9e87f8e8771873f8ea03',
      ),
      hf(MOONSHINE_BASE.repo, MOONSHINE_BASE.revision, 'tokens.txt', 436_688, '1165c2aeb9f72f457a83be2d459a09054f27490acd9b41bd43794dfd25e296ea'),
    ],
  },
  {
    name: 'kokoro-82m-int8',
    kind: 'tts',
    engine: 'kokoro',
    description: 'Kokoro-82M v1.0 int8 (sherpa-onnx layout): 53 voices in 9 languages incl. af_alloy, am_echo, af_nova, am_onyx, bm_fable',
    licence: 'Apache-2.0',
    files: [
      hf(KOKORO_INT8.repo, KOKORO_INT8.revision, 'model.int8.onnx', 114_298_054, '77ef4f0513401d508ed7831f8504c7042df58bc75e004ec9666894590f999b1d'),
      hf(KOKORO_V1.repo, KOKORO_V1.revision, 'voices.bin', 27_678_720, '8a77c0d397026208d22211f37670b5b3b11e03f190756b25a1d24041fced82a9'),
      hf(KOKORO_V1.repo, KOKORO_V1.revision, 'tokens.txt', 687, '6ebb6bb288f20f3ae8d004d3c2ca27697da27c037d75e81a60e2a6a663f95425'),
      hf(KOKORO_V1.repo, KOKORO_V1.revision, 'lexicon-us-en.txt', 5_956_885, '7daaab53a181be9885b853a8582bf1838186317e5dadacbcef9c426d6fa0da14'),
      ESPEAK_NG_DATA,
    ],
  },
  // The release archives hold <voice>.onnx, tokens.txt and espeak-ng-data/ under one folder
  // named after the archive.
  piper('en_US-amy-medium', 21_028_122, 'bd23c0aa629eb3719448582f45ede49e8fa6a679061fed5eab16a6a6fd8e7e82', 'English, US', 'CC-BY-4.0'),
  piper('de_DE-thorsten-medium', 20_949_833, '07e240b7b9c1fc9211d5a69512f8cbe11b3286c2ed79c15c076ac6ed427fdf13', 'German', 'CC0-1.0'),
  piper('es_ES-davefx-medium', 21_171_632, '8bb8ac1cefb727caec9bd9c6c3185c673c8b42c53bd29bb25d5a7715dac37125', 'Spanish, Spain', 'CC0-1.0'),
];

/** The built-in catalogue. */
export const DEFAULT_CATALOGUE: readonly CatalogueEntry[] = [
  ...SHERPA_ENTRIES,
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
