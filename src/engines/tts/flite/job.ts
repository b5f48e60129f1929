/** Messages between the flite engine and its workers (types and constants only). */
import type { WasmModule } from '../wasm.js';

/** Where flite is told to write. */
export const OUTPUT_PATH = '/out.wav';

/** What each flite worker receives once. */
export interface FliteWorkerData {
  /** flite.wasm, compiled once by the engine and shared by every worker. */
  module: WasmModule;
  /** Extra `.flitevox` voices by the path the arguments use (`/voices/x.flitevox`). */
  voiceFiles: Record<string, Uint8Array>;
}

/** One synthesis. */
export interface FliteJob {
  /** flite's arguments after argv[0]. */
  args: string[];
  /** Path (a key of `voiceFiles`) of the extra voice the arguments load, if any. */
  voiceFile?: string;
  /**
   * Pitch by resampling, for voices whose F0 flite cannot shift: the output is taken to run at
   * `playbackRate` × its rate (higher and shorter; the engine stretched durations to match) and
   * resampled back to the native rate.
   */
  playbackRate?: number;
  /** Resample the result to this rate in the worker (off the main thread); default: native rate. */
  outputRate?: number;
}
