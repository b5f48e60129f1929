/**
 * The kokoro engine: Kokoro-82M through sherpa-onnx's OfflineTts, in a speech host.
 *
 * The model folder is sherpa's Kokoro layout: `model.int8.onnx` (or `model.onnx`), `voices.bin`,
 * `tokens.txt`, `lexicon-*.txt` where the release has them, and `espeak-ng-data/` — when the folder
 * lacks it, Debian's (`apt-get install espeak-ng-data`) is used. Voices come from the model's
 * `speaker_names` metadata (v1.0: 53 voices in nine languages). Importing this file is cheap.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError } from '../../../errors.js';
import { hasSherpaBinding, sherpaMissing } from '../../speech-host/binding.js';
import { checkModelMetadata, checkPhonemeTokens, firstFile, KOKORO_METADATA } from '../../speech-host/model-checks.js';
import { SherpaTtsEngine, type SherpaVoice } from '../sherpa/engine.js';
import { espeakDataFor, findVoiceFolder, missingEspeakData, probeVoiceFolder, type SherpaTtsOptions, SYSTEM_ESPEAK_DATA_DIRS } from '../sherpa/folder.js';
import type { TtsEngine, TtsEngineDescriptor } from '../types.js';

export type { SherpaTtsOptions } from '../sherpa/folder.js';

import { KOKORO_MODEL_NAME, KOKORO_V1_SPEAKERS, KOKORO_V019_SPEAKERS, kokoroVoice, kokoroVoiceMap } from './voices.js';

const MODEL_FILES = ['model.int8.onnx', 'model.onnx'] as const;
const FIX = `Run \`parley models pull ${KOKORO_MODEL_NAME}\` to replace it.`;
/** Symbols sherpa's Kokoro front end looks up by name: a missing one aborts the process mid-sentence. */
const REQUIRED_TOKENS = [' ', ';', ':', ',', '.', '!', '?', '—', '…', '"', '(', ')', '“', '”'] as const;
const LAYOUT = 'model.int8.onnx or model.onnx, voices.bin, tokens.txt, espeak-ng-data/';

export const descriptor: TtsEngineDescriptor = {
  id: 'kokoro',
  description: 'Kokoro-82M v1.0 (sherpa-onnx, int8): natural voices in 9 languages incl. af_alloy, am_echo, af_nova, am_onyx, bm_fable',
  probe: (options: SherpaTtsOptions) => probeVoiceFolder('kokoro', 'Kokoro', KOKORO_MODEL_NAME, options, isKokoroFolder, LAYOUT),
  async create(options: SherpaTtsOptions): Promise<TtsEngine> {
    return createKokoroEngine(options);
  },
};

async function isKokoroFolder(dir: string): Promise<boolean> {
  return (
    (await firstFile(dir, MODEL_FILES)) !== undefined &&
    (await firstFile(dir, ['voices.bin'])) !== undefined &&
    (await firstFile(dir, ['tokens.txt'])) !== undefined
  );
}

/** Checks the folder, then starts the host and loads the model. */
export async function createKokoroEngine(options: SherpaTtsOptions): Promise<SherpaTtsEngine> {
  if (!hasSherpaBinding()) throw sherpaMissing('kokoro');
  const dir = await findVoiceFolder('Kokoro', KOKORO_MODEL_NAME, options, isKokoroFolder, LAYOUT);
  const model = (await firstFile(dir, MODEL_FILES))!;
  const voicesFile = path.join(dir, 'voices.bin');
  const tokens = path.join(dir, 'tokens.txt');
  const metadata = await checkModelMetadata(model, KOKORO_METADATA, FIX);
  const speakers = Number.parseInt(metadata.get('n_speakers')!, 10);
  // sherpa exits when style_dim is not [max_tokens, 1, dim] or voices.bin has another size.
  const styleDim = metadata
    .get('style_dim')!
    .split(',')
    .map((v) => Number.parseInt(v, 10));
  if (styleDim.length !== 3 || styleDim[1] !== 1)
    throw ApiError.engineUnavailable(`The model ${path.basename(model)} has style_dim '${metadata.get('style_dim')}'; Kokoro's is [tokens, 1, dim]. ${FIX}`);
  const expected = styleDim[0]! * styleDim[2]! * Math.max(1, speakers) * 4;
  const actual = (await fs.stat(voicesFile)).size;
  if (actual !== expected) throw ApiError.engineUnavailable(`voices.bin has ${actual} bytes where the model needs ${expected} (${speakers} speakers). ${FIX}`);
  await checkPhonemeTokens(tokens, REQUIRED_TOKENS, FIX);
  const dataDir = await espeakDataFor(dir, options.systemEspeakDataDirs ?? SYSTEM_ESPEAK_DATA_DIRS);
  if (!dataDir) throw missingEspeakData('Kokoro', KOKORO_MODEL_NAME);
  const lexicons = (await fs.readdir(dir))
    .filter((f) => /^lexicon-.*\.txt$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  const voices = speakerNames(metadata.get('speaker_names'), speakers).map(kokoroVoice);
  return SherpaTtsEngine.create({
    id: 'kokoro',
    model: {
      kind: 'tts',
      key: `kokoro:${model}`,
      name: path.basename(dir),
      fix: FIX,
      config: {
        model: {
          kokoro: {
            model,
            voices: voicesFile,
            tokens,
            dataDir,
            // Kokoro ≥ 1.0 needs a lexicon or a language; the language per voice is given per passage.
            ...(lexicons.length > 0 ? { lexicon: lexicons.join(',') } : { lang: metadata.get('voice') || 'en-us' }),
          },
          numThreads: Math.max(1, Math.floor(options.threads ?? 2)),
          provider: 'cpu',
          debug: 0,
        },
        maxNumSentences: 1,
      },
    },
    voices: voices as SherpaVoice[],
    voiceMap: kokoroVoiceMap(voices),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxRssBytes !== undefined ? { maxRssBytes: options.maxRssBytes } : {}),
  });
}

/** Speaker names from the metadata when they match the count, else the known orders, else `speaker_N`. */
function speakerNames(fromMetadata: string | undefined, count: number): string[] {
  const named = fromMetadata
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (named && named.length === count) return named;
  if (count === KOKORO_V1_SPEAKERS.length) return [...KOKORO_V1_SPEAKERS];
  if (count === KOKORO_V019_SPEAKERS.length) return [...KOKORO_V019_SPEAKERS];
  return Array.from({ length: Math.max(1, count) }, (_, i) => `af_speaker_${i}`);
}
