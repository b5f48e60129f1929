import { createEncoder } from '../audio/encode/index.js';
import { resample } from '../audio/resample.js';
import { type AudioEncoder, OUTPUT_SAMPLE_RATE, type OutputFormat, type PcmAudio } from '../audio/types.js';
import { currentMeter, withMeter } from '../lib/limiter.js';
import { type LinkedSignal, linkSignals } from '../lib/signals.js';
import { nextPassage, passageLimit, SentenceStream } from './sentence-stream.js';

/** Turns one passage into audio with an OpenAI voice name (implemented over the TTS engines). */
export interface Speaker {
  /** The OpenAI voice names this speaker accepts. */
  voiceNames(): readonly string[];
  /**
   * Synthesises one passage; bounded by the process's limiter. `language` null = the voice's own
   * language (no detection); a tag = speak in that language (the engine may switch voice).
   */
  synthesize(request: { text: string; voice: string; speed: number; instructions?: string; language: string | null; signal?: AbortSignal }): Promise<PcmAudio>;
  /** The language of a text (BCP-47), when it can be told with confidence; undefined otherwise. */
  detectLanguage?(text: string): Promise<string | undefined>;
}

/** Options of one {@link SpeechStream}. */
export interface SpeechOptions {
  /** OpenAI voice name. */
  voice: string;
  /** OpenAI's `speed`, 0.25–4 (1 = the voice's own). */
  speed: number;
  /** OpenAI's `instructions`, passed to the engine. */
  instructions?: string;
  /** The output encoding. */
  format: OutputFormat;
  /**
   * The bytes go to a listener as they are made: the first piece of the text is cut short for a fast
   * start, and WAV uses the 0xFFFFFFFF size convention. Without it, output is whole at the end.
   */
  streaming: boolean;
  /** The language of the text when the caller knows it; otherwise detected once per text. */
  language?: string;
  /** Cancels everything: pending synthesis stops and the encoder (and any child it runs) is ended. */
  signal?: AbortSignal;
  /** Passages synthesised ahead of the one being encoded (default 1), so the engine never idles while bytes go out. */
  lookahead?: number;
  /** Sees each passage's 24 kHz samples before they are encoded, and may return replacements of the same length (e.g. a watermark). */
  transform?: (samples: Float32Array) => Float32Array;
}

/** Running totals of one speech, filled in as it goes. */
export interface SpeakStats {
  /** Passages spoken so far. */
  passages: number;
  /** 24 kHz samples produced so far. */
  samples: number;
  /** Seconds of audio produced so far. */
  readonly durationSec: number;
}

interface Pending {
  text: string;
  audio: Promise<PcmAudio>;
}

/**
 * The one speaking path of Parley, for `/v1/audio/speech`, chat audio and batch lines. Text goes
 * in as it becomes known (`push`, all at once or token by token from a language model) and `end`;
 * encoded bytes come out of `chunks()` in order. The text is cut by the one sentence rule
 * (./sentence-stream.ts): a short first piece for a fast start, then passages that grow to full
 * length; each passage is synthesised up to `lookahead` ahead of the one being encoded, pieces that
 * queue up while the engine is busy are joined into the next passage, the language is decided
 * once per text, and every passage is resampled to 24 kHz and encoded. Aborting (the signal or
 * `abort()`) stops pending synthesis and ends the encoder at once, whether or not anybody has
 * started reading `chunks()`.
 */
export class SpeechStream {
  readonly contentType: string;
  readonly stats: SpeakStats;
  private readonly sentences: SentenceStream;
  private readonly encoder: AudioEncoder;
  private readonly link: LinkedSignal;
  private readonly lookahead: number;
  private readonly queue: string[] = [];
  private readonly inflight: Pending[] = [];
  private text = '';
  private ended = false;
  private launched = 0;
  /** The language decision: undefined = not decided yet, null = the voice's own. */
  private language: string | null | undefined;
  private detecting: Promise<string | undefined> | undefined;
  private wake: (() => void) | undefined;
  private consumed = false;
  /** The request's engine meter, kept for passages launched later from another async context (the reader's). */
  private readonly meter = currentMeter();

  constructor(
    private readonly speaker: Speaker,
    private readonly options: SpeechOptions,
  ) {
    this.sentences = new SentenceStream({ fastStart: options.streaming });
    this.encoder = createEncoder(options.format, { streaming: options.streaming });
    this.contentType = this.encoder.contentType;
    this.lookahead = Math.max(0, options.lookahead ?? 1);
    this.language = options.language;
    this.link = linkSignals(options.signal);
    this.link.signal.addEventListener(
      'abort',
      () => {
        this.encoder.abort();
        this.wake?.();
      },
      { once: true },
    );
    const stats = { passages: 0, samples: 0 };
    this.stats = Object.defineProperty(stats, 'durationSec', { get: () => stats.samples / OUTPUT_SAMPLE_RATE, enumerable: true }) as SpeakStats;
  }

  /** The signal every synthesis of this speech runs under. */
  get signal(): AbortSignal {
    return this.link.signal;
  }

  /** Adds text to speak. */
  push(text: string): void {
    if (this.ended) throw new Error('push after end');
    if (text.length === 0) return;
    this.text += text;
    this.queue.push(...this.sentences.push(text));
    this.launch();
  }

  /**
   * Adds text already cut into speakable pieces by the caller (the reply gate releases checked
   * sentences): each piece is spoken as it is, without waiting for the text after it.
   */
  pushPieces(pieces: readonly string[]): void {
    if (this.ended) throw new Error('push after end');
    if (pieces.length === 0) return;
    this.text += ` ${pieces.join(' ')}`;
    this.queue.push(...pieces);
    this.launch();
  }

  /** No more text: the rest is spoken. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.push(...this.sentences.end());
    this.launch();
  }

  /** Stops everything now (idempotent). */
  abort(reason: unknown = new DOMException('speech cancelled', 'AbortError')): void {
    this.link.abort(reason);
  }

  /** The encoded audio, in order. Read it once; an abort or a failed synthesis rejects it. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    if (this.consumed) throw new Error('chunks() may be read once');
    this.consumed = true;
    let finished = false;
    try {
      for (;;) {
        this.link.signal.throwIfAborted();
        const next = this.inflight[0];
        if (!next) {
          if (this.ended && this.queue.length === 0) break;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
          continue;
        }
        const pcm = await next.audio;
        this.inflight.shift();
        this.launch();
        this.link.signal.throwIfAborted();
        let at24k = pcm.sampleRate === OUTPUT_SAMPLE_RATE ? pcm.samples : resample(pcm, OUTPUT_SAMPLE_RATE).samples;
        if (this.options.transform) at24k = this.options.transform(at24k);
        this.stats.passages++;
        this.stats.samples += at24k.length;
        const bytes = await this.encoder.write(at24k);
        if (bytes.length > 0) yield bytes;
      }
      const tail = await this.encoder.end();
      finished = true;
      if (tail.length > 0) yield tail;
    } finally {
      if (!finished) this.abort();
      this.link.dispose();
    }
  }

  /** Starts synthesis of queued text while fewer than `lookahead + 1` passages are in flight. */
  private launch(): void {
    if (this.link.signal.aborted) return;
    while (this.inflight.length <= this.lookahead && this.queue.length > 0) {
      const { text, taken } = this.launched === 0 ? { text: this.queue[0]!, taken: 1 } : nextPassage(this.queue, passageLimit(this.launched));
      this.queue.splice(0, taken);
      this.launched++;
      const audio = this.synthesize(text);
      audio.catch(() => undefined); // observed in chunks(); a later one may fail before it is awaited
      this.inflight.push({ text, audio });
    }
    this.wake?.();
  }

  private async synthesize(text: string): Promise<PcmAudio> {
    const language = await this.decideLanguage();
    this.link.signal.throwIfAborted();
    return withMeter(this.meter, () =>
      this.speaker.synthesize({
        text,
        voice: this.options.voice,
        speed: this.options.speed,
        ...(this.options.instructions ? { instructions: this.options.instructions } : {}),
        language,
        signal: this.link.signal,
      }),
    );
  }

  /**
   * One language per text: detected on all the text known when the first passage starts; when that
   * is too little to tell, the passage is spoken in the voice's own language and the next passage
   * tries again with more text; the first confident answer holds for the rest.
   */
  private async decideLanguage(): Promise<string | null> {
    if (this.language !== undefined) return this.language;
    const detect = this.speaker.detectLanguage?.bind(this.speaker);
    if (!detect) return (this.language = null);
    // Passages launched together share one detection.
    this.detecting ??= detect(this.text).finally(() => {
      this.detecting = undefined;
    });
    const detected = await this.detecting;
    if (this.language !== undefined) return this.language;
    if (detected !== undefined) this.language = detected;
    else if (this.ended) this.language = null;
    return detected ?? null;
  }
}

/** Speaks a whole text: {@link SpeechStream} with all the text pushed at once. */
export function speak(speaker: Speaker, options: SpeechOptions & { text: string }): SpeechStream {
  const speech = new SpeechStream(speaker, options);
  speech.push(options.text);
  speech.end();
  return speech;
}
