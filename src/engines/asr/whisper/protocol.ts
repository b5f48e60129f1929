/**
 * Messages between the engine (parent) and the whisper host process (child), sent over the IPC
 * channel with `serialization: 'advanced'` so audio travels as a typed array, not JSON.
 */

/** What one transcription asks of whisper.cpp (set on the binding's `WhisperFullParams`). */
export interface HostTranscribeOptions {
  /** A whisper language code, or `auto`. */
  language: string;
  translate: boolean;
  threads: number;
  prompt?: string;
  temperature?: number;
  /** One segment per word, timed from token timestamps (`tokenTimestamps`, `maxLen: 1`, `splitOnWord`). */
  words?: boolean;
}

export type HostRequest =
  | { type: 'load'; modelPath: string }
  /** `pcm`: mono, 16 kHz, −1…1. */
  | { type: 'transcribe'; id: number; pcm: Float32Array; options: HostTranscribeOptions };

/** A segment (or, with `words`, a word): text without surrounding spaces, times in milliseconds. */
export interface HostSegment {
  text: string;
  t0: number;
  t1: number;
}

export type HostReply =
  | { type: 'loaded' }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; language: string | undefined; text: string; segments: HostSegment[] }
  | { type: 'failed'; id: number; message: string };
