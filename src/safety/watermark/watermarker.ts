import { DEFAULT_STRENGTH, detectMark, HOP, MARK_RATE, MarkEmbedder, type MarkPattern, markPattern, responseTag, tagDistance, tagScore } from './mark.js';

/**
 * Detection threshold on the sync score (standard deviations, best of 128 alignments). Measured
 * null (`BENCH_WATERMARK_NULL_DIR=… npm run bench -- safety`): 252 unmarked clips of human speech —
 * 76 whole recordings, their MP3 copies and 3 s windows — scored mean 2.39, 99th percentile 3.91,
 * highest 4.09; white noise and silence score lower. Under a Gaussian null one alignment passes 6
 * with p ≈ 1e-9 (≈ 1.3e-7 for the best of 128). Marked speech scores 8–11 on a 3 s cut at the
 * default strength (8–19 whole).
 */
export const DETECTION_THRESHOLD = 6;
/** The score at which confidence is 0: above every unmarked clip measured (4.09). */
const CONFIDENCE_ZERO = 4.5;
/**
 * A stored tag is the audio's when its bits differ from those heard in at most this many of 64
 * places: a tag that is not in the audio does so with probability Σ_{k≤8} C(64,k)/2⁶⁴ ≈ 3e-10, so
 * even with a million responses stored the chance of naming a wrong one is ≈ 3e-4.
 */
export const MAX_TAG_DISTANCE = 8;

/** A response whose voice is being marked. */
export interface MarkedResponse {
  /** `chatcmpl-…`, `req_…`. */
  responseId: string;
  /** sha256 of the API key that asked, or null. */
  owner: string | null;
  /** The model name asked for. */
  model: string;
  /** The OpenAI voice name. */
  voice: string;
}

/** Where tags are kept (the store's `watermarks` table; wired by the composition root). */
export interface WatermarkRegistry {
  put(record: MarkedResponse & { tag: string }): void;
  tags(): string[];
  find(tag: string): (MarkedResponse & { tag: string; createdAt: number }) | undefined;
}

/** What verifying a recording found. */
export interface WatermarkVerdict {
  /** The mark of this server's key is in the audio. */
  watermarked: boolean;
  /** 0 (like unmarked audio) … 1 (certain); 0.5 at the detection threshold. */
  confidence: number;
  /** The sync score (see {@link DETECTION_THRESHOLD}). */
  score: number;
  /** Seconds of audio with enough signal to be read. */
  readableSec: number;
  /** The response the mark leads back to, when its tag was heard clearly enough. */
  response?: MarkedResponse & { createdAt: number };
}

/**
 * The watermark of a server: marks every voice it makes (`begin` → the speaking path's
 * `transform`) and reads marks back (`verify`). Off (`enabled: false`) it marks nothing and
 * still verifies, so audio made before it was turned off can be checked.
 */
export class Watermarker {
  /** Marks are being added to new speech. */
  readonly enabled: boolean;
  /** Per-cell gain, nepers. */
  readonly strength: number;
  private readonly key: Uint8Array;
  private readonly pattern: MarkPattern;
  private readonly registry: WatermarkRegistry;

  constructor(options: { key: Uint8Array; enabled: boolean; registry: WatermarkRegistry; strength?: number }) {
    this.key = options.key;
    this.enabled = options.enabled;
    this.strength = options.strength ?? DEFAULT_STRENGTH;
    this.registry = options.registry;
    this.pattern = markPattern(options.key);
  }

  /**
   * Starts marking one response's speech: its tag is recorded now, and the returned function marks
   * the speech's 24 kHz samples passage by passage, in order. Undefined when the watermark is off.
   */
  begin(response: MarkedResponse): ((samples: Float32Array) => Float32Array) | undefined {
    if (!this.enabled) return undefined;
    const tag = responseTag(this.key, response.responseId);
    this.registry.put({ ...response, tag });
    const embedder = new MarkEmbedder(this.pattern, tag, this.strength);
    return (samples) => embedder.mark(samples);
  }

  /** Looks for this key's mark in mono audio at any rate, and for the response it carries. */
  verify(samples: Float32Array, sampleRate: number): WatermarkVerdict {
    const found = detectMark(this.pattern, samples, sampleRate);
    const watermarked = found.frames > 0 && found.score >= DETECTION_THRESHOLD;
    const confidence = Math.min(1, Math.max(0, (0.5 * (found.score - CONFIDENCE_ZERO)) / (DETECTION_THRESHOLD - CONFIDENCE_ZERO)));
    const verdict: WatermarkVerdict = {
      watermarked,
      confidence: Math.round(confidence * 1000) / 1000,
      score: Math.round(found.score * 100) / 100,
      readableSec: Math.round(((found.frames * HOP) / MARK_RATE) * 10) / 10,
    };
    if (!watermarked) return verdict;
    let best: { tag: string; score: number } | undefined;
    for (const tag of this.registry.tags()) {
      if (tagDistance(found.bits, tag) > MAX_TAG_DISTANCE) continue;
      const score = tagScore(found.bits, tag);
      if (!best || score > best.score) best = { tag, score };
    }
    const record = best && this.registry.find(best.tag);
    if (record)
      verdict.response = { responseId: record.responseId, owner: record.owner, model: record.model, voice: record.voice, createdAt: record.createdAt };
    return verdict;
  }
}
