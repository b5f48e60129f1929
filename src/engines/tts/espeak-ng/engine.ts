/**
 * The espeak-ng engine: the npm `espeak-ng` Emscripten build (CLI `main` with its data embedded),
 * one fresh instance per synthesis in pool workers — a trap or a hang fails one request, and a
 * synthesis never blocks the event loop (~80 ms of each call is instantiating the module).
 *
 * Voices are `<language>[+<variant>]` (see ./voices.ts), listed from the build's own data at start.
 * When a request carries a language, the language part follows it and the variant stays, so
 * one OpenAI voice map serves every language.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import type { SynthesisRequest, TtsEngine, TtsEngineOptions, TtsVoice, VoiceRendering } from '../types.js';
import { wasm } from '../wasm.js';
import { abortError, WorkerPool, workerModuleUrl } from '../worker-pool/pool.js';
import type { EspeakInventory, EspeakJob, EspeakWorkerData } from './job.js';
import {
  ESPEAK_SAMPLE_RATE,
  ESPEAK_VOICE_MAP,
  type EspeakLanguageVoice,
  type EspeakVariant,
  parseVariant,
  parseVoiceTable,
  pitchParameter,
  primaryTag,
  rateParameter,
  voiceForLanguage,
} from './voices.js';

/** Default time limit of one synthesis, ms. */
export const ESPEAK_TIMEOUT_MS = 60_000;

/** The concrete voice a request resolves to. */
export interface ResolvedEspeakVoice {
  /** Our id of the result, e.g. `de+f3`. */
  id: string;
  /** The language voice. */
  language: EspeakLanguageVoice;
  /** The variant, if any. */
  variant?: EspeakVariant;
}

export class EspeakEngine implements TtsEngine {
  readonly id = 'espeak-ng';
  private readonly pool: WorkerPool<EspeakJob, PcmAudio | EspeakInventory>;
  private readonly languageVoices: readonly EspeakLanguageVoice[];
  private readonly variantList: readonly EspeakVariant[];
  private readonly byId: ReadonlyMap<string, EspeakLanguageVoice>;
  private readonly variantsById: ReadonlyMap<string, EspeakVariant>;
  private readonly languageTags: readonly string[];

  private constructor(pool: WorkerPool<EspeakJob, PcmAudio | EspeakInventory>, inventory: EspeakInventory) {
    this.pool = pool;
    this.languageVoices = parseVoiceTable(inventory.voiceTable);
    this.variantList = Object.entries(inventory.variantFiles)
      .map(([id, text]) => parseVariant(id, text))
      .sort((a, b) => a.id.localeCompare(b.id));
    this.byId = new Map(this.languageVoices.map((v) => [v.id, v]));
    this.variantsById = new Map(this.variantList.map((v) => [v.id, v]));
    const tags = new Set<string>();
    for (const v of this.languageVoices) {
      tags.add(primaryTag(v.id));
      for (const a of v.aliases) tags.add(primaryTag(a.tag));
    }
    this.languageTags = [...tags].sort();
  }

  /** Compiles espeak-ng.wasm and lists the voices and variants the build ships. */
  static async create(options: TtsEngineOptions): Promise<EspeakEngine> {
    const require = createRequire(import.meta.url);
    let wasmPath: string;
    try {
      wasmPath = path.join(path.dirname(require.resolve('espeak-ng')), 'espeak-ng.wasm');
    } catch (e) {
      throw ApiError.engineUnavailable('The espeak-ng engine needs the npm package espeak-ng: run `npm install espeak-ng`.', e);
    }
    const module = await wasm.compile(await readFile(wasmPath));
    const workerData: EspeakWorkerData = { module };
    const pool = new WorkerPool<EspeakJob, PcmAudio | EspeakInventory>({
      name: 'espeak-ng',
      entry: workerModuleUrl('worker', import.meta.url),
      workerData,
      size: Math.max(1, options.concurrency),
      timeoutMs: options.timeoutMs ?? ESPEAK_TIMEOUT_MS,
    });
    try {
      const inventory = (await pool.run({ kind: 'inventory' })) as EspeakInventory;
      return new EspeakEngine(pool, inventory);
    } catch (e) {
      await pool.dispose();
      throw e;
    }
  }

  /** The language voices (without variants; any `<voice>+<variant>` combination is valid too). */
  voices(): readonly TtsVoice[] {
    return this.languageVoices.map((v) => ({ id: v.id, language: v.language }));
  }

  /** The variants that may follow `+` in a voice id. */
  variants(): readonly EspeakVariant[] {
    return this.variantList;
  }

  languages(): readonly string[] {
    return this.languageTags;
  }

  defaultVoiceMap(): Readonly<Record<string, VoiceRendering>> {
    return ESPEAK_VOICE_MAP;
  }

  hasVoice(id: string): boolean {
    return this.parse(id) !== null;
  }

  voiceIdFor(voice: string, language?: string): string {
    return this.resolveVoice(voice, language).id;
  }

  /** Whether espeak-ng has a voice for the language `tag` (BCP-47). */
  speaks(tag: string): boolean {
    return voiceForLanguage(this.languageVoices, tag) !== undefined;
  }

  /**
   * The voice used for `voice` speaking `language`: when the language's primary subtag differs
   * from the voice's, the language voice is swapped for the language's and the variant kept.
   * A language espeak-ng lacks keeps the given voice.
   */
  resolveVoice(voice: string, language?: string): ResolvedEspeakVoice {
    const parsed = this.parse(voice);
    if (!parsed) throw ApiError.invalidValue('voice', voice, this.examples());
    let lang = parsed.language;
    if (language && primaryTag(language) !== primaryTag(lang.id)) lang = voiceForLanguage(this.languageVoices, language) ?? lang;
    const id = parsed.variant ? `${lang.id}+${parsed.variant.id}` : lang.id;
    return parsed.variant ? { id, language: lang, variant: parsed.variant } : { id, language: lang };
  }

  /** espeak-ng's arguments for a request (before the output and input file options). */
  argsFor(request: Pick<SynthesisRequest, 'rendering' | 'speed' | 'language'>): string[] {
    const resolved = this.resolveVoice(request.rendering.voice, request.language);
    const v = resolved.variant ? `${resolved.language.file}+${resolved.variant.id}` : resolved.language.file;
    const args = ['-v', v, '-s', String(rateParameter((request.speed || 1) * (request.rendering.rate ?? 1)))];
    const pitch = request.rendering.pitch ?? 1;
    args.push('-p', String(pitchParameter(pitch)));
    return args;
  }

  async synthesize(request: SynthesisRequest): Promise<PcmAudio> {
    if (request.signal?.aborted) throw abortError(request.signal);
    const args = this.argsFor(request);
    const text = request.text.trim();
    if (text === '') return { samples: new Float32Array(0), sampleRate: ESPEAK_SAMPLE_RATE };
    return (await this.pool.run({ kind: 'speak', args, text }, { signal: request.signal })) as PcmAudio;
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }

  private parse(id: string): { language: EspeakLanguageVoice; variant?: EspeakVariant } | null {
    const plus = id.indexOf('+');
    const base = this.byId.get((plus < 0 ? id : id.slice(0, plus)).toLowerCase());
    if (!base) return null;
    if (plus < 0) return { language: base };
    const variant = this.variantsById.get(id.slice(plus + 1));
    return variant ? { language: base, variant } : null;
  }

  private examples(): string[] {
    return ['en-us', 'de', 'fr-fr', 'en-us+f3', 'de+m1'];
  }
}
