/** The one export of the `espeak-ng` npm package: an Emscripten MODULARIZE factory running the CLI. */
declare module 'espeak-ng' {
  /** The subset of Emscripten's module object Parley uses. */
  export interface EspeakModule {
    FS: {
      readFile(path: string): Uint8Array;
      readFile(path: string, opts: { encoding: 'utf8' }): string;
      writeFile(path: string, data: string | Uint8Array): void;
      readdir(path: string): string[];
    };
  }
  /** Module settings; `arguments` are the CLI's argv after argv[0]. */
  export interface EspeakModuleArgs {
    arguments?: string[];
    thisProgram?: string;
    print?: (text: string) => void;
    printErr?: (text: string) => void;
    quit?: (status: number, toThrow: unknown) => void;
    preRun?: ((module: EspeakModule) => void)[];
    instantiateWasm?: (imports: object, done: (instance: object) => void) => object;
  }
  /** Instantiates the module, runs `main(arguments)`, resolves when it returned. */
  export default function ESpeakNg(args?: EspeakModuleArgs): Promise<EspeakModule>;
}
