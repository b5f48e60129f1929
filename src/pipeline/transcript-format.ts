/**
 * Renders a transcript in the `response_format`s of OpenAI's transcription endpoints:
 * json, text, srt, verbose_json, vtt. Timestamps are seconds from the start of the upload.
 */
import type { HeardEmotion, HeardEvent } from '../engines/asr/types.js';

export interface TimedSegment {
  id: number;
  start: number;
  end: number;
  text: string;
  tokens?: number[];
  temperature?: number;
  avgLogprob?: number;
  compressionRatio?: number;
  noSpeechProb?: number;
}

export interface TimedWord {
  word: string;
  start: number;
  end: number;
}

export interface FullTranscript {
  text: string;
  language: string;
  durationSec: number;
  segments: TimedSegment[];
  words?: TimedWord[];
  /** The emotion the recogniser heard in the voice (SenseVoice), when it has an emotion model. */
  emotion?: HeardEmotion;
  /** Non-speech sounds the recogniser heard (times from the start of the audio), when it reports them. */
  events?: HeardEvent[];
}

export const TRANSCRIPT_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

function clock(seconds: number, separator: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(rest, 3)}`;
}

/** SubRip subtitles, one cue per segment. */
export function toSrt(t: FullTranscript): string {
  return t.segments
    .filter((s) => s.text.trim().length > 0)
    .map((s, i) => `${i + 1}\n${clock(s.start, ',')} --> ${clock(s.end, ',')}\n${s.text.trim()}\n`)
    .join('\n');
}

/** WebVTT subtitles, one cue per segment. */
export function toVtt(t: FullTranscript): string {
  const cues = t.segments.filter((s) => s.text.trim().length > 0).map((s) => `${clock(s.start, '.')} --> ${clock(s.end, '.')}\n${s.text.trim()}\n`);
  return `WEBVTT\n\n${cues.join('\n')}`;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** OpenAI's `verbose_json` body; `words`/`segments` only when asked for by timestamp_granularities. */
export function toVerboseJson(t: FullTranscript, task: 'transcribe' | 'translate', granularities: ReadonlySet<'word' | 'segment'>): Record<string, unknown> {
  const body: Record<string, unknown> = { task, language: languageName(t.language), duration: round(t.durationSec), text: t.text };
  if (granularities.has('word')) body.words = (t.words ?? []).map((w) => ({ word: w.word, start: round(w.start), end: round(w.end) }));
  if (granularities.has('segment') || granularities.size === 0) {
    body.segments = t.segments.map((s) => ({
      id: s.id,
      seek: 0,
      start: round(s.start),
      end: round(s.end),
      text: s.text,
      tokens: s.tokens ?? [],
      temperature: s.temperature ?? 0,
      avg_logprob: s.avgLogprob ?? 0,
      compression_ratio: s.compressionRatio ?? 1,
      no_speech_prob: s.noSpeechProb ?? 0,
    }));
  }
  return body;
}

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'english',
  de: 'german',
  fr: 'french',
  es: 'spanish',
  it: 'italian',
  pt: 'portuguese',
  nl: 'dutch',
  ru: 'russian',
  zh: 'chinese',
  ja: 'japanese',
  ko: 'korean',
  ar: 'arabic',
  hi: 'hindi',
  pl: 'polish',
  tr: 'turkish',
  sv: 'swedish',
  uk: 'ukrainian',
  cs: 'czech',
  da: 'danish',
  fi: 'finnish',
  el: 'greek',
  he: 'hebrew',
  hu: 'hungarian',
  id: 'indonesian',
  no: 'norwegian',
  ro: 'romanian',
  th: 'thai',
  vi: 'vietnamese',
  ca: 'catalan',
  ms: 'malay',
};

/** OpenAI reports the language by its English name in verbose_json ("english"). */
export function languageName(code: string): string {
  return LANGUAGE_NAMES[code.toLowerCase().split('-')[0]!] ?? code;
}
