/**
 * Worker thread of the espeak-ng engine: a fresh instance of the Emscripten build per job (the
 * compiled module is shared), the text handed over as a file, the WAV read back from its memory FS.
 */
import type { PcmAudio } from '../../../audio/types.js';
import { type WasmImports, wasm } from '../wasm.js';
import { pcm16WavToPcm } from '../wav-output.js';
import { serveJobs } from '../worker-pool/serve.js';
import { DATA_DIR, type EspeakInventory, type EspeakJob, type EspeakWorkerData, INPUT_PATH, OUTPUT_PATH } from './job.js';

interface Run {
  module: import('espeak-ng').EspeakModule;
  status: number;
  stdout: string;
  stderr: string;
}

serveJobs<EspeakJob, PcmAudio | EspeakInventory>((data) => {
  const { module } = data as EspeakWorkerData;
  const factory = import('espeak-ng').then((m) => m.default);

  async function run(args: string[], text?: string): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    let status = 0;
    const instance = await (await factory)({
      arguments: args,
      thisProgram: 'espeak-ng',
      print: (s) => out.push(s),
      printErr: (s) => err.push(s),
      // Emscripten's default sets process.exitCode; keep the status to ourselves.
      quit: (code, toThrow) => {
        status = code;
        throw toThrow;
      },
      preRun: [(m) => (text === undefined ? undefined : m.FS.writeFile(INPUT_PATH, text))],
      // Reuse the compiled module. Emscripten wants the instance delivered asynchronously.
      instantiateWasm: (imports, done) => {
        void wasm.instantiate(module, imports as WasmImports).then((i) => done(i));
        return {};
      },
    });
    return { module: instance, status, stdout: out.join('\n'), stderr: err.filter((l) => !l.includes('keepRuntimeAlive')).join('\n') };
  }

  return async (job) => {
    if (job.kind === 'inventory') {
      const r = await run(['--voices']);
      const dir = `${DATA_DIR}/voices/!v`;
      const variantFiles: Record<string, string> = {};
      for (const name of r.module.FS.readdir(dir)) {
        if (name === '.' || name === '..') continue;
        variantFiles[name] = r.module.FS.readFile(`${dir}/${name}`, { encoding: 'utf8' });
      }
      return { result: { voiceTable: r.stdout, variantFiles } };
    }
    const r = await run([...job.args, '-w', OUTPUT_PATH, '-f', INPUT_PATH], job.text);
    let wav: Uint8Array;
    try {
      wav = r.module.FS.readFile(OUTPUT_PATH);
    } catch {
      throw new Error(`espeak-ng exited with code ${r.status} and no output: ${r.stderr.trim().slice(0, 500)}`);
    }
    if (r.status !== 0) throw new Error(`espeak-ng exited with code ${r.status}: ${r.stderr.trim().slice(0, 500)}`);
    const pcm = pcm16WavToPcm(wav);
    return { result: pcm, transfer: [pcm.samples.buffer as ArrayBuffer] };
  };
});
