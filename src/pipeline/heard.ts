import type { Engines } from './context.js';
import { decodeForRecognition } from './input-audio.js';
import { heardCounts, type MeteredContext, metered, realTimeFactor, recordUsage } from './metering.js';
import { type TranscribeOptions, transcribeAudio } from './transcribe.js';
import type { FullTranscript } from './transcript-format.js';
import { type Understanding, understandUpload } from './understand.js';

/** The model name voice analysis is recorded under (the request names none). */
export const ANALYSIS_MODEL = 'parley-voice-analysis';

/** An upload of audio to hear: its bytes and how to read them. */
export interface Upload {
  bytes: Uint8Array;
  /** The field the bytes came from, for errors. */
  param: string;
  /** The format the client named (a hint). */
  format?: string;
  /** Largest accepted input, bytes. */
  maxBytes: number;
}

/** An upload decoded and ready to transcribe. */
export interface DecodedUpload {
  /** Seconds of audio. */
  readonly durationSec: number;
  /** Recognises it (once); records the usage. */
  transcribe(options: Omit<TranscribeOptions, 'signal'>): Promise<FullTranscript>;
}

/**
 * `/v1/audio/transcriptions` and `/translations` (and their batch lines), in two steps so a stream
 * can still refuse bad audio with a clean error: decode now (a limiter job; every input error
 * here), then VAD and ≤ 30 s windows through the recogniser; the seconds heard are recorded with
 * the engine time.
 */
export async function decodeUpload(ctx: MeteredContext & { engines: Engines }, model: string, upload: Upload): Promise<DecodedUpload> {
  const { engines, scope } = ctx;
  const audio = await metered(scope, () => decodeForRecognition(engines.limiter, upload.bytes, { ...upload, signal: scope.signal }));
  return {
    durationSec: audio.durationSec,
    transcribe: (options) =>
      metered(scope, async () => {
        const [asr, vad] = await Promise.all([engines.asr(), engines.vad()]);
        const transcript = await transcribeAudio({ asr, vad }, audio, { ...options, signal: scope.signal });
        const endpoint = options.task === 'translate' ? '/v1/audio/translations' : '/v1/audio/transcriptions';
        recordUsage(ctx, { endpoint, model }, heardCounts(audio.durationSec, transcript.text), {
          asrRtf: realTimeFactor(scope, 'asr', audio.durationSec),
        });
        return transcript;
      }),
  };
}

/** `/v1/audio/analysis`: what was said and how; the seconds heard are recorded (model {@link ANALYSIS_MODEL}). */
export async function analyzeUpload(ctx: MeteredContext & { engines: Engines }, upload: Upload, language: string | undefined): Promise<Understanding> {
  const { engines, scope } = ctx;
  return metered(scope, async () => {
    const understood = await understandUpload(engines, upload.bytes, { ...upload, language, signal: scope.signal });
    const seconds = understood.transcript.durationSec;
    recordUsage(ctx, { endpoint: '/v1/audio/analysis', model: ANALYSIS_MODEL }, heardCounts(seconds, understood.transcript.text), {
      asrRtf: realTimeFactor(scope, 'asr', seconds),
    });
    return understood;
  });
}
