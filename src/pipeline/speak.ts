import { createEncoder } from '../audio/encode/index.js';
import { resample } from '../audio/resample.js';
import { OUTPUT_SAMPLE_RATE, type OutputFormat, type PcmAudio } from '../audio/types.js';
import { groupSentences, splitFirstClause, splitSentences } from './sentences.js';

/** Turns one passage into audio with an OpenAI voice name (implemented over the TTS engines). */
export interface Speaker {
  /** The OpenAI voice names this speaker accepts. */
  voiceNames(): readonly string[];
  /** Synthesises one passage; bounded and queued by the caller's engine host. */
  synthesize(request: { text: string; voice: string; speed: number; instructions?: string; language?: string; signal?: AbortSignal }): Promise<PcmAudio>;
  /** The language of a whole text (BCP-47), when it can be told; sentences are then spoken in it. */
  detectLanguage?(text: string): Promise<string | undefined>;
}

export interface SpeakOptions {
  text: string;
  voice: string;
  speed: number;
  format: OutputFormat;
  instructions?: string;
  /** Streamed output (WAV then uses the 0xFFFFFFFF size convention). */
  streaming: boolean;
  signal?: AbortSignal;
  /** Sentences synthesised ahead of the one being sent (default 1). */
  lookahead?: number;
}

/** Running totals of one speak call, filled in as it goes. */
export interface SpeakStats {
  sentences: number;
  samples: number;
  /** Seconds of audio produced so far. */
  get durationSec(): number;
}

/**
 * Speaks `text` as a stream of encoded bytes: the text is split into sentences, each is
 * synthesised (up to `lookahead` ahead of the one being encoded, so the engine never idles while
 * bytes go out), resampled to 24 kHz and encoded in order. The first sentence's bytes are yielded
 * before the last sentence is synthesised. Aborting the signal stops all pending synthesis.
 */
export function speak(speaker: Speaker, options: SpeakOptions): { chunks: AsyncGenerator<Uint8Array>; stats: SpeakStats; contentType: string } {
  const encoder = createEncoder(options.format, { streaming: options.streaming });
  const stats = {
    sentences: 0,
    samples: 0,
    get durationSec() {
      return this.samples / OUTPUT_SAMPLE_RATE;
    },
  };
  const internal = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, internal.signal]) : internal.signal;
  const split = splitSentences(options.text);
  const sentences = groupSentences(options.streaming ? splitFirstClause(split) : split);
  const lookahead = Math.max(0, options.lookahead ?? 1);

  async function* run(): AsyncGenerator<Uint8Array> {
    const pending: Array<Promise<PcmAudio>> = [];
    let next = 0;
    // One language for the whole text: short sentences alone are too little to tell it.
    const language = sentences.length > 1 ? await speaker.detectLanguage?.(options.text) : undefined;
    const launch = () => {
      while (next < sentences.length && pending.length <= lookahead) {
        const promise = speaker.synthesize({
          text: sentences[next]!,
          voice: options.voice,
          speed: options.speed,
          instructions: options.instructions,
          language,
          signal,
        });
        promise.catch(() => undefined); // observed below; avoid unhandled rejections of later ones
        pending.push(promise);
        next++;
      }
    };
    let finished = false;
    try {
      launch();
      while (pending.length > 0) {
        const pcm = await pending.shift()!;
        launch();
        signal.throwIfAborted();
        const at24k = pcm.sampleRate === OUTPUT_SAMPLE_RATE ? pcm.samples : resample(pcm, OUTPUT_SAMPLE_RATE).samples;
        stats.sentences++;
        stats.samples += at24k.length;
        const bytes = await encoder.write(at24k);
        if (bytes.length > 0) yield bytes;
      }
      const tail = await encoder.end();
      finished = true;
      if (tail.length > 0) yield tail;
    } finally {
      if (!finished) {
        internal.abort(new DOMException('speech cancelled', 'AbortError'));
        encoder.abort();
      }
    }
  }

  return { chunks: run(), stats, contentType: encoder.contentType };
}
