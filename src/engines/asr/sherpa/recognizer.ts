/**
 * One recogniser engine for every sherpa-onnx offline model (SenseVoice, Parakeet, Moonshine):
 * the audio goes to 16 kHz, is cut into windows of at most 30 s (at the quietest moment of each
 * window's last 3 s), and each window is recognised in the engine's speech host; the pieces come
 * back as one transcript with timed words, the language, the emotion and the events heard.
 *
 * Calls are queued and run one at a time (one model, bounded memory). `timeoutMs` covers the
 * whole call from when it starts running; an abort or a timeout kills the host (the next call
 * starts a fresh one).
 */
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import { SerialQueue } from '../../../lib/limiter.js';
import { MAX_RECOGNITION_SECONDS, SpeechHost, type SpeechModel } from '../../speech-host/client.js';
import type { SherpaRecognitionResult } from '../../speech-host/protocol.js';
import { ASR_SAMPLE_RATE, clampTime, engineDisposed, engineTimeout, queuedRecognition, type RecognizerState, to16k, wordsToSegments } from '../common.js';
import { normaliseLanguage } from '../languages.js';
import type { AsrCapabilities, AsrEngine, AsrTranscribeOptions, HeardEvent, Transcript, TranscriptSegment, TranscriptWord } from '../types.js';
import { cleanText, emotionOf, eventOf, languageOf, mergeEvents, overallEmotion, type WeightedEmotion, wordsOf } from './results.js';

/** Longest a model load may take when the engine is created. */
const LOAD_TIMEOUT_MS = 120_000;
/** Where a long input may be cut: the quietest point in the last this-many seconds of a window. */
const CUT_SEARCH_SECONDS = 3;

export interface SherpaAsrSettings {
  /** Engine id (`sensevoice`). */
  id: string;
  /** The recogniser to use when no language is requested (or always, for single-language models). */
  model: SpeechModel;
  /** The recogniser for a requested language (SenseVoice takes the language as a load-time hint); default: `model`. */
  modelFor?: (language: string) => SpeechModel;
  capabilities: AsrCapabilities;
  /** ISO-639-1 codes the model recognises; the first is reported when it names none. */
  languages: readonly string[];
  /** A token's duration when the model reports none (its output frame: SenseVoice 60 ms, NeMo 80 ms). */
  tokenSeconds: number;
  /** Default per-call timeout; default: `defaultTimeoutMs(duration)`. */
  timeoutMs?: number;
  /** The host's RSS ceiling (default: the speech host's). */
  maxRssBytes?: number;
}

/** One ≤ 30-s window of the input. */
interface Window {
  start: number;
  samples: Float32Array;
}

export class SherpaAsrEngine implements AsrEngine {
  readonly id: string;
  readonly capabilities: AsrCapabilities;
  /** The speech host (diagnostics, benchmarks). */
  readonly host: SpeechHost;
  private readonly queue = new SerialQueue();
  private disposed = false;

  private constructor(private readonly settings: SherpaAsrSettings) {
    this.id = settings.id;
    this.capabilities = settings.capabilities;
    this.host = new SpeechHost({ name: settings.id, ...(settings.maxRssBytes !== undefined ? { maxRssBytes: settings.maxRssBytes } : {}) });
  }

  /** Starts the host and loads the model; rejects with `engine_unavailable` when it cannot. */
  static async create(settings: SherpaAsrSettings): Promise<SherpaAsrEngine> {
    const engine = new SherpaAsrEngine(settings);
    try {
      await engine.host.load(settings.model, { timeoutMs: LOAD_TIMEOUT_MS });
    } catch (e) {
      await engine.dispose();
      throw e;
    }
    return engine;
  }

  languages(): readonly string[] {
    return this.settings.languages;
  }

  /** Process id of the current speech host (tests, diagnostics). */
  get hostPid(): number | undefined {
    return this.host.pid;
  }

  /** What `queuedRecognition` checks. */
  private get state(): RecognizerState {
    return { id: this.id, disposed: () => this.disposed, timeoutMs: this.settings.timeoutMs };
  }

  async transcribe(pcm: PcmAudio, options: AsrTranscribeOptions = {}): Promise<Transcript> {
    if (this.disposed) throw engineDisposed(this.id);
    const language = this.requestedLanguage(options.language);
    return queuedRecognition(this.queue, this.state, pcm, options, async ({ durationSec, timeoutMs }) => {
      const deadline = Date.now() + timeoutMs;
      const model = language && this.settings.modelFor ? this.settings.modelFor(language) : this.settings.model;
      const pieces: Array<{ window: Window; result: SherpaRecognitionResult }> = [];
      for (const window of splitWindows(to16k(pcm), ASR_SAMPLE_RATE, MAX_RECOGNITION_SECONDS)) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw engineTimeout(this.id, timeoutMs);
        const result = await this.host
          .recognize(model, window.samples, ASR_SAMPLE_RATE, { timeoutMs: remaining, ...(options.signal ? { signal: options.signal } : {}) })
          .catch((e: unknown) => {
            // The host's timeout covers one window; the caller asked for the whole call.
            throw e instanceof ApiError && e.code === 'engine_timeout' ? engineTimeout(this.id, timeoutMs) : e;
          });
        pieces.push({ window, result });
      }
      return this.toTranscript(pieces, durationSec, language, options.wordTimestamps === true);
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.host.dispose();
  }

  /** `auto`/absent → undefined; a supported code → the code; anything else → 400 on `language`. */
  private requestedLanguage(requested: string | undefined): string | undefined {
    const given = requested?.trim();
    if (!given || given.toLowerCase() === 'auto') return undefined;
    const code = normaliseLanguage(given) ?? given.toLowerCase();
    if (!this.settings.languages.includes(code)) throw ApiError.invalidValue('language', given, this.settings.languages);
    return code;
  }

  private toTranscript(
    pieces: ReadonlyArray<{ window: Window; result: SherpaRecognitionResult }>,
    durationSec: number,
    requested: string | undefined,
    wantWords: boolean,
  ): Transcript {
    const texts: string[] = [];
    const words: TranscriptWord[] = [];
    const segments: TranscriptSegment[] = [];
    const emotions: WeightedEmotion[] = [];
    const events: HeardEvent[] = [];
    let detected: string | undefined;
    for (const { window, result } of pieces) {
      const text = cleanText(result.text);
      const start = window.start;
      const end = clampTime(start + window.samples.length / ASR_SAMPLE_RATE, durationSec);
      const emotion = this.capabilities.emotion ? emotionOf(result) : undefined;
      const event = this.capabilities.emotion ? eventOf(result) : undefined;
      if (emotion && text !== '') emotions.push({ label: emotion, seconds: end - start });
      if (event) events.push({ label: event, start: clampTime(start, durationSec), end });
      detected ??= text !== '' ? languageOf(result) : undefined;
      if (text === '') continue;
      texts.push(text);
      const extra: Partial<TranscriptSegment> = {
        ...(emotion ? { emotion: { label: emotion, confidence: 1 } } : {}),
        ...(event ? { events: [{ label: event, start: clampTime(start, durationSec), end }] } : {}),
      };
      const windowWords = wordsOf(result, { offset: start, limit: durationSec, tokenSeconds: this.settings.tokenSeconds });
      if (windowWords.length > 0) {
        words.push(...windowWords);
        segments.push(...wordsToSegments(windowWords, { firstId: segments.length, describe: () => extra }));
      } else {
        // No token times (Moonshine): the window is the segment.
        segments.push({ id: segments.length, start: clampTime(start, durationSec), end, text: ` ${text}`, ...extra });
      }
    }
    const languages = this.settings.languages;
    const language = requested ?? (detected && languages.includes(detected) ? detected : languages[0]!);
    const transcript: Transcript = { text: texts.join(' '), language, durationSec, segments };
    if (wantWords && this.capabilities.wordTimestamps) transcript.words = words;
    const emotion = overallEmotion(emotions);
    if (emotion) transcript.emotion = emotion;
    if (this.capabilities.emotion) transcript.events = mergeEvents(events);
    return transcript;
  }
}

/**
 * Cuts `samples` into windows of at most `maxSeconds`. A cut goes at the quietest 20-ms frame in
 * the last 3 s before the limit, so words are rarely split.
 */
export function splitWindows(samples: Float32Array, sampleRate: number, maxSeconds: number): Window[] {
  const max = Math.floor(maxSeconds * sampleRate);
  const windows: Window[] = [];
  let at = 0;
  while (at < samples.length || windows.length === 0) {
    let end = Math.min(samples.length, at + max);
    if (end < samples.length) end = quietestCut(samples, Math.max(at + 1, end - CUT_SEARCH_SECONDS * sampleRate), end, sampleRate);
    windows.push({ start: at / sampleRate, samples: samples.subarray(at, end) });
    at = end;
  }
  return windows;
}

/** The end of the 20-ms frame with the least energy in [from, to); the latest of equals, so steady sound is cut at the limit. */
function quietestCut(samples: Float32Array, from: number, to: number, sampleRate: number): number {
  const frame = Math.max(1, Math.round(0.02 * sampleRate));
  let best = to;
  let bestEnergy = Number.POSITIVE_INFINITY;
  for (let s = from; s + frame <= to; s += frame) {
    let e = 0;
    for (let i = s; i < s + frame; i++) e += samples[i]! * samples[i]!;
    if (e <= bestEnergy) {
      bestEnergy = e;
      best = s + frame;
    }
  }
  return best;
}
