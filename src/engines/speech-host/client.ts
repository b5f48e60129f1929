/**
 * The speech host, parent side: a supervised child process (./host.ts) running sherpa-onnx, with
 * a queue in front of it. Engines (SenseVoice, Parakeet, Moonshine, Kokoro, Piper) each own one.
 *
 * - One request at a time; waiting requests leave the queue when their signal aborts.
 * - Abort or timeout of the running request rejects at once and kills the child (sherpa-onnx
 *   cannot be interrupted); the next request starts a fresh one and reloads its model.
 * - The child dying (sherpa's `exit(-1)` on bad metadata, an abort in native code) rejects that
 *   request with 503 `engine_unavailable` naming the model; the next request starts a fresh child.
 *   The parent is never affected.
 * - Memory: onnxruntime's arena grows to the largest input it has seen and keeps it. After each
 *   request the child reports its RSS; above `maxRssBytes` it is recycled (ended once idle, the
 *   next request starts a fresh one).
 * - `dispose()` ends the child; queued and later requests reject.
 */
import { ApiError } from '../../errors.js';
import { SerialQueue } from '../../lib/limiter.js';
import { ChildExitError, SupervisedChild, siblingEntry } from '../supervised-child.js';
import type { HostModel, HostModelInfo, HostReply, HostRequest, SherpaRecognitionResult } from './protocol.js';

/**
 * Default RSS ceiling of a speech host. SenseVoice-small int8 resident after a 30-s window is
 * ~0.5–0.7 GB and Parakeet-TDT-0.6b int8 ~1.4 GB (published figures; see README), so 1.5 GiB
 * leaves headroom for one model and its arena and recycles a host that has grown beyond.
 */
export const DEFAULT_MAX_RSS_BYTES = 1.5 * 1024 ** 3;
/** Longest recognition input, seconds: onnxruntime's arena grows to the longest input (a 31-s chunk ≈ 3 GB). */
export const MAX_RECOGNITION_SECONDS = 30;

/** A model as the engines describe it. */
export interface SpeechModel extends HostModel {
  /** Name in messages (the folder or catalogue name). */
  name: string;
  /** What to run when it is broken, e.g. "Run `parley models pull sensevoice-small`." */
  fix: string;
}

export interface SpeechHostOptions {
  /** Engine id, for messages (`sensevoice`). */
  name: string;
  /** Recycle the child when its RSS exceeds this after a request (default 1.5 GiB). */
  maxRssBytes?: number;
  /** Environment of the child (default: the parent's). */
  env?: NodeJS.ProcessEnv;
}

/** Per-request options. */
export interface SpeechRequestOptions {
  signal?: AbortSignal;
  /** Longest the request may run (queue time excluded); then 504 `engine_timeout` and the child is killed. */
  timeoutMs: number;
}

type Child = SupervisedChild<HostRequest, HostReply>;

export class SpeechHost {
  private readonly queue = new SerialQueue();
  private child: Child | undefined;
  private disposed = false;
  private started = 0;
  private rss = 0;
  private work = 0;

  constructor(private readonly options: SpeechHostOptions) {}

  /** Process id of the current child (undefined between a kill and the next request). */
  get pid(): number | undefined {
    return this.child?.alive ? this.child.pid : undefined;
  }

  /** Children started so far (the first one included). */
  get starts(): number {
    return this.started;
  }

  /** RSS the child reported after its last request, bytes. */
  get lastRssBytes(): number {
    return this.rss;
  }

  /** Milliseconds the child spent on its last request (sherpa's own time, without IPC and queueing). */
  get lastWorkMs(): number {
    return this.work;
  }

  /** The RSS ceiling in force. */
  get maxRssBytes(): number {
    return this.options.maxRssBytes ?? DEFAULT_MAX_RSS_BYTES;
  }

  /** Loads `model` (if not loaded yet) and returns what it reports. */
  async load(model: SpeechModel, options: SpeechRequestOptions): Promise<HostModelInfo> {
    const reply = await this.run(model, { type: 'load', model: hostModel(model) }, 'loading', options);
    if (reply.type !== 'loaded') throw unexpected(reply);
    return reply.info;
  }

  /** Recognises ≤ 30 s of 16-kHz mono audio (longer input is a programming error: callers window it). */
  async recognize(model: SpeechModel, samples: Float32Array, sampleRate: number, options: SpeechRequestOptions): Promise<SherpaRecognitionResult> {
    if (samples.length > MAX_RECOGNITION_SECONDS * sampleRate + 1) {
      throw ApiError.internal(new Error(`speech host: ${samples.length / sampleRate} s given, the limit is ${MAX_RECOGNITION_SECONDS} s per call`));
    }
    const reply = await this.run(model, { type: 'recognize', model: hostModel(model), samples, sampleRate }, 'recognising speech', options);
    if (reply.type !== 'recognized') throw unexpected(reply);
    return reply.result;
  }

  /** Synthesises one passage. */
  async synthesize(
    model: SpeechModel,
    request: { text: string; sid: number; speed: number; lang?: string },
    options: SpeechRequestOptions,
  ): Promise<{ samples: Float32Array; sampleRate: number }> {
    const reply = await this.run(model, { type: 'synthesize', model: hostModel(model), ...request }, 'speaking', options);
    if (reply.type !== 'synthesized') throw unexpected(reply);
    return { samples: reply.samples, sampleRate: reply.sampleRate };
  }

  /** Ends the child; queued and later requests reject. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const child = this.child;
    this.child = undefined;
    if (child) {
      child.kill(disposedError(this.options.name));
      await child.whenExited();
    }
  }

  private run(model: SpeechModel, request: HostRequest, doing: string, options: SpeechRequestOptions): Promise<HostReply> {
    if (this.disposed) return Promise.reject(disposedError(this.options.name));
    options.signal?.throwIfAborted();
    return this.queue.run(
      async () => {
        if (this.disposed) throw disposedError(this.options.name);
        options.signal?.throwIfAborted();
        const child = this.liveChild();
        const reply = await this.guarded(child, request, options).catch((e: unknown) => {
          if (this.child === child) this.child = undefined;
          if (e instanceof ChildExitError) throw crashError(model, doing, e);
          throw e;
        });
        this.rss = reply.rssBytes;
        this.work = reply.workMs;
        if (reply.rssBytes > this.maxRssBytes && this.child === child) {
          // Idle now: end it; the next request starts a fresh one with an empty arena.
          this.child = undefined;
          child.kill(new Error('recycled'));
        }
        if (reply.type === 'failed') throw failedError(model, doing, reply.message);
        return reply;
      },
      { signal: options.signal },
    );
  }

  private liveChild(): Child {
    if (!this.child?.alive) {
      this.child = SupervisedChild.fork<HostRequest, HostReply>({
        entry: siblingEntry(import.meta.url, 'host'),
        name: `speech host (${this.options.name})`,
        // Not OMP_WAIT_POLICY=passive (it helped the old OpenMP whisper.cpp): measured here, it made sherpa's own work
        // in the child 2.7× slower (6.2 vs 2.3 ms for a tiny Kokoro sentence).
        env: this.options.env ?? process.env,
      });
      this.started++;
    }
    return this.child;
  }

  /** The request on `child` under the timeout and the signal; either kills the child. */
  private async guarded(child: Child, request: HostRequest, options: SpeechRequestOptions): Promise<HostReply> {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => child.kill(abortReason(options.signal!));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      timer = setTimeout(() => child.kill(engineTimeout(this.options.name, options.timeoutMs)), options.timeoutMs);
      return await child.request(request);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}

function hostModel(model: SpeechModel): HostModel {
  return { kind: model.kind, key: model.key, config: model.config };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** 504 `engine_timeout`. */
export function engineTimeout(engine: string, timeoutMs: number): ApiError {
  const took = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 100) / 10} s` : `${timeoutMs} ms`;
  return new ApiError({
    status: 504,
    type: 'server_error',
    code: 'engine_timeout',
    message: `The ${engine} engine did not finish within ${took} and was stopped. Try shorter input or a smaller model.`,
  });
}

function crashError(model: SpeechModel, doing: string, e: ChildExitError): ApiError {
  return ApiError.engineUnavailable(
    `The speech engine stopped (${e.how}) while ${doing} (model '${model.name}'); ` +
      `the model may be damaged or not in the layout sherpa-onnx expects. ${model.fix} The engine restarts for the next request.`,
    e,
  );
}

function failedError(model: SpeechModel, doing: string, message: string): ApiError {
  if (doing === 'loading') {
    return ApiError.engineUnavailable(`The model '${model.name}' could not be loaded. ${model.fix}`, new Error(message));
  }
  return ApiError.internal(new Error(`speech host (${model.name}) failed while ${doing}: ${message}`));
}

function unexpected(reply: HostReply): ApiError {
  return ApiError.internal(new Error(`speech host: unexpected reply ${reply.type}`));
}

function disposedError(engine: string): ApiError {
  return ApiError.internal(new Error(`${engine} engine has been disposed`));
}
