/**
 * The TTS engines Parley knows, loaded only when asked for: importing this file loads no engine.
 * Also the voice-map check the server runs at start, and (re-exported) the per-request router.
 */
import { ApiError } from '../../errors.js';
import { OPENAI_VOICES, type TtsEngine, type TtsEngineDescriptor, type TtsEngineOptions, type VoiceRendering } from './types.js';

export { type DetectedLanguage, type DetectLanguageOptions, detectLanguage } from './language.js';
export { type RoutedSpeech, type TtsPlan, type TtsRouteRequest, TtsRouter, type TtsRouterOptions, type TtsSpeakRequest } from './router.js';

/** Engine ids, in the order `parley voices` lists them. */
export const TTS_ENGINE_IDS = ['kokoro', 'piper', 'flite', 'espeak-ng'] as const;
/** A known engine id. */
export type TtsEngineId = (typeof TTS_ENGINE_IDS)[number];
/** The engines `auto` considers, best first (espeak-ng is the fallback for other languages, never picked). */
export const TTS_AUTO_ORDER = ['kokoro', 'piper', 'flite'] as const satisfies readonly TtsEngineId[];

const LOADERS: Readonly<Record<TtsEngineId, () => Promise<TtsEngineDescriptor>>> = {
  kokoro: async () => (await import('./kokoro/index.js')).descriptor,
  piper: async () => (await import('./piper/index.js')).descriptor,
  flite: async () => (await import('./flite/index.js')).descriptor,
  'espeak-ng': async () => (await import('./espeak-ng/index.js')).descriptor,
};

/** True for a known engine id. */
export function isTtsEngineId(id: string): id is TtsEngineId {
  return (TTS_ENGINE_IDS as readonly string[]).includes(id);
}

/** The descriptor of engine `id` (imports its folder's index, which is light). */
export async function loadTtsEngineDescriptor(id: string): Promise<TtsEngineDescriptor> {
  if (!isTtsEngineId(id)) throw ApiError.invalidValue('tts.engine', id, TTS_ENGINE_IDS);
  return LOADERS[id]();
}

/** Creates engine `id`. Throws `engine_unavailable` (with what to run) when its model is missing. */
export async function createTtsEngine(id: string, options: TtsEngineOptions): Promise<TtsEngine> {
  return (await loadTtsEngineDescriptor(id)).create(options);
}

/** The engine a TTS setting resolves to, and why (for `parley doctor`, `/health` and the start-up log). */
export interface TtsChoice {
  id: TtsEngineId;
  available: boolean;
  /** One line: why this engine; when unavailable, what is missing and what to run. */
  reason: string;
  /** Better engines `auto` passed over, each with why. */
  passedOver: Array<{ id: TtsEngineId; reason: string }>;
}

/**
 * What `engine` (`auto` or an id) resolves to, without loading a model. `auto` takes the first of
 * kokoro › piper › flite that can run (a model installed in the cache, or the configured
 * `PARLEY_TTS_MODEL` folder fits it); flite ships its voices, so `auto` always finds one.
 */
export async function resolveTtsEngine(engine: string, options: TtsEngineOptions): Promise<TtsChoice> {
  const probe = async (id: TtsEngineId): Promise<{ available: boolean; reason?: string }> =>
    (await (await loadTtsEngineDescriptor(id)).probe?.(options)) ?? { available: true };
  if (engine !== 'auto') {
    if (!isTtsEngineId(engine)) throw ApiError.invalidValue('tts.engine', engine, ['auto', ...TTS_ENGINE_IDS]);
    const p = await probe(engine);
    return {
      id: engine,
      available: p.available,
      reason: p.available ? `set by PARLEY_TTS_ENGINE=${engine}` : (p.reason ?? `${engine} is unavailable`),
      passedOver: [],
    };
  }
  const passedOver: TtsChoice['passedOver'] = [];
  for (const id of TTS_AUTO_ORDER) {
    const p = await probe(id);
    if (p.available) {
      const why =
        passedOver.length === 0
          ? 'the best engine'
          : id === 'flite'
            ? 'no model of a better engine is installed; flite ships its voices'
            : 'the best engine whose model is installed';
      return { id, available: true, reason: `auto: ${why}`, passedOver };
    }
    passedOver.push({ id, reason: p.reason ?? `${id} is unavailable` });
  }
  // Unreachable while flite ships its data; kept so a broken install says what happened.
  return { id: 'flite', available: false, reason: passedOver.map((p) => `${p.id}: ${p.reason}`).join(' '), passedOver };
}

/** One thing wrong with a voice map. */
export interface VoiceMapProblem {
  /** The OpenAI voice name concerned. */
  name: string;
  /** `unknown-voice`: mapped to a voice the engine lacks; `missing`: not mapped; `bad-value`: pitch or rate out of range. */
  kind: 'unknown-voice' | 'missing' | 'bad-value';
  /** One line for the log. */
  message: string;
}

/** Pitch and rate factors accepted in a voice map (the config schema allows 0–4). */
const FACTOR_RANGE = { min: 0.25, max: 4 } as const;

/**
 * Every problem of `map` for `engine`: OpenAI names mapped to voices the engine lacks, OpenAI
 * names not mapped at all, pitch/rate outside 0.25–4. Empty when the map is usable. Names beyond
 * the OpenAI ones (extra aliases) are checked too. Merge user overrides into
 * `engine.defaultVoiceMap()` before checking.
 */
export function validateVoiceMap(engine: TtsEngine, map: Readonly<Record<string, VoiceRendering>>): VoiceMapProblem[] {
  const problems: VoiceMapProblem[] = [];
  const has = (id: string): boolean => (engine.hasVoice ? engine.hasVoice(id) : engine.voices().some((v) => v.id === id));
  for (const name of OPENAI_VOICES) {
    if (!map[name]) problems.push({ name, kind: 'missing', message: `'${name}' is not mapped to any ${engine.id} voice` });
  }
  for (const [name, r] of Object.entries(map)) {
    if (!has(r.voice)) problems.push({ name, kind: 'unknown-voice', message: `'${name}' → '${r.voice}': ${engine.id} has no voice '${r.voice}'` });
    for (const key of ['pitch', 'rate'] as const) {
      const v = r[key];
      if (v !== undefined && !(v >= FACTOR_RANGE.min && v <= FACTOR_RANGE.max)) {
        problems.push({ name, kind: 'bad-value', message: `'${name}': ${key} ${v} is outside ${FACTOR_RANGE.min}–${FACTOR_RANGE.max}` });
      }
    }
  }
  return problems;
}

/** A readable report of `problems`, naming the engine's real voices so the fix is obvious. */
export function describeVoiceMapProblems(engine: TtsEngine, problems: readonly VoiceMapProblem[]): string {
  const ids = engine.voices().map((v) => v.id);
  const shown = ids.length > 30 ? `${ids.slice(0, 30).join(', ')}, … (${ids.length} in all)` : ids.join(', ');
  return [
    `The voice map of TTS engine '${engine.id}' has ${problems.length} problem${problems.length === 1 ? '' : 's'}:`,
    ...problems.map((p) => `  - ${p.message}`),
    `Voices of ${engine.id}: ${shown}.`,
  ].join('\n');
}

/** Thrown by {@link assertValidVoiceMap}; `problems` lists them all. */
export class VoiceMapError extends Error {
  constructor(
    readonly problems: readonly VoiceMapProblem[],
    message: string,
  ) {
    super(message);
    this.name = 'VoiceMapError';
  }
}

/** Throws a {@link VoiceMapError} listing every problem of `map`; the server refuses to start on it. */
export function assertValidVoiceMap(engine: TtsEngine, map: Readonly<Record<string, VoiceRendering>>): void {
  const problems = validateVoiceMap(engine, map);
  if (problems.length > 0) throw new VoiceMapError(problems, describeVoiceMapProblems(engine, problems));
}
