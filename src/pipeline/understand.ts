import type { PcmAudio } from '../audio/types.js';
import { describeForModel } from '../engines/voice/describe.js';
import type { VoiceAnalysis, VoiceAnalyzer } from '../engines/voice/types.js';
import { type TranscribeDeps, transcribeAudio } from './transcribe.js';
import type { FullTranscript } from './transcript-format.js';

/** What was said and how: the transcript, the voice analysis, and the line the language model sees. */
export interface Understanding {
  transcript: FullTranscript;
  analysis: VoiceAnalysis;
  /** Compact description for the language model, e.g. `[voice: negative sentiment (-0.62); excited: …]`. */
  description: string;
}

/**
 * Speech understanding: VAD once, recognition over ≤ 30 s windows, then the voice analysis on the
 * same speech segments and the recognised words.
 */
export async function understandAudio(
  deps: TranscribeDeps & { analyzer: VoiceAnalyzer },
  pcm: PcmAudio,
  options: { language?: string; signal?: AbortSignal } = {},
): Promise<Understanding> {
  const speech = pcm.samples.length === 0 ? [] : await deps.run(() => deps.vad.detect(pcm, { signal: options.signal }), options.signal);
  const transcript = await transcribeAudio(deps, pcm, {
    language: options.language,
    task: 'transcribe',
    wordTimestamps: deps.asr.capabilities.wordTimestamps,
    signal: options.signal,
    speech,
  });
  const analysis = await deps.run(
    () =>
      deps.analyzer.analyze({
        pcm,
        speech,
        transcript: { text: transcript.text, language: transcript.language, words: transcript.words, segments: transcript.segments },
        signal: options.signal,
      }),
    options.signal,
  );
  return { transcript, analysis, description: describeForModel(analysis) };
}
