/**
 * Voice analysis: what was said *and how*. A `VoiceAnalyzer` turns one user turn (audio plus,
 * when known, its transcript and VAD segments) into a `VoiceAnalysis`: a sentiment from the words,
 * an arousal level from the prosody, the emotion (heard by the recogniser's acoustic model when it
 * has one, else derived from arousal × sentiment) with how the other evidence agrees, non-speech
 * events, short human-readable cues, and the raw measures behind them. The chat pipeline hands
 * `describeForModel(analysis)` (see ./describe.ts) to the language model.
 */
import type { PcmAudio } from '../../audio/types.js';
import type { HeardEmotion, HeardEmotionLabel, HeardEvent } from '../asr/types.js';
import type { SpeechSegment } from '../vad/types.js';

export type { HeardEmotion, HeardEmotionLabel, HeardEvent } from '../asr/types.js';
export type { SpeechSegment } from '../vad/types.js';

/** One recognised word with its timing, seconds from the start of the audio. */
export interface VoiceWord {
  /** The word as recognised (punctuation allowed). */
  word: string;
  /** Start, seconds. */
  start: number;
  /** End, seconds. */
  end: number;
}

/** One recognised segment (a phrase or sentence) with its timing, seconds. */
export interface VoiceTranscriptSegment {
  /** Start, seconds. */
  start: number;
  /** End, seconds. */
  end: number;
  /** Text of the segment. */
  text: string;
  /** The emotion the recogniser heard in this segment, when it reports one. */
  emotion?: HeardEmotion;
  /** Non-speech sounds the recogniser heard in this segment (times from the start of the audio). */
  events?: readonly HeardEvent[];
}

/** The part of an ASR `Transcript` the analyzer uses; an ASR transcript can be passed as is. */
export interface VoiceTranscript {
  /** Everything that was said, as one string. */
  text: string;
  /** Language of the text (BCP-47 primary tag, e.g. `en`), when known; sentiment is English-only. */
  language?: string;
  /** Words with timings, when the recogniser gives them. */
  words?: readonly VoiceWord[];
  /** Segments with timings, when the recogniser gives them. */
  segments?: readonly VoiceTranscriptSegment[];
  /**
   * The emotion the recogniser's acoustic model heard over the whole turn (SenseVoice-class
   * engines). Absent: the segments' emotions are used, else the emotion is derived from prosody.
   */
  emotion?: HeardEmotion;
  /** Non-speech sounds the recogniser heard (laughter, applause, music…); absent: the segments' events. */
  events?: readonly HeardEvent[];
}

/**
 * The speaker's usual voice, measured on earlier turns of the same conversation. When given (and
 * built from enough speech, see `voicedSec`), pitch, rate and loudness are judged against it
 * instead of against population references.
 */
export interface SpeakerBaseline {
  /** Median f0 of the speaker's earlier speech, Hz. */
  medianHz: number;
  /** Seconds of voiced speech the baseline was measured on; under 3 s it is ignored. */
  voicedSec: number;
  /** The speaker's usual speaking rate, syllables per second, when known. */
  syllablesPerSec?: number;
  /** The speaker's usual speech level, dBFS RMS, when known (same microphone assumed). */
  speechRmsDb?: number;
}

/** Input of one analysis. */
export interface VoiceAnalyzeInput {
  /** The audio of the turn, mono, any sample rate. */
  pcm: PcmAudio;
  /** What was said, when known (from ASR, or the text a TTS engine spoke). Needed for sentiment. */
  transcript?: VoiceTranscript;
  /** Speech segments from a VAD engine, when the pipeline already ran one; else silence is found from energy. */
  speech?: readonly SpeechSegment[];
  /** The speaker's usual voice from earlier turns, when the pipeline keeps one. */
  baseline?: SpeakerBaseline;
  /** Cancels the analysis; it then rejects with `ApiError.cancelled()`. */
  signal?: AbortSignal;
}

export type Sentiment = 'positive' | 'neutral' | 'negative';
export type Arousal = 'calm' | 'neutral' | 'excited';

/** f0 statistics over the voiced frames inside speech, Hz; range in semitones (p10 → p90). */
export interface PitchMeasures {
  /** Median f0, Hz. */
  medianHz: number;
  /** Lowest voiced f0 (after dropping isolated octave jumps), Hz. */
  minHz: number;
  /** Highest voiced f0 (after dropping isolated octave jumps), Hz. */
  maxHz: number;
  /** 10th percentile of f0, Hz: the speaker's floor in this turn. */
  p10Hz: number;
  /** 90th percentile of f0, Hz. */
  p90Hz: number;
  /** Pitch range, semitones from p10 to p90 (12·log2(p90/p10)); robust to stray frames. */
  rangeSemitones: number;
  /** Seconds of voiced speech the statistics come from. */
  voicedSec: number;
}

/** Levels in dBFS (20·log10 of the RMS of samples in [-1, 1]); -120 stands for digital silence. */
export interface LoudnessMeasures {
  /** RMS level of the whole clip, dBFS. */
  rmsDb: number;
  /** Peak absolute sample, dBFS. */
  peakDb: number;
  /** RMS level over the speech parts only, dBFS (-120 when there is no speech). */
  speechRmsDb: number;
}

/** Speaking rate over speech time (pauses excluded: an articulation rate). */
export interface RateMeasures {
  /** Words per second of speech. */
  wordsPerSec: number;
  /** Syllables per second of speech: counted from the transcript's letters, or estimated from energy peaks. */
  syllablesPerSec?: number;
  /** `transcript`: words counted in the transcript; `syllable-estimate`: no transcript, syllable nuclei counted in the energy envelope and words = syllables / 1.4. */
  source: 'transcript' | 'syllable-estimate';
}

/** Silences between stretches of speech (leading and trailing silence are not pauses). */
export interface PauseMeasures {
  /** Number of pauses of at least 0.25 s. */
  count: number;
  /** Their total length, seconds. */
  totalSec: number;
  /** The longest, seconds (0 when none). */
  longestSec: number;
  /** Share of the time from first to last speech spent in pauses, 0..1. */
  ratio: number;
  /** Where the speech/silence split came from. */
  source: 'vad' | 'energy';
}

/** VADER's scores of the transcript (Hutto & Gilbert 2014). */
export interface TextSentimentMeasures {
  /** Normalised sum of valences, -1..1. */
  compound: number;
  /** Share of the text that is positive, 0..1. */
  pos: number;
  /** Share of the text that is negative, 0..1. */
  neg: number;
  /** Share of the text that is neutral, 0..1. */
  neu: number;
  /** Lexicon words (or negated phrases such as `not good`) that moved `compound`, strongest first, at most 5. */
  words: Array<{ phrase: string; effect: number }>;
}

/** The raw measurements the labels are derived from. */
export interface VoiceMeasures {
  /** Length of the audio, seconds. */
  durationSec: number;
  /** Seconds of speech in it (VAD or energy based). */
  speechSec: number;
  /** Pitch over the speech parts; null when there is too little voiced speech. */
  pitch: PitchMeasures | null;
  /** Levels. */
  loudness: LoudnessMeasures;
  /** Speaking rate; null when there is no speech (or under 0.3 s of it). */
  rate: RateMeasures | null;
  /** Pauses. */
  pauses: PauseMeasures;
  /** Sentiment of the words; null without a transcript, with an empty one, or one in another language than English. */
  text: TextSentimentMeasures | null;
}

/** How each prosodic feature pushed the arousal score: z-like values in [-2, 2] and the weight used. */
export interface ArousalContribution {
  /** Feature name: `pitch`, `range`, `rate`, `loudness`. */
  feature: 'pitch' | 'range' | 'rate' | 'loudness';
  /** Standardised value, -2 (very low) .. 2 (very high), 0 = typical. */
  z: number;
  /** Weight it had in the score (weights of missing features are shared out). */
  weight: number;
}

/** Where the emotion label came from. */
export type EmotionSource =
  /** The recogniser's acoustic emotion model heard it in the voice. */
  | 'acoustic'
  /** No emotion model: derived from arousal (prosody) × sentiment (words), a weak proxy. */
  | 'prosody';

/** What one line of evidence says about the emotion label. */
export type EmotionEvidence = 'supports' | 'contradicts' | 'neutral' | 'absent';

/** How the independent evidence relates to the label, taken together. */
export type EmotionAgreement =
  /** At least one of prosody and words supports the label, neither contradicts it. */
  | 'agrees'
  /** At least one contradicts it, neither supports it. */
  | 'disagrees'
  /** One supports, the other contradicts. */
  | 'mixed'
  /** Neither says anything either way (neutral or absent). */
  | 'unknown';

/** The emotion of the turn, with where it came from and whether the rest of the evidence agrees. */
export interface VoiceEmotion {
  label: HeardEmotionLabel;
  /** 0–1. Acoustic: the recogniser's own confidence. Prosody: at most 0.6 (see emotion.ts); 0 with no speech. */
  confidence: number;
  source: EmotionSource;
  /** Prosody and words, taken together (see `evidence`). */
  agreement: EmotionAgreement;
  /**
   * Each line of evidence against the label's usual arousal and valence: `prosody` (the arousal
   * from pitch, loudness, rate) and `words` (the sentiment of the transcript). `absent`: no
   * speech / no English transcript.
   */
  evidence: { prosody: EmotionEvidence; words: EmotionEvidence };
}

/**
 * The result of one analysis. JSON-serialisable (no NaN or Infinity).
 *
 * `sentiment`/`score` come from the words only (VADER; neutral 0 without a transcript);
 * `arousal`/`arousalScore` come from the voice only (pitch, range, rate, loudness; see ./arousal.ts).
 */
export interface VoiceAnalysis {
  /** VADER label: compound ≥ 0.05 positive, ≤ -0.05 negative, else neutral. */
  sentiment: Sentiment;
  /** VADER compound score, -1..1 (0 without a transcript). */
  score: number;
  /** Arousal label: score ≥ 0.25 excited, ≤ -0.25 calm, else neutral (neutral when there is no speech). */
  arousal: Arousal;
  /** Arousal score, -1 (very calm) .. 1 (very excited). */
  arousalScore: number;
  /** The emotion: the recogniser's (`source: 'acoustic'`) when it reports one, else derived (`'prosody'`). */
  emotion: VoiceEmotion;
  /** Non-speech sounds the recogniser heard, in time order (empty when none or when it cannot tell). */
  events: HeardEvent[];
  /**
   * Short human phrases, most telling first: "sounds angry", "words positive, voice angry",
   * "laughter", "raised pitch", "fast speech", "long pauses", "quiet", "negative words: 'terrible'".
   */
  cues: string[];
  /** The raw measures. */
  measures: VoiceMeasures;
  /** The per-feature terms of the arousal score (empty when there is no speech). */
  arousalTerms: ArousalContribution[];
}

/** A voice analyzer. Implementations live in one folder each under engines/voice/. */
export interface VoiceAnalyzer {
  /** Analyzer id as configured (`prosody`). */
  readonly id: string;
  /** Analyse one turn. Never fails on silence or empty audio; rejects with `ApiError.cancelled()` when aborted. */
  analyze(input: VoiceAnalyzeInput): Promise<VoiceAnalysis>;
  /** Free what the analyzer holds. */
  dispose(): Promise<void>;
}

/** Settings of a voice analyzer. */
export interface VoiceAnalyzerOptions {
  /** Pitch search range, Hz (default 60–500: low male to raised child/female voices). */
  minHz?: number;
  /** Upper end of the pitch search, Hz. */
  maxHz?: number;
}

/** What an analyzer folder exports: a lazily-imported factory. */
export interface VoiceAnalyzerDescriptor {
  /** Analyzer id (`prosody`). */
  id: string;
  /** One line for `parley models` and the README. */
  description: string;
  /** Create the analyzer. */
  create(options?: VoiceAnalyzerOptions): Promise<VoiceAnalyzer>;
}
