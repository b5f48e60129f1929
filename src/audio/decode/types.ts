import type { PcmAudio } from '../types.js';

/** Containers the decoder recognises from their first bytes. */
export type Container = 'wav' | 'mp3' | 'flac' | 'ogg' | 'webm' | 'mp4' | 'aac';

/** Options of `decodeAudio`. */
export interface DecodeAudioOptions {
  /** The format the client named (`wav`, `mp3`, `flac`, `m4a`, `mp4`, `mpeg`, `mpga`, `ogg`, `webm`); a hint only, the bytes decide. */
  format?: string;
  /** Path of the request field the bytes came from, put in `param` of every error (e.g. `messages[1].content[0].input_audio.data`). */
  param: string;
  /** Largest accepted input in bytes, checked before any decoding (default 20 MB = 20 · 1024 · 1024). */
  maxBytes?: number;
  /** Longest accepted decoded audio in seconds (default 7200); bounds memory against decompression bombs. */
  maxDurationSec?: number;
  /** Longest time an ffmpeg decode may run, ms (default 60 000). */
  timeoutMs?: number;
  /**
   * Highest sample rate wanted (e.g. 16 000 for recognition): compressed sources above it are
   * resampled while they decode, so a long MP3 never exists as floats at 44.1 kHz (memory stays a
   * few times the upload). WAV is returned at its own rate (it is already that size).
   */
  maxRate?: number;
  /** Cancels decoding (ffmpeg is killed); rejects with `ApiError.cancelled()`. */
  signal?: AbortSignal;
  /** Receives diagnostics that must not reach the client (ffmpeg's stderr, decoder warnings). */
  log?: (message: string) => void;
}

/** Decoded audio: mono floats at the source's own sample rate, plus what the source was. */
export interface DecodedAudio extends PcmAudio {
  /** Channels in the source (the samples are their average). */
  channels: number;
  /** Sample rate of the source as far as known, Hz (MP3: its own rate even when `maxRate` lowered `sampleRate`). */
  sourceRate: number;
  /** Duration of the decoded samples, seconds. */
  durationSec: number;
  /** The container the bytes turned out to be. */
  container: Container;
}
