/**
 * NVIDIA Parakeet-TDT (NeMo token-and-duration transducer) through sherpa-onnx, in a speech host:
 * the most accurate English recogniser Parley runs (0.6b-v2: mean WER 6.05 on the Open ASR
 * leaderboard), with word times from the model's token durations.
 *
 * The model folder is sherpa's release layout: `encoder.int8.onnx`, `decoder.int8.onnx`,
 * `joiner.int8.onnx` (or the float `encoder.onnx`, …) + `tokens.txt`.
 */
import path from 'node:path';
import { checkModelMetadata, NEMO_TRANSDUCER_METADATA } from '../../speech-host/model-checks.js';
import { type SherpaAsrOptions, sherpaAsrDescriptor } from '../sherpa/model-folder.js';
import { SherpaAsrEngine } from '../sherpa/recognizer.js';

/** The catalogue model `parley models pull` fetches for this engine, and the one looked for by default. */
export const DEFAULT_PARAKEET_MODEL = 'parakeet-tdt-0.6b-v2-int8';
const LAYOUT = [['encoder.int8.onnx', 'encoder.onnx'], ['decoder.int8.onnx', 'decoder.onnx'], ['joiner.int8.onnx', 'joiner.onnx'], ['tokens.txt']] as const;
const FIX = `Run \`parley models pull ${DEFAULT_PARAKEET_MODEL}\` to replace it.`;

export const parakeetDescriptor = sherpaAsrDescriptor({
  id: 'parakeet',
  model: 'Parakeet',
  description: 'NVIDIA Parakeet-TDT 0.6b v2 (sherpa-onnx): the most accurate English recogniser, with word times',
  defaultModel: DEFAULT_PARAKEET_MODEL,
  layout: LAYOUT,
  async start({ dir, files }, options) {
    const [encoder, decoder, joiner, tokens] = files as [string, string, string, string];
    const metadata = await checkModelMetadata(encoder, NEMO_TRANSDUCER_METADATA, FIX);
    // Parakeet-TDT-0.6b-v2 uses 128 mel bins and says so; older NeMo exports use 80.
    const featureDim = Number.parseInt(metadata.get('feat_dim') ?? '', 10) > 0 ? Number.parseInt(metadata.get('feat_dim')!, 10) : 80;
    return SherpaAsrEngine.create({
      id: 'parakeet',
      model: {
        kind: 'recognizer',
        key: `parakeet:${encoder}`,
        name: path.basename(dir),
        fix: FIX,
        config: {
          featConfig: { sampleRate: 16_000, featureDim },
          modelConfig: {
            transducer: { encoder, decoder, joiner },
            tokens,
            modelType: 'nemo_transducer',
            numThreads: Math.max(1, Math.floor(options.threads)),
            provider: 'cpu',
            debug: 0,
          },
        },
      },
      capabilities: { translate: false, wordTimestamps: true, languageDetection: false, emotion: false },
      languages: ['en'],
      // One encoder frame: 10 ms × subsampling 8 (TDT results carry their own durations).
      tokenSeconds: 0.08,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxRssBytes !== undefined ? { maxRssBytes: options.maxRssBytes } : {}),
    });
  },
});

/** Finds and checks the model folder, then starts the speech host and loads the model. */
export function createParakeetEngine(options: SherpaAsrOptions): Promise<SherpaAsrEngine> {
  return parakeetDescriptor.create(options);
}
