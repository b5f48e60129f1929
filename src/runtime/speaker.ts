import { OUTPUT_SAMPLE_RATE, type PcmAudio } from '../audio/types.js';
import type { Config } from '../config/index.js';
import { assertValidVoiceMap, createTtsEngine, detectLanguage, TtsRouter } from '../engines/tts/registry.js';
import type { TtsVoice, VoiceRendering } from '../engines/tts/types.js';
import type { Speaker } from '../pipeline/speak.js';
import type { Limiter } from './limiter.js';

/** The voice map as `parley voices` prints it. */
export interface VoiceTable {
  engine: string;
  map: Array<{ name: string; voice: string; pitch: number; rate: number }>;
  engineVoices: readonly TtsVoice[];
}

export interface EngineSpeaker extends Speaker {
  voiceTable(): VoiceTable;
  dispose(): Promise<void>;
}

/**
 * The Speaker over the configured TTS engine: the engine's voice map with the config's overrides
 * (checked now: a name mapped to a voice the engine lacks stops the start), a router that hands
 * languages the engine lacks to espeak-ng, and every synthesis bounded by the shared limiter.
 */
export async function createEngineSpeaker(config: Config, limiter: Limiter): Promise<EngineSpeaker> {
  const engineOptions = { model: config.tts.model, modelsDir: config.modelsDir!, concurrency: config.concurrency };
  const main = await createTtsEngine(config.tts.engine, engineOptions);
  const voiceMap: Record<string, VoiceRendering> = { ...main.defaultVoiceMap(), ...config.tts.voices };
  try {
    assertValidVoiceMap(main, voiceMap);
  } catch (error) {
    await main.dispose();
    throw error;
  }
  const useFallback = config.tts.fallbackEngine !== 'none' && config.tts.engine !== 'espeak-ng';
  const router = new TtsRouter({
    main,
    voiceMap,
    engineOptions,
    ...(useFallback ? {} : { fallback: async () => main }),
  });
  return {
    voiceNames: () => router.voiceNames(),
    synthesize: (request): Promise<PcmAudio> =>
      limiter.run(async () => (await router.synthesize({ ...request, outputRate: OUTPUT_SAMPLE_RATE })).audio, { signal: request.signal }),
    detectLanguage: async (text) => (await detectLanguage(text, { expected: main.languages() }))?.language,
    voiceTable: () => ({
      engine: main.id,
      map: Object.entries(voiceMap).map(([name, r]) => ({ name, voice: r.voice, pitch: r.pitch ?? 1, rate: r.rate ?? 1 })),
      engineVoices: main.voices(),
    }),
    dispose: () => router.dispose(),
  };
}
