/**
 * Messages between the engine (parent) and the whisper host process (child), sent over the IPC
 * channel with `serialization: 'advanced'` so audio travels as a typed array, not JSON.
 */

/** Options the host passes to whisper.cpp (the binding's `TranscribeOptions` we use). */
export interface HostTranscribeOptions {
  /** A whisper language code, or `auto`. */
  language: string;
  translate: boolean;
  maxThreads: number;
  prompt?: string;
  temperature?: number;
  /** Token-level timestamps: with `maxLen: 1` every token becomes its own timed segment. */
  tokenTimestamps?: boolean;
  maxLen?: number;
}

export type HostRequest = { type: 'load'; modelPath: string } | { type: 'transcribe'; id: number; pcm: Int16Array; options: HostTranscribeOptions };

/** A segment as the binding returns it: times in milliseconds. */
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
