import type { WatermarkVerdict } from '../safety/watermark/watermarker.js';
import type { Engines } from './context.js';
import { decodeForRecognition } from './input-audio.js';

/** Largest recording accepted for verification, bytes (OpenAI's 25 MB upload limit). */
export const MAX_VERIFY_BYTES = 25 * 1024 * 1024;
/** Longest recording verified, seconds (detection costs about a second of CPU per minute of audio). */
export const MAX_VERIFY_SEC = 30 * 60;

/**
 * Looks for this server's watermark in a recording: decoded to ≤ 16 kHz mono (the mark lives in
 * 300–4000 Hz) as a `decode` job, then read as an `analysis` job of the limiter. The verdict names
 * the response whatever the caller may see: the route decides what to disclose.
 */
export async function verifyRecording(
  engines: Pick<Engines, 'limiter' | 'watermark'>,
  bytes: Uint8Array,
  options: { param: string; format?: string; signal?: AbortSignal },
): Promise<WatermarkVerdict & { durationSec: number }> {
  const audio = await decodeForRecognition(engines.limiter, bytes, { ...options, maxBytes: MAX_VERIFY_BYTES, maxDurationSec: MAX_VERIFY_SEC });
  const verdict = await engines.limiter.run('analysis', async () => engines.watermark.verify(audio.samples, audio.sampleRate), { signal: options.signal });
  return { ...verdict, durationSec: audio.samples.length / audio.sampleRate };
}
