import type { Config } from '../config/index.js';
import type { AsrEngine } from '../engines/asr/types.js';
import type { VadEngine } from '../engines/vad/types.js';
import type { VoiceAnalyzer } from '../engines/voice/types.js';
import type { ModelRegistry } from '../pipeline/models.js';
import type { Speaker } from '../pipeline/speak.js';
import type { Limiter } from '../runtime/limiter.js';

/** What the HTTP layer is handed: the pipeline's services, built once at start. */
export interface Services {
  config: Config;
  models: ModelRegistry;
  /** Speech synthesis with OpenAI voice names (bounded by `limiter` inside). */
  speaker: Speaker;
  /** Bounds engine work to the cores; live requests use priority 0. */
  limiter: Limiter;
  /** The speech recogniser, loaded on first use (rejects with `engine_unavailable`). */
  asr(): Promise<AsrEngine>;
  /** The voice activity detector, loaded on first use. */
  vad(): Promise<VadEngine>;
  /** The voice analyzer (tone, sentiment), loaded on first use. */
  analyzer(): Promise<VoiceAnalyzer>;
  /** `starting` until engines are checked, `ready`, then `draining` on shutdown. */
  state(): 'starting' | 'ready' | 'draining';
  /** Aborted when the server gives up on in-flight work at shutdown. */
  shutdownSignal: AbortSignal;
}
