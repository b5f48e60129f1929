import { ApiError } from '../errors.js';

/** What a served model does. */
export type Capability = 'speech' | 'transcription' | 'chat';

/** The pipeline of engines every built-in model name runs on. */
export const DEFAULT_PIPELINE = 'default';

/** A model id this server answers to. */
export interface ServedModel {
  id: string;
  capability: Capability;
  /** The pipeline of engines it runs on: `default`, or the config alias that defines one. */
  pipeline: string;
  /** Unix seconds, for the /v1/models listing. */
  created: number;
}

/** Built-in names (OpenAI's) per capability; operators add aliases in config (`models:`). */
export const BUILTIN_MODELS: Readonly<Record<Capability, readonly string[]>> = {
  speech: ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts', 'gpt-4o-mini-tts-2025-03-20'],
  transcription: ['whisper-1', 'gpt-4o-mini-transcribe', 'gpt-4o-transcribe'],
  chat: ['gpt-4o-mini-audio-preview', 'gpt-4o-mini-audio-preview-2024-12-17', 'gpt-4o-audio-preview', 'gpt-4o-audio-preview-2024-12-17'],
};

const CREATED = 1_734_393_600; // 2024-12-17, the seed model's date

/**
 * The models this server serves: the built-ins of every capability, config aliases (alias → a
 * served id) and config pipelines (alias → its own engines, serving one capability). Resolves a
 * requested name to its served model and the pipeline it runs on.
 */
export class ModelRegistry {
  private readonly models = new Map<string, ServedModel>();
  private readonly aliases = new Map<string, string>();

  constructor(capabilities: readonly Capability[], aliases: Readonly<Record<string, string>> = {}, pipelines: Readonly<Record<string, Capability>> = {}) {
    for (const capability of capabilities) {
      for (const id of BUILTIN_MODELS[capability]) this.models.set(id, { id, capability, pipeline: DEFAULT_PIPELINE, created: CREATED });
    }
    for (const [id, capability] of Object.entries(pipelines)) this.models.set(id, { id, capability, pipeline: id, created: CREATED });
    for (const [alias, target] of Object.entries(aliases)) this.aliases.set(alias, target);
  }

  /** Alias targets that name no served model (reported at start). */
  danglingAliases(): string[] {
    return [...this.aliases].filter(([, target]) => !this.models.has(target)).map(([alias, target]) => `${alias} → ${target}`);
  }

  /** Every served id and alias, for GET /v1/models. */
  list(): ServedModel[] {
    const out = [...this.models.values()];
    for (const [alias, target] of this.aliases) {
      const base = this.models.get(target);
      if (base && !this.models.has(alias)) out.push({ ...base, id: alias });
    }
    return out;
  }

  /** The served model behind `id` (an id or an alias), or undefined. */
  find(id: string): ServedModel | undefined {
    return this.models.get(id) ?? this.models.get(this.aliases.get(id) ?? '');
  }

  /** Resolves a requested model for one capability or throws OpenAI's 404 `model_not_found`. */
  resolve(id: string, capability: Capability, param = 'model'): ServedModel {
    const model = this.find(id);
    if (!model) throw modelNotFound(id, param);
    if (model.capability !== capability) {
      throw ApiError.invalidRequest(param, `The model '${id}' does not support this endpoint.`, 'model_not_supported');
    }
    return model;
  }
}

/** OpenAI's wording for an unknown model. */
export function modelNotFound(id: string, param: string | null = 'model'): ApiError {
  return ApiError.notFound(`The model '${id}' does not exist or you do not have access to it.`, 'model_not_found', param);
}
