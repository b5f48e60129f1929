/**
 * whisper.cpp through @napi-rs/whisper (AVX2/FMA/F16C), run in a child process (./host.ts says why).
 *
 * One host process holds one context; calls are queued and run one at a time. A call that
 * times out or is aborted kills the host (whisper.cpp cannot be interrupted otherwise); the next
 * call starts a fresh one and reloads the model. A host that dies under a call (a native abort)
 * fails that call with 503 `engine_unavailable`; the next call starts a fresh host.
 */
import path from 'node:path';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import { SerialQueue } from '../../../lib/limiter.js';
import { ChildExitError, SupervisedChild, siblingEntry } from '../../supervised-child.js';
import { abortReason, clampTime, engineDisposed, engineTimeout, queuedRecognition, type RecognizerState, to16k, wordsToSegments } from '../common.js';
import { normaliseLanguage, WHISPER_LANGUAGES } from '../languages.js';
import type { AsrCapabilities, AsrEngine, AsrTranscribeOptions, Transcript, TranscriptSegment, TranscriptWord } from '../types.js';
import type { WhisperModelInfo } from './model-file.js';
import type { HostReply, HostRequest, HostSegment, HostTranscribeOptions } from './protocol.js';

export interface WhisperEngineSettings {
  /** Path of the ggml model file (already resolved and checked). */
  modelPath: string;
  /** Its header (multilingual or not). */
  info: WhisperModelInfo;
  /** CPU threads per transcription. */
  threads: number;
  /** Default per-call timeout; default: `defaultTimeoutMs(duration)`. */
  timeoutMs?: number;
}

/** Longest a model load may take before the host is considered stuck. */
const LOAD_TIMEOUT_MS = 120_000;

export class WhisperEngine implements AsrEngine {
  readonly id = 'whisper';
  readonly capabilities: AsrCapabilities;
  private readonly queue = new SerialQueue();
  private readonly codes: readonly string[];
  private host: WhisperHost | undefined;
  private disposed = false;

  private constructor(private readonly settings: WhisperEngineSettings) {
    const multilingual = settings.info.multilingual;
    this.capabilities = { translate: multilingual, wordTimestamps: true, languageDetection: multilingual };
    this.codes = multilingual ? WHISPER_LANGUAGES.slice(0, settings.info.languageCount).map(([c]) => c) : ['en'];
  }

  /** Starts the host and loads the model; rejects with `engine_unavailable` if it cannot. */
  static async create(settings: WhisperEngineSettings): Promise<WhisperEngine> {
    const engine = new WhisperEngine(settings);
    engine.host = await WhisperHost.start(settings.modelPath);
    return engine;
  }

  languages(): readonly string[] {
    return this.codes;
  }

  /** Model file in use. */
  get modelPath(): string {
    return this.settings.modelPath;
  }

  /** Process id of the current host (diagnostics), undefined between a kill and the next call. */
  get hostPid(): number | undefined {
    return this.host?.alive ? this.host.pid : undefined;
  }

  /** What `queuedRecognition` checks. */
  private get state(): RecognizerState {
    return { id: this.id, disposed: () => this.disposed, timeoutMs: this.settings.timeoutMs };
  }

  async transcribe(pcm: PcmAudio, options: AsrTranscribeOptions = {}): Promise<Transcript> {
    if (this.disposed) throw engineDisposed(this.id);
    const request = this.hostOptions(options);
    return queuedRecognition(this.queue, this.state, pcm, options, async ({ durationSec, timeoutMs }) => {
      const reply = await this.runGuarded(to16k(pcm), request, timeoutMs, options.signal);
      return this.toTranscript(reply, request, durationSec);
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const host = this.host;
    this.host = undefined;
    host?.kill(engineDisposed(this.id));
  }

  /** Validates the request and turns it into the binding's options. */
  private hostOptions(options: AsrTranscribeOptions): HostTranscribeOptions {
    const multilingual = this.settings.info.multilingual;
    const requested = options.language?.trim();
    let language = multilingual ? 'auto' : 'en';
    if (requested && requested.toLowerCase() !== 'auto') {
      // An unknown code would crash whisper.cpp's binding; an English-only model would silently
      // ignore another language: refuse both here.
      const code = normaliseLanguage(requested);
      if (!code || !this.codes.includes(code)) throw ApiError.invalidValue('language', requested, this.codes);
      language = code;
    }
    return {
      language,
      translate: multilingual && options.task === 'translate',
      threads: Math.max(1, Math.floor(this.settings.threads)),
      ...(options.prompt ? { prompt: options.prompt } : {}),
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.wordTimestamps === true ? { words: true } : {}),
    };
  }

  /** Runs one request on the host under the timeout and the abort signal. */
  private async runGuarded(
    pcm: Float32Array,
    options: HostTranscribeOptions,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Extract<HostReply, { type: 'result' }>> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let host: WhisperHost | undefined = this.host?.alive ? this.host : undefined;
    let starting: Promise<WhisperHost> | undefined;
    const stop = (reason: unknown): void => {
      if (host) this.discardHost(host, reason);
      // A host still loading is killed as soon as it is there.
      starting?.then(
        (h) => h.kill(reason),
        () => {},
      );
    };
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = engineTimeout(this.id, timeoutMs);
        stop(error);
        reject(error);
      }, timeoutMs);
      if (signal) {
        onAbort = () => {
          const reason = abortReason(signal);
          stop(reason);
          reject(reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    const work = (async () => {
      if (!host) {
        starting = WhisperHost.start(this.settings.modelPath);
        const started = await Promise.race([starting, guard]);
        if (this.disposed) {
          started.kill(engineDisposed(this.id));
          throw engineDisposed(this.id);
        }
        host = this.host = started;
      }
      return host.transcribe(pcm, options);
    })();
    try {
      return await Promise.race([work, guard]);
    } finally {
      clearTimeout(timer);
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
      work.catch(() => {}); // settled by the guard: its own rejection is not news
    }
  }

  private discardHost(host: WhisperHost, reason: unknown): void {
    if (this.host === host) this.host = undefined;
    host.kill(reason);
  }

  private toTranscript(reply: Extract<HostReply, { type: 'result' }>, request: HostTranscribeOptions, durationSec: number): Transcript {
    const language = !this.settings.info.multilingual
      ? 'en'
      : request.language !== 'auto'
        ? request.language
        : reply.language && this.codes.includes(reply.language)
          ? reply.language
          : 'en';
    const text = reply.text.trim();
    const timed = timedTexts(reply.segments, durationSec);
    if (request.words) {
      const words: TranscriptWord[] = timed.map((t) => ({ word: t.text, start: t.start, end: t.end }));
      return { text, language, durationSec, segments: wordsToSegments(words), words };
    }
    // Segment texts keep whisper's leading space (the binding trims it).
    const segments: TranscriptSegment[] = timed.map((t, id) => ({ id, start: t.start, end: t.end, text: ` ${t.text}` }));
    return { text, language, durationSec, segments };
  }
}

/** Host segments (ms) → trimmed, non-empty texts with times in seconds inside the audio, in order. */
export function timedTexts(segments: readonly HostSegment[], durationSec: number): Array<{ text: string; start: number; end: number }> {
  const out: Array<{ text: string; start: number; end: number }> = [];
  for (const s of segments) {
    const text = s.text.trim();
    if (text === '') continue;
    const start = clampTime(s.t0 / 1000, durationSec);
    out.push({ text, start, end: Math.max(start, clampTime(s.t1 / 1000, durationSec)) });
  }
  return out;
}

/** The whisper host: a supervised child process holding one whisper.cpp context. */
class WhisperHost {
  private nextId = 1;

  private constructor(
    private readonly child: SupervisedChild<HostRequest, HostReply>,
    private readonly modelPath: string,
  ) {}

  get alive(): boolean {
    return this.child.alive;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Forks the host and loads the model. */
  static async start(modelPath: string): Promise<WhisperHost> {
    const host = new WhisperHost(
      SupervisedChild.fork<HostRequest, HostReply>({
        entry: siblingEntry(import.meta.url, 'host'),
        name: 'whisper host',
      }),
      modelPath,
    );
    let reply: HostReply;
    const timer = setTimeout(() => host.kill(new Error(`loading ${modelPath} took longer than ${LOAD_TIMEOUT_MS / 1000} s`)), LOAD_TIMEOUT_MS);
    try {
      reply = await host.call({ type: 'load', modelPath });
    } catch (e) {
      host.kill(e);
      throw ApiError.engineUnavailable(`Could not start whisper.cpp: ${describe(e)}. Is @napi-rs/whisper installed (npm ci)?`, e);
    } finally {
      clearTimeout(timer);
    }
    if (reply.type !== 'loaded') {
      const message = reply.type === 'load-failed' ? reply.message : `unexpected reply ${reply.type}`;
      const log = host.stderrTail();
      host.kill(new Error(message));
      throw ApiError.engineUnavailable(
        `whisper.cpp could not load ${path.basename(modelPath)} (${message}). The file may be damaged or not a whisper.cpp ggml model: ` +
          'download it again with `parley models pull whisper-base.en`.',
        new Error(`${message}\n${log}`),
      );
    }
    return host;
  }

  /** Transcribes on the host; rejects if the host dies or reports a failure. */
  async transcribe(pcm: Float32Array, options: HostTranscribeOptions): Promise<Extract<HostReply, { type: 'result' }>> {
    const id = this.nextId++;
    const reply = await this.call({ type: 'transcribe', id, pcm, options });
    if (reply.type === 'result' && reply.id === id) return reply;
    const message = reply.type === 'failed' ? reply.message : `unexpected reply ${reply.type}`;
    throw ApiError.internal(new Error(`whisper.cpp transcription failed: ${message}\n${this.stderrTail()}`));
  }

  /** Ends the process; a pending call rejects with `reason`. */
  kill(reason: unknown): void {
    this.child.kill(reason);
  }

  stderrTail(): string {
    return this.child.stderrTail();
  }

  /**
   * One request. The host dying under it (a native abort, the OOM killer) is a 503 naming the model
   * file, not its path: the engine failed, not the request, and the next call starts a fresh host.
   * The exit and whisper.cpp's last words go to the log as the cause.
   */
  private call(request: HostRequest): Promise<HostReply> {
    return this.child.request(request).catch((e: unknown) => {
      if (!(e instanceof ChildExitError)) throw e;
      throw ApiError.engineUnavailable(
        `whisper.cpp stopped while running ${path.basename(this.modelPath)}; it restarts with the next request. ` +
          'If this repeats, the model file may be damaged: download it again with `parley models pull`.',
        new Error(`whisper host exited (${e.signal ?? `code ${e.code}`})\n${e.stderr}`),
      );
    });
  }
}

function describe(e: unknown): string {
  if (e instanceof ApiError && e.cause instanceof Error) return e.cause.message.split('\n')[0] ?? e.message;
  return e instanceof Error ? e.message : String(e);
}
