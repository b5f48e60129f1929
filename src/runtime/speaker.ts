import { OUTPUT_SAMPLE_RATE, type PcmAudio } from '../audio/types.js';
import type { TtsSettings } from '../config/index.js';
import { assertValidVoiceMap, createTtsEngine, detectLanguage, resolveTtsEngine, TtsRouter } from '../engines/tts/registry.js';
import type { TtsVoice, VoiceRendering } from '../engines/tts/types.js';
import type { Limiter } from '../lib/limiter.js';
import type { Speaker } from '../pipeline/speak.js';

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
 * The Speaker over one TTS engine: the engine's voice map with the settings' overrides (checked
 * now: a name mapped to a voice the engine lacks stops the start), a router that hands languages
 * the engine lacks to espeak-ng, and every synthesis one `tts` job of the process's limiter.
 */
export async function createEngineSpeaker(
  settings: TtsSettings,
  options: { modelsDir: string; concurrency: number; limiter: Limiter },
): Promise<EngineSpeaker> {
  const engineOptions = { model: settings.model, modelsDir: options.modelsDir, concurrency: options.concurrency };
  // `auto`: the best engine whose model is installed (kokoro › piper › flite), chosen once at start.
  const id = settings.engine === 'auto' ? (await resolveTtsEngine('auto', engineOptions)).id : settings.engine;
  const main = await createTtsEngine(id, engineOptions);
  const voiceMap: Record<string, VoiceRendering> = { ...main.defaultVoiceMap(), ...settings.voices };
  try {
    assertValidVoiceMap(main, voiceMap);
  } catch (error) {
    await main.dispose();
    throw error;
  }
  const useFallback = settings.fallbackEngine !== 'none' && id !== 'espeak-ng';
  const router = new TtsRouter({
    main,
    voiceMap,
    engineOptions,
    ...(useFallback ? {} : { fallback: async () => main }),
  });
  return {
    voiceNames: () => router.voiceNames(),
    synthesize: (request): Promise<PcmAudio> =>
      options.limiter.run('tts', async () => (await router.synthesize({ ...request, outputRate: OUTPUT_SAMPLE_RATE })).audio, { signal: request.signal }),
    detectLanguage: async (text) => (await detectLanguage(text, { expected: main.languages() }))?.language,
    voiceTable: () => ({
      engine: main.id,
      map: Object.entries(voiceMap).map(([name, r]) => ({ name, voice: r.voice, pitch: r.pitch ?? 1, rate: r.rate ?? 1 })),
      engineVoices: main.voices(),
    }),
    dispose: () => router.dispose(),
  };
}
