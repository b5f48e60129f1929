/**
 * Voice analyzer ids → lazy imports of their folders, so starting the server loads nothing
 * (not even VADER's lexicon) until a turn is first analysed.
 */
import { ApiError } from '../../errors.js';
import type { VoiceAnalyzerDescriptor } from './types.js';

const ANALYZERS: Record<string, () => Promise<VoiceAnalyzerDescriptor>> = {
  prosody: async () => (await import('./prosody/index.js')).descriptor,
};

/** Ids of every voice analyzer. */
export const VOICE_ANALYZER_IDS: readonly string[] = Object.keys(ANALYZERS);

/** The descriptor of analyzer `id`; 503 `engine_unavailable` for an unknown id. */
export async function voiceAnalyzerDescriptor(id: string): Promise<VoiceAnalyzerDescriptor> {
  const load = ANALYZERS[id];
  if (!load) throw ApiError.engineUnavailable(`Unknown voice analyzer '${id}'. Known: ${VOICE_ANALYZER_IDS.join(', ')}.`);
  return load();
}
