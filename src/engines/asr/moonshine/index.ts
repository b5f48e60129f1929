/**
 * Moonshine (Useful Sensors) tiny or base through sherpa-onnx, in a speech host: the smallest and
 * fastest English recogniser Parley runs. Its decoder reports no token times, so segments are
 * the (≤ 30 s) windows and `words` are not offered.
 *
 * The model folder is sherpa's release layout: `preprocess.onnx`, `encode.int8.onnx`,
 * `uncached_decode.int8.onnx`, `cached_decode.int8.onnx` + `tokens.txt`.
 */
import path from 'node:path';
import { type SherpaAsrOptions, sherpaAsrDescriptor } from '../sherpa/model-folder.js';
import { SherpaAsrEngine } from '../sherpa/recognizer.js';

/** The catalogue model `parley models pull` fetches for this engine, and the one looked for by default. */
export const DEFAULT_MOONSHINE_MODEL = 'moonshine-base-en-int8';
const LAYOUT = [
  ['preprocess.onnx'],
  ['encode.int8.onnx', 'encode.onnx'],
  ['uncached_decode.int8.onnx', 'uncached_decode.onnx'],
  ['cached_decode.int8.onnx', 'cached_decode.onnx'],
  ['tokens.txt'],
] as const;
const FIX = `Run \`parley models pull ${DEFAULT_MOONSHINE_MODEL}\` (or moonshine-tiny-en-int8) to replace it.`;

export const moonshineDescriptor = sherpaAsrDescriptor({
  id: 'moonshine',
  model: 'Moonshine',
  description: 'Moonshine tiny/base (sherpa-onnx): the smallest, fastest English recogniser; no word times',
  defaultModel: DEFAULT_MOONSHINE_MODEL,
  layout: LAYOUT,
  async start({ dir, files }, options) {
    const [preprocessor, encoder, uncachedDecoder, cachedDecoder, tokens] = files as [string, string, string, string, string];
    // sherpa reads no metadata from Moonshine's graphs: nothing to check before loading.
    return SherpaAsrEngine.create({
      id: 'moonshine',
      model: {
        kind: 'recognizer',
        key: `moonshine:${encoder}`,
        name: path.basename(dir),
        fix: FIX,
        config: {
          featConfig: { sampleRate: 16_000, featureDim: 80 },
          modelConfig: {
            moonshine: { preprocessor, encoder, uncachedDecoder, cachedDecoder },
            tokens,
            numThreads: Math.max(1, Math.floor(options.threads)),
            provider: 'cpu',
            debug: 0,
          },
        },
      },
      capabilities: { translate: false, wordTimestamps: false, languageDetection: false, emotion: false },
      languages: ['en'],
      tokenSeconds: 0,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxRssBytes !== undefined ? { maxRssBytes: options.maxRssBytes } : {}),
    });
  },
});

/** Finds and checks the model folder, then starts the speech host and loads the model. */
export function createMoonshineEngine(options: SherpaAsrOptions): Promise<SherpaAsrEngine> {
  return moonshineDescriptor.create(options);
}
