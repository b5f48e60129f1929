/**
 * Picks the engine and voice for each speech request: the main engine, unless the text is in a
 * language the main engine does not speak — then espeak-ng (loaded on first need) in that
 * language, with the OpenAI voice mapped through espeak-ng's variant map. Reports what it used.
 */
import type { PcmAudio } from '../../audio/types.js';
import { ApiError } from '../../errors.js';
import { detectLanguage } from './language.js';
import type { TtsEngine, TtsEngineOptions, VoiceRendering } from './types.js';

/** Options of {@link TtsRouter}. */
export interface TtsRouterOptions {
  /** The configured engine. The router owns it from now on (`dispose` ends it). */
  main: TtsEngine;
  /** OpenAI name → rendering on the main engine (default: its `defaultVoiceMap()`); validate it first. */
  voiceMap?: Readonly<Record<string, VoiceRendering>>;
  /** Loads the engine for other languages (default: espeak-ng created with `engineOptions`). */
  fallback?: () => Promise<TtsEngine>;
  /** OpenAI name → rendering on the fallback (default: its `defaultVoiceMap()`). */
  fallbackVoiceMap?: Readonly<Record<string, VoiceRendering>>;
  /** Options for the default fallback engine (required unless `fallback` is given or never needed). */
  engineOptions?: TtsEngineOptions;
  /** Fewest letters of Latin-script text before language detection is trusted (default 30). */
  minDetectLetters?: number;
}

/** What to plan for. */
export interface TtsRouteRequest {
  /** The text to speak. */
  text: string;
  /** An OpenAI voice name (or any name of the voice map), or a voice id of the main engine. */
  voice: string;
  /** The text's language (BCP-47) when the caller knows it; null = the voice's own (no detection); absent = detected. */
  language?: string | null;
}

/** A request to speak. */
export interface TtsSpeakRequest extends TtsRouteRequest {
  /** OpenAI's `speed`, 0.25–4. */
  speed: number;
  /** OpenAI's `instructions`, passed to the engine. */
  instructions?: string;
  /** Cancels the synthesis. */
  signal?: AbortSignal;
  /** Preferred output rate (engines in worker threads resample there). */
  outputRate?: number;
}

/** The engine and voice chosen for a request. */
export interface TtsPlan {
  /** The engine to use. */
  engine: TtsEngine;
  /** The rendering on that engine. */
  rendering: VoiceRendering;
  /** The concrete voice id used (e.g. `de+f5` on espeak-ng). */
  voiceId: string;
  /** The language passed to the engine: the caller's, or the detected one; undefined = the voice's own. */
  language?: string;
  /** Why this engine: the main one, or the fallback because of the language. */
  reason: 'main' | 'language';
  /** Whether `language` came from detection rather than from the caller. */
  detected: boolean;
}

/** Speech and what produced it. */
export interface RoutedSpeech {
  /** The audio, at the engine's native rate. */
  audio: PcmAudio;
  /** Id of the engine used. */
  engine: string;
  /** The concrete voice id used. */
  voice: string;
  /** The language the engine was asked for, if any. */
  language?: string;
  /** Whether the language was detected (not given). */
  detected: boolean;
}

export class TtsRouter {
  private readonly mainEngine: TtsEngine;
  private readonly voiceMap: Readonly<Record<string, VoiceRendering>>;
  private readonly opts: TtsRouterOptions;
  private readonly mainLanguages: ReadonlySet<string>;
  private readonly voiceLanguages: readonly string[];
  private fallbackPromise: Promise<TtsEngine> | null = null;

  constructor(options: TtsRouterOptions) {
    this.opts = options;
    this.mainEngine = options.main;
    this.voiceMap = options.voiceMap ?? options.main.defaultVoiceMap();
    this.mainLanguages = new Set(options.main.languages().map(primary));
    this.voiceLanguages = languagesOfMap(options.main, this.voiceMap);
  }

  /** The main engine. */
  get main(): TtsEngine {
    return this.mainEngine;
  }

  /** The names the voice map offers (the 13 OpenAI names, plus any extra). */
  voiceNames(): string[] {
    return Object.keys(this.voiceMap);
  }

  /** Chooses engine, rendering and language for a request; loads the fallback engine if needed. */
  async plan(request: TtsRouteRequest): Promise<TtsPlan> {
    const rendering = this.renderingOnMain(request.voice);
    let language = request.language ?? undefined;
    let detected = false;
    if (request.language === undefined) {
      const d = await detectLanguage(request.text, { expected: this.voiceLanguages, minLetters: this.opts.minDetectLetters });
      if (d) {
        language = d.language;
        detected = true;
      }
    }
    const onMain = (): TtsPlan => ({
      engine: this.mainEngine,
      rendering,
      voiceId: this.mainEngine.voiceIdFor?.(rendering.voice, language) ?? rendering.voice,
      ...(language ? { language } : {}),
      reason: 'main',
      detected,
    });
    if (!language || this.mainLanguages.has(primary(language))) return onMain();
    const fallback = await this.fallback();
    if (!fallback.languages().map(primary).includes(primary(language))) return onMain();
    const map = this.opts.fallbackVoiceMap ?? fallback.defaultVoiceMap();
    const fr = map[request.voice] ?? map.alloy ?? Object.values(map)[0];
    if (!fr) throw ApiError.internal(new Error(`the voice map of ${fallback.id} is empty`));
    return {
      engine: fallback,
      rendering: fr,
      voiceId: fallback.voiceIdFor?.(fr.voice, language) ?? fr.voice,
      language,
      reason: 'language',
      detected,
    };
  }

  /** Speaks `request.text` with the planned engine. */
  async synthesize(request: TtsSpeakRequest): Promise<RoutedSpeech> {
    const plan = await this.plan(request);
    const audio = await plan.engine.synthesize({
      text: request.text,
      rendering: plan.rendering,
      speed: request.speed,
      ...(plan.language ? { language: plan.language } : {}),
      ...(request.instructions ? { instructions: request.instructions } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.outputRate ? { outputRate: request.outputRate } : {}),
    });
    return { audio, engine: plan.engine.id, voice: plan.voiceId, ...(plan.language ? { language: plan.language } : {}), detected: plan.detected };
  }

  /** Ends the main engine and the fallback, if it was loaded (each once, even when they are one). */
  async dispose(): Promise<void> {
    const fallback = this.fallbackPromise;
    this.fallbackPromise = null;
    const other = await fallback?.catch(() => undefined);
    await Promise.all([this.mainEngine.dispose(), other && other !== this.mainEngine ? other.dispose() : undefined]);
  }

  private renderingOnMain(voice: string): VoiceRendering {
    const mapped = this.voiceMap[voice];
    if (mapped) return mapped;
    const e = this.mainEngine;
    if (e.hasVoice ? e.hasVoice(voice) : e.voices().some((v) => v.id === voice)) return { voice };
    throw ApiError.invalidValue('voice', voice, this.voiceNames());
  }

  /** The fallback engine, loaded once; a failed load is retried on the next request. */
  private fallback(): Promise<TtsEngine> {
    if (this.mainEngine.id === 'espeak-ng') return Promise.resolve(this.mainEngine);
    if (!this.fallbackPromise) {
      const load = this.opts.fallback ?? (() => this.defaultFallback());
      this.fallbackPromise = load();
      this.fallbackPromise.catch(() => {
        this.fallbackPromise = null;
      });
    }
    return this.fallbackPromise;
  }

  private async defaultFallback(): Promise<TtsEngine> {
    const options = this.opts.engineOptions;
    if (!options) throw ApiError.engineUnavailable('No engine for other languages: the TTS router was created without engine options.');
    const { descriptor } = await import('./espeak-ng/index.js');
    return descriptor.create(options);
  }
}

function primary(tag: string): string {
  return tag.toLowerCase().split(/[-_]/)[0]!;
}

/** The languages the voices of `map` speak on `engine` (`en` when it cannot tell). */
function languagesOfMap(engine: TtsEngine, map: Readonly<Record<string, VoiceRendering>>): string[] {
  const byId = new Map(engine.voices().map((v) => [v.id, v.language]));
  const out = new Set<string>();
  for (const r of Object.values(map)) {
    const lang = byId.get(r.voice) ?? byId.get(r.voice.split('+')[0]!);
    if (lang) out.add(primary(lang));
  }
  return out.size > 0 ? [...out] : ['en'];
}
