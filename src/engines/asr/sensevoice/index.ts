/**
 * SenseVoice-small (FunAudioLLM) through sherpa-onnx, in a speech host: words, the language, the
 * emotion heard in the voice and non-speech events (laughter, applause, music, crying, coughing,
 * sneezing) in one pass. Chinese, English, Japanese, Korean, Cantonese.
 *
 * The model folder is sherpa's release layout: `model.int8.onnx` (or `model.onnx`) + `tokens.txt`.
 * Importing this file is cheap; sherpa-onnx loads in the host process when `create` runs.
 */
import path from 'node:path';
import type { SpeechModel } from '../../speech-host/client.js';
import { checkModelMetadata, SENSEVOICE_METADATA } from '../../speech-host/model-checks.js';
import { type SherpaAsrOptions, sherpaAsrDescriptor } from '../sherpa/model-folder.js';
import { SherpaAsrEngine } from '../sherpa/recognizer.js';

/** The catalogue model `parley models pull` fetches for this engine, and the one looked for by default. */
export const DEFAULT_SENSEVOICE_MODEL = 'sensevoice-small-int8';
/** The languages SenseVoice-small was trained on. */
export const SENSEVOICE_LANGUAGES = ['en', 'zh', 'yue', 'ja', 'ko'] as const;
const LAYOUT = [['model.int8.onnx', 'model.onnx'], ['tokens.txt']] as const;
const FIX = `Run \`parley models pull ${DEFAULT_SENSEVOICE_MODEL}\` to replace it.`;

export const sensevoiceDescriptor = sherpaAsrDescriptor({
  id: 'sensevoice',
  model: 'SenseVoice',
  description: 'SenseVoice-small (sherpa-onnx): zh/en/ja/ko/yue words, language, emotion and audio events in one pass',
  defaultModel: DEFAULT_SENSEVOICE_MODEL,
  layout: LAYOUT,
  async start({ dir, files }, options) {
    const [model, tokens] = files as [string, string];
    await checkModelMetadata(model, SENSEVOICE_METADATA, FIX);
    // The language is a load-time hint in sherpa (empty = detect): one recogniser per hint used.
    const recognizer = (language: string): SpeechModel => ({
      kind: 'recognizer',
      key: `sensevoice:${model}:${language}`,
      name: path.basename(dir),
      fix: FIX,
      config: {
        featConfig: { sampleRate: 16_000, featureDim: 80 },
        modelConfig: {
          senseVoice: { model, language, useInverseTextNormalization: 1 },
          tokens,
          numThreads: Math.max(1, Math.floor(options.threads)),
          provider: 'cpu',
          debug: 0,
        },
      },
    });
    return SherpaAsrEngine.create({
      id: 'sensevoice',
      model: recognizer(''),
      modelFor: recognizer,
      capabilities: { translate: false, wordTimestamps: true, languageDetection: true, emotion: true },
      languages: SENSEVOICE_LANGUAGES,
      // SenseVoice's output frames are LFR frames: 6 × 10 ms.
      tokenSeconds: 0.06,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxRssBytes !== undefined ? { maxRssBytes: options.maxRssBytes } : {}),
    });
  },
});

/** Finds and checks the model folder, then starts the speech host and loads the model. */
export function createSensevoiceEngine(options: SherpaAsrOptions): Promise<SherpaAsrEngine> {
  return sensevoiceDescriptor.create(options);
}
