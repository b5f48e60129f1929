/**
 * Typed access to the global `WebAssembly` API. The project's `lib` (ES2023, no DOM) and
 * @types/node 20 do not declare it, and a global declaration here could clash with one added
 * elsewhere later, so the subset the engines use is typed in this module only.
 */

/** A compiled module (`WebAssembly.Module`); can be sent to worker threads. */
export interface WasmModule {
  readonly [Symbol.toStringTag]: 'WebAssembly.Module';
}
/** A linear memory (`WebAssembly.Memory`). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
/** An instance (`WebAssembly.Instance`). */
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
/** An import object: module name → import name → value. */
export type WasmImports = Record<string, Record<string, unknown>>;
/** One import of a module. */
export interface WasmImportDescriptor {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports?: WasmImports): Promise<WasmInstance>;
  Module: { new (bytes: Uint8Array): WasmModule; imports(module: WasmModule): WasmImportDescriptor[] };
  Instance: new (module: WasmModule, imports?: WasmImports) => WasmInstance;
  Memory: abstract new (...args: never[]) => WasmMemory;
}

/** The global `WebAssembly`, typed. */
export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
