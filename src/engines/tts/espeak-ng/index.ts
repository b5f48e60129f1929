/**
 * The espeak-ng engine's descriptor. Importing this file is cheap: the engine (and the 18 MB
 * espeak-ng.wasm) loads only when `create` runs.
 */
import type { TtsEngine, TtsEngineDescriptor, TtsEngineOptions } from '../types.js';

export const descriptor: TtsEngineDescriptor = {
  id: 'espeak-ng',
  description: 'eSpeak NG (WASM build): ~130 languages with male/female variants; robotic but speaks almost anything',
  async create(options: TtsEngineOptions): Promise<TtsEngine> {
    const { EspeakEngine } = await import('./engine.js');
    return EspeakEngine.create(options);
  },
};
