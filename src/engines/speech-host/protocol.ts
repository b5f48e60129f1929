/**
 * Messages between a speech host (parent side: ./client.ts) and its child process (./host.ts),
 * sent over IPC with `serialization: 'advanced'` so audio travels as typed arrays.
 *
 * A request names its model by a key and carries sherpa-onnx's own config object; the child
 * loads each model the first time it is used and keeps it for the next requests.
 */

/** sherpa-onnx's `OfflineRecognizerConfig` / `OfflineTtsConfig` (plain data, paths resolved). */
export type SherpaConfig = Record<string, unknown>;

/** A model as the child needs it. */
export interface HostModel {
  /** `recognizer` (OfflineRecognizer) or `tts` (OfflineTts). */
  kind: 'recognizer' | 'tts';
  /** Identifies the loaded instance: same key, same config. */
  key: string;
  /** sherpa-onnx's config for it. */
  config: SherpaConfig;
}

export type HostRequest =
  | { type: 'load'; model: HostModel }
  | { type: 'recognize'; model: HostModel; samples: Float32Array; sampleRate: number }
  | { type: 'synthesize'; model: HostModel; text: string; sid: number; speed: number; lang?: string };

/** What sherpa-onnx's `OfflineRecognizer.getResult` returns (fields as in its JSON). */
export interface SherpaRecognitionResult {
  text: string;
  /** One per token, seconds from the start of the input. */
  timestamps: number[];
  /** Tokens as strings; a leading space starts a word (sherpa turns SentencePiece's `▁` into a space). */
  tokens: string[];
  /** Per-token durations in seconds (TDT transducers), else empty. */
  durations?: number[];
  /** SenseVoice: `<|en|>`; others: empty. */
  lang?: string;
  /** SenseVoice: `<|HAPPY|>`, `<|NEUTRAL|>`, … ; others: empty. */
  emotion?: string;
  /** SenseVoice: `<|Speech|>`, `<|Laughter|>`, … ; others: empty. */
  event?: string;
}

/** Facts about a loaded model. */
export interface HostModelInfo {
  /** TTS: output sample rate. */
  sampleRate?: number;
  /** TTS: speakers (0 or 1 = single-speaker). */
  numSpeakers?: number;
}

/** What a reply says. */
export type HostReplyBody =
  | { type: 'loaded'; info: HostModelInfo }
  | { type: 'recognized'; result: SherpaRecognitionResult }
  | { type: 'synthesized'; samples: Float32Array; sampleRate: number }
  | { type: 'failed'; message: string };

/** Every reply reports the child's resident memory (so the parent can recycle it) and how long the work took in the child. */
export type HostReply = HostReplyBody & { rssBytes: number; workMs: number };
