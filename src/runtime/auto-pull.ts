/**
 * First-run downloads, as speaches does them: a server allowed to download (`PARLEY_OFFLINE`
 * unset) that needs a missing model of its default set fetches it in the background on first
 * need. Until it is ready every request that needs it gets 503 `model_downloading` with
 * `retry-after` and the progress in its message; the download runs once (the shared
 * {@link ModelPulls}), and the log shows its progress every 10 %.
 */
import { ApiError } from '../errors.js';
import type { ModelCache } from '../store/model-cache/cache.js';
import type { ModelPulls, PullProgress } from './model-pulls.js';

/** Where the runtime writes what it does (the server's logger once the app is built). */
export interface RuntimeLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Seconds a client is told to wait before asking again. */
const RETRY_AFTER_SEC = 5;
/** A failed download is not retried for this long: requests get the failure instead. */
const FAILURE_HOLD_MS = 60_000;

function percent(p: PullProgress): string {
  const mb = (b: number) => `${Math.round(b / 1024 ** 2)} MiB`;
  return p.bytesTotal ? `${Math.floor((p.bytesDone / p.bytesTotal) * 100)}% of ${mb(p.bytesTotal)}` : `${mb(p.bytesDone)} so far`;
}

/** The 503 a request gets while its model downloads. */
export function modelDownloading(model: string, capability: string, progress: PullProgress | undefined): ApiError {
  return new ApiError({
    status: 503,
    type: 'server_error',
    code: 'model_downloading',
    message:
      `The ${capability} model '${model}' is downloading (${progress ? percent(progress) : 'starting'}); this server fetches it once, on first need. ` +
      `Retry in ${RETRY_AFTER_SEC} s, or set PARLEY_OFFLINE=1 to refuse downloads.`,
    headers: { 'retry-after': String(RETRY_AFTER_SEC), 'retry-after-ms': String(RETRY_AFTER_SEC * 1000) },
  });
}

/** Starts (once) and reports the downloads of missing default models. */
export class AutoPull {
  private readonly progress = new Map<string, PullProgress>();
  private readonly failed = new Map<string, { at: number; error: unknown }>();

  constructor(
    private readonly cache: ModelCache,
    private readonly pulls: ModelPulls,
    private readonly offline: boolean,
    private readonly log: () => RuntimeLog,
  ) {}

  /**
   * Runs `create`; when it fails with `engine_unavailable` and `model` (a catalogue model the
   * engine would then find) is not installed, starts its download and rejects with
   * `model_downloading` instead. Offline, or for a model the catalogue lacks, the original error
   * stands.
   */
  async create<T>(capability: string, model: string | undefined, create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (error) {
      if (model === undefined || this.offline || !(error instanceof ApiError) || error.code !== 'engine_unavailable') throw error;
      if (!this.cache.entries().some((e) => e.name === model)) throw error;
      if (this.progress.has(model)) throw modelDownloading(model, capability, this.progress.get(model));
      if ((await this.cache.status(model)).installed) throw error; // installed, yet unusable: the engine's own error says why
      const failure = this.failed.get(model);
      if (failure && Date.now() - failure.at < FAILURE_HOLD_MS) {
        const why = failure.error instanceof Error ? failure.error.message : String(failure.error);
        throw ApiError.engineUnavailable(`Downloading the ${capability} model '${model}' failed: ${why} Run \`parley models pull ${model}\` to see it happen.`);
      }
      this.start(capability, model);
      throw modelDownloading(model, capability, this.progress.get(model));
    }
  }

  /** The downloads this process started that are still running. */
  running(): PullProgress[] {
    return [...this.progress.values()];
  }

  private start(capability: string, model: string): void {
    let logged = -1;
    this.progress.set(model, { model, bytesDone: 0, bytesTotal: null, file: '' });
    this.log().info(`${capability}: the model '${model}' is missing; downloading it now (PARLEY_OFFLINE=1 would refuse)`);
    const stop = this.pulls.follow(model, (event) => {
      if (event.type === 'progress') {
        this.progress.set(model, event.progress);
        const step = event.progress.bytesTotal ? Math.floor((event.progress.bytesDone / event.progress.bytesTotal) * 10) : -1;
        if (step > logged) {
          logged = step;
          this.log().info(`downloading ${model}: ${percent(event.progress)}`);
        }
        return;
      }
      this.progress.delete(model);
      queueMicrotask(() => stop());
      if (event.type === 'done') {
        this.failed.delete(model);
        this.log().info(`${model} is ready: ${capability} will use it from the next request`);
      } else {
        this.failed.set(model, { at: Date.now(), error: event.error });
        this.log().warn(`downloading ${model} failed: ${event.error instanceof Error ? event.error.message : String(event.error)}`);
      }
    });
  }
}
