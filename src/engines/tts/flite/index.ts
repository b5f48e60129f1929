/**
 * The flite engine's descriptor. Importing this file is cheap: the engine (and flite.wasm) loads
 * only when `create` runs.
 */
import type { TtsEngine, TtsEngineDescriptor, TtsEngineOptions } from '../types.js';

export const descriptor: TtsEngineDescriptor = {
  id: 'flite',
  description: 'CMU Flite (WASI build, ships its voices): slt, rms, awb, kal16, kal; fast, English only',
  async create(options: TtsEngineOptions): Promise<TtsEngine> {
    const { FliteEngine } = await import('./engine.js');
    return FliteEngine.create(options);
  },
};
