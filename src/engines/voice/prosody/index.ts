/**
 * The `prosody` voice analyzer: our own signal processing (YIN pitch, energy, syllable nuclei)
 * plus VADER on the words. No model files, no native code: it runs anywhere Parley runs, at a few
 * milliseconds per second of audio.
 */
import { ApiError } from '../../../errors.js';
import { analysisFromMeasures } from '../analysis.js';
import { acousticEmotion, heardEvents } from '../emotion.js';
import { analyzeTextSentiment, isEnglish } from '../sentiment.js';
import type {
  TextSentimentMeasures,
  VoiceAnalysis,
  VoiceAnalyzeInput,
  VoiceAnalyzer,
  VoiceAnalyzerDescriptor,
  VoiceAnalyzerOptions,
  VoiceMeasures,
} from '../types.js';
import { measureProsody, type ProsodyMeasures } from './measure.js';

export const descriptor: VoiceAnalyzerDescriptor = {
  id: 'prosody',
  description: 'Pitch, loudness, rate and pauses from the audio (YIN, energy) + VADER sentiment from the words; no model files',
  create: async (options) => createProsodyAnalyzer(options),
};

/** Most sentiment words kept in the measures. */
const MAX_WORDS = 5;

/** A `prosody` analyzer. Stateless: analyses may run concurrently. */
export function createProsodyAnalyzer(options: VoiceAnalyzerOptions = {}): VoiceAnalyzer {
  const minHz = options.minHz ?? 60;
  const maxHz = options.maxHz ?? 500;
  if (!(minHz > 0 && maxHz > minHz)) throw new RangeError(`voice analyzer: need 0 < minHz < maxHz, got ${minHz}–${maxHz}`);
  return {
    id: 'prosody',
    async analyze(input: VoiceAnalyzeInput): Promise<VoiceAnalysis> {
      const { pcm, transcript, signal } = input;
      if (signal?.aborted) throw ApiError.cancelled();
      const acoustic = await measureProsody(pcm, { transcript, speech: input.speech, minHz, maxHz, signal });

      let text: TextSentimentMeasures | null = null;
      const words = transcript ? (transcript.text.trim() ? transcript.text : (transcript.words ?? []).map((w) => w.word).join(' ')) : '';
      if (words && isEnglish(transcript?.language)) {
        const s = await analyzeTextSentiment(words);
        if (s) text = { compound: s.compound, pos: s.pos, neg: s.neg, neu: s.neu, words: s.words.slice(0, MAX_WORDS) };
      }
      if (signal?.aborted) throw ApiError.cancelled();

      const measures = roundMeasures(acoustic, text);
      return analysisFromMeasures(measures, {
        baseline: input.baseline,
        heard: acousticEmotion(transcript),
        events: heardEvents(transcript, measures.durationSec),
      });
    },
    async dispose(): Promise<void> {
      // Nothing held: VADER's lexicon is a module shared by every analyzer.
    },
  };
}

const r = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Public measures, rounded to meaningful precision (ms, 0.1 Hz, 0.1 dB, 0.01 per second). */
function roundMeasures(m: ProsodyMeasures, text: TextSentimentMeasures | null): VoiceMeasures {
  return {
    durationSec: r(m.durationSec, 3),
    speechSec: r(m.speechSec, 3),
    pitch: m.pitch && {
      medianHz: r(m.pitch.medianHz, 1),
      minHz: r(m.pitch.minHz, 1),
      maxHz: r(m.pitch.maxHz, 1),
      p10Hz: r(m.pitch.p10Hz, 1),
      p90Hz: r(m.pitch.p90Hz, 1),
      rangeSemitones: r(m.pitch.rangeSemitones, 2),
      voicedSec: r(m.pitch.voicedSec, 2),
    },
    loudness: { rmsDb: r(m.loudness.rmsDb, 1), peakDb: r(m.loudness.peakDb, 1), speechRmsDb: r(m.loudness.speechRmsDb, 1) },
    rate: m.rate && {
      wordsPerSec: r(m.rate.wordsPerSec, 2),
      ...(m.rate.syllablesPerSec !== undefined ? { syllablesPerSec: r(m.rate.syllablesPerSec, 2) } : {}),
      source: m.rate.source,
    },
    pauses: {
      count: m.pauses.count,
      totalSec: r(m.pauses.totalSec, 3),
      longestSec: r(m.pauses.longestSec, 3),
      ratio: r(m.pauses.ratio, 3),
      source: m.pauses.source,
    },
    text,
  };
}
