/**
 * The kokoro engine's descriptor. Importing this file is cheap: kokoro-js, transformers.js and
 * onnxruntime load only when `create` runs.
 */
import type { TtsEngine, TtsEngineDescriptor, TtsEngineOptions } from '../types.js';

export const descriptor: TtsEngineDescriptor = {
  id: 'kokoro',
  description:
    'Kokoro-82M (ONNX, q8) via kokoro-js: natural English voices incl. af_alloy, am_echo, af_nova, am_onyx, bm_fable; needs `parley models pull kokoro-82m`',
  async create(options: TtsEngineOptions): Promise<TtsEngine> {
    const { KokoroEngine } = await import('./engine.js');
    return KokoroEngine.create(options);
  },
};
