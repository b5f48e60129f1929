import type { PcmAudio } from '../audio/types.js';
import { mergeEvents, overallEmotion, type WeightedEmotion } from '../engines/asr/sherpa/results.js';
import type { AsrEngine, HeardEvent, Transcript } from '../engines/asr/types.js';
import type { SpeechSegment, VadEngine } from '../engines/vad/types.js';
import { type AudioWindow, planWindows, sliceAudio } from '../engines/vad/windows.js';
import { ApiError } from '../errors.js';
import type { FullTranscript, TimedSegment, TimedWord } from './transcript-format.js';

/**
 * The rate speech understanding works at (VAD, recognisers and the voice analyzer all use 16 kHz):
 * compressed uploads are decoded straight to it, so memory stays a few times the upload's size.
 */
export const RECOGNITION_RATE = 16_000;

/** Longest audio handed to the recogniser in one call (Whisper's context is 30 s). */
export const MAX_WINDOW_SEC = 30;

export interface TranscribeOptions {
  language?: string;
  prompt?: string;
  temperature?: number;
  task: 'transcribe' | 'translate';
  wordTimestamps: boolean;
  signal?: AbortSignal;
  /** Speech segments already found by VAD (skips running it again). */
  speech?: readonly SpeechSegment[];
  /** Called with each window's text as soon as it is recognised (for streaming). */
  onText?: (delta: string) => void;
}

/** The engines transcription runs on (bounded by the process's limiter by whoever built them). */
export interface TranscribeDeps {
  asr: AsrEngine;
  vad: VadEngine;
}

/**
 * Speech to text for audio of any length: VAD finds the speech, long audio is cut at pauses into
 * windows of at most 30 s (a run of speech longer than that is cut with an overlap, de-duplicated
 * here), each window is recognised, and the timestamps are mapped back to the whole file.
 * Silence in, empty transcript out.
 */
export async function transcribeAudio(deps: TranscribeDeps, pcm: PcmAudio, options: TranscribeOptions): Promise<FullTranscript> {
  const durationSec = pcm.samples.length / pcm.sampleRate;
  const empty: FullTranscript = { text: '', language: options.language ?? 'en', durationSec, segments: [], words: options.wordTimestamps ? [] : undefined };
  if (pcm.samples.length === 0) return empty;
  const speech = options.speech ?? (await deps.vad.detect(pcm, { signal: options.signal }));
  if (speech.length === 0) return empty;
  const windows = planWindows(speech, durationSec, { maxWindowSec: MAX_WINDOW_SEC });

  const segments: TimedSegment[] = [];
  const words: TimedWord[] = [];
  const texts: string[] = [];
  // What a recogniser with an emotion model (SenseVoice) heard besides the words, per window.
  const heard: Array<Transcript['emotion']> = [];
  const emotions: WeightedEmotion[] = [];
  const events: HeardEvent[] = [];
  let language = options.language;
  for (let i = 0; i < windows.length; i++) {
    const window = windows[i]!;
    const slice = sliceAudio(pcm, window.startSec, window.endSec);
    const result: Transcript = await deps.asr.transcribe(slice, {
      language: language ?? options.language,
      prompt: i === 0 ? options.prompt : [options.prompt, texts.join(' ')].filter(Boolean).join(' ').slice(-800),
      temperature: options.temperature,
      task: options.task,
      wordTimestamps: options.wordTimestamps,
      signal: options.signal,
    });
    language ??= result.language;
    if (options.task === 'translate' && !deps.asr.capabilities.translate && primaryLanguage(language) !== 'en') {
      // The engine heard another language and cannot turn it into English: say so instead of answering in that language.
      throw ApiError.invalidRequest(
        'file',
        `The speech is in '${language}' and this server's recogniser ('${deps.asr.id}') cannot translate it into English: use a whisper model (\`parley models pull whisper-base\`).`,
        'translation_unavailable',
      );
    }
    const keep = keepRange(windows, i);
    const windowTexts: string[] = [];
    for (const s of result.segments) {
      const start = s.start + window.startSec;
      const end = Math.min(s.end + window.startSec, window.endSec);
      if (!inRange((start + end) / 2, keep)) continue;
      const text = s.text.trim();
      if (text.length === 0) continue;
      segments.push({ ...s, id: segments.length, start, end, text: ` ${text}` });
      windowTexts.push(text);
    }
    for (const w of result.words ?? []) {
      const start = w.start + window.startSec;
      const end = w.end + window.startSec;
      if (inRange((start + end) / 2, keep)) words.push({ word: w.word.trim(), start, end });
    }
    if (result.emotion) {
      heard.push(result.emotion);
      emotions.push({ label: result.emotion.label, seconds: (window.endSec - window.startSec) * result.emotion.confidence });
    }
    for (const e of result.events ?? []) {
      const start = e.start === undefined ? undefined : e.start + window.startSec;
      const end = e.end === undefined ? undefined : Math.min(e.end + window.startSec, window.endSec);
      if (start !== undefined && !inRange((start + (end ?? start)) / 2, keep)) continue;
      events.push({ ...e, ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }) });
    }
    const text = windowTexts.join(' ');
    if (text.length > 0) {
      texts.push(text);
      options.onText?.(texts.length > 1 ? ` ${text}` : text);
    }
  }
  const transcript: FullTranscript = {
    text: texts.join(' '),
    language: language ?? 'en',
    durationSec,
    segments,
    words: options.wordTimestamps ? words : undefined,
  };
  // One window: the engine's own emotion; several: the label heard over the most (confidence-weighted) seconds.
  const emotion = heard.length === 1 ? heard[0] : overallEmotion(emotions);
  if (emotion) transcript.emotion = emotion;
  if (deps.asr.capabilities.emotion) transcript.events = mergeEvents(events);
  return transcript;
}

/** The part of window i whose words are kept: overlaps with neighbours are split in the middle. */
function keepRange(windows: readonly AudioWindow[], i: number): [number, number] {
  const w = windows[i]!;
  const next = windows[i + 1];
  const start = w.overlapSec > 0 ? w.startSec + w.overlapSec / 2 : -Infinity;
  const end = next && next.overlapSec > 0 ? next.startSec + next.overlapSec / 2 : Infinity;
  return [start, end];
}

function inRange(t: number, [start, end]: [number, number]): boolean {
  return t >= start && t < end;
}

function primaryLanguage(tag: string): string {
  return tag.toLowerCase().split(/[-_]/)[0]!;
}
