import crypto from 'node:crypto';
import type { PcmAudio } from '../audio/types.js';
import type { AsrEngine } from '../engines/asr/types.js';
import type { VadEngine } from '../engines/vad/types.js';
import { describeForModel } from '../engines/voice/describe.js';
import type { VoiceAnalysis, VoiceAnalyzer } from '../engines/voice/types.js';
import type { Limiter } from '../lib/limiter.js';
import { abortReason, linkSignals } from '../lib/signals.js';
import { decodeForRecognition, type InputAudioOptions } from './input-audio.js';
import { transcribeAudio } from './transcribe.js';
import type { FullTranscript } from './transcript-format.js';

/** What was said and how: the transcript, the voice analysis, and the line the language model sees. */
export interface Understanding {
  transcript: FullTranscript;
  analysis: VoiceAnalysis;
  /** Compact description for the language model, e.g. `[voice: negative sentiment (-0.62); excited: …]`. */
  description: string;
}

/** The engines speech understanding runs on (already bounded by the process's limiter). */
export interface UnderstandEngines {
  asr(): Promise<AsrEngine>;
  vad(): Promise<VadEngine>;
  analyzer(): Promise<VoiceAnalyzer>;
}

/**
 * Speech understanding: VAD once, recognition over ≤ 30 s windows, then the voice analysis on the
 * same speech segments and the recognised words.
 */
export async function understandAudio(
  engines: UnderstandEngines,
  pcm: PcmAudio,
  options: { language?: string; signal?: AbortSignal } = {},
): Promise<Understanding> {
  const [asr, vad, analyzer] = await Promise.all([engines.asr(), engines.vad(), engines.analyzer()]);
  const speech = pcm.samples.length === 0 ? [] : await vad.detect(pcm, { signal: options.signal });
  const transcript = await transcribeAudio({ asr, vad }, pcm, {
    language: options.language,
    task: 'transcribe',
    wordTimestamps: asr.capabilities.wordTimestamps,
    signal: options.signal,
    speech,
  });
  const analysis = await analyzer.analyze({
    pcm,
    speech,
    // The recogniser's emotion and events (SenseVoice) lead the analysis; prosody and words support or contradict them.
    transcript: {
      text: transcript.text,
      language: transcript.language,
      words: transcript.words,
      segments: transcript.segments,
      ...(transcript.emotion ? { emotion: transcript.emotion } : {}),
      ...(transcript.events ? { events: transcript.events } : {}),
    },
    signal: options.signal,
  });
  return { transcript, analysis, description: describeForModel(analysis) };
}

interface SharedWork {
  result: Promise<Understanding>;
  /** Callers waiting for it now; when the last one leaves, the work is cancelled. */
  waiters: number;
  controller: AbortController;
}

/**
 * Understands input audio once per distinct clip. Chat clients resend every earlier turn's audio
 * with each request, so a clip is recognised the first time and answered from memory after that
 * (the most recent `maxEntries` clips). The shared work runs under its own signal, not the first
 * caller's: a caller that goes away stops waiting, and the work is cancelled only when no caller is
 * left — one client's disconnect never fails another's request.
 */
export class Understander {
  private readonly entries = new Map<string, SharedWork>();

  constructor(
    private readonly engines: UnderstandEngines,
    private readonly maxEntries = 64,
  ) {}

  /** The understanding of `pcm`, whose encoded bytes hash to `digest` (in `language` when the caller knows it). */
  understand(pcm: PcmAudio, digest: string, signal?: AbortSignal, language?: string): Promise<Understanding> {
    signal?.throwIfAborted();
    const key = language ? `${digest}:${language}` : digest;
    let work = this.entries.get(key);
    if (!work) {
      const controller = new AbortController();
      const result = understandAudio(this.engines, pcm, { signal: controller.signal, language });
      const created: SharedWork = { result, waiters: 0, controller };
      work = created;
      this.entries.set(key, created);
      result.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    } else {
      // Most recently used last, so the oldest is evicted first.
      this.entries.delete(key);
      this.entries.set(key, work);
    }
    return this.wait(work, key, signal);
  }

  private wait(work: SharedWork, digest: string, signal: AbortSignal | undefined): Promise<Understanding> {
    work.waiters++;
    if (!signal) {
      // A caller that cannot leave keeps the work alive until it ends.
      const done = () => {
        work.waiters--;
      };
      work.result.then(done, done);
      return work.result;
    }
    const linked = linkSignals(signal);
    return new Promise<Understanding>((resolve, reject) => {
      const leave = () => {
        linked.dispose();
        work.waiters--;
      };
      linked.signal.addEventListener(
        'abort',
        () => {
          leave();
          reject(abortReason(signal));
          if (work.waiters === 0) {
            work.controller.abort(abortReason(signal));
            if (this.entries.get(digest) === work) this.entries.delete(digest);
          }
        },
        { once: true },
      );
      work.result.then(
        (u) => {
          if (linked.signal.aborted) return;
          leave();
          resolve(u);
        },
        (e: unknown) => {
          if (linked.signal.aborted) return;
          leave();
          reject(e);
        },
      );
    });
  }
}

/**
 * Decodes uploaded audio (a `decode` job of the limiter) and understands it, through the
 * pipeline's understander: the same clip sent to `/v1/audio/analysis` and then in a chat turn (as
 * the playground does) is recognised once. `/v1/audio/analysis` and `parley analyze`.
 */
export async function understandUpload(
  engines: { limiter: Limiter; understander: Understander },
  bytes: Uint8Array,
  options: InputAudioOptions & { language?: string },
): Promise<Understanding> {
  const pcm = await decodeForRecognition(engines.limiter, bytes, options);
  const digest = crypto.createHash('sha256').update(bytes).digest('hex');
  return engines.understander.understand(pcm, digest, options.signal, options.language);
}
