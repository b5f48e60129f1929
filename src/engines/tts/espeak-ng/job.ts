/** Messages between the espeak-ng engine and its workers (types and constants only). */
import type { WasmModule } from '../wasm.js';

/** Where the text is put and where espeak-ng writes, inside its in-memory file system. */
export const INPUT_PATH = '/in.txt';
export const OUTPUT_PATH = '/out.wav';
/** espeak-ng's data folder inside the module (it is embedded in the .wasm). */
export const DATA_DIR = '/usr/local/share/espeak-ng-data';

/** What each espeak-ng worker receives once. */
export interface EspeakWorkerData {
  /** espeak-ng.wasm, compiled once by the engine and shared by every worker. */
  module: WasmModule;
}

/** A job: synthesise `text` with `args`, or list the voices. */
export type EspeakJob = { kind: 'speak'; args: string[]; text: string } | { kind: 'inventory' };

/** What an inventory job returns. */
export interface EspeakInventory {
  /** The output of `espeak-ng --voices`. */
  voiceTable: string;
  /** Variant files: name → content. */
  variantFiles: Record<string, string>;
}
