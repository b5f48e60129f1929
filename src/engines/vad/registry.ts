/**
 * VAD engine ids → lazy imports of their folders, so starting the server loads no native code
 * (onnxruntime) until voice activity detection is first needed.
 */
import { ApiError } from '../../errors.js';
import type { VadEngineDescriptor } from './types.js';

const ENGINES: Record<string, () => Promise<VadEngineDescriptor>> = {
  silero: async () => (await import('./silero/index.js')).descriptor,
};

/** Ids of every VAD engine. */
export const VAD_ENGINE_IDS: readonly string[] = Object.keys(ENGINES);

/** The descriptor of engine `id`; 503 `engine_unavailable` for an unknown id. */
export async function vadEngineDescriptor(id: string): Promise<VadEngineDescriptor> {
  const load = ENGINES[id];
  if (!load) throw ApiError.engineUnavailable(`Unknown VAD engine '${id}'. Known: ${VAD_ENGINE_IDS.join(', ')}.`);
  return load();
}
