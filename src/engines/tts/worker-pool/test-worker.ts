/** A worker for pool.test.ts: jobs that succeed, hang, throw, trap in WebAssembly, or kill the worker. */
import { wasm } from '../wasm.js';
import { serveJobs } from './serve.js';

/** A job of the test worker. */
export type TestJob =
  | { kind: 'echo'; value: string }
  | { kind: 'spin'; ms: number }
  | { kind: 'throw'; message: string }
  | { kind: 'trap' }
  | { kind: 'exit' }
  | { kind: 'bytes'; n: number };

// (module (func (export "boom") unreachable))
const TRAP_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 0x62, 0x6f, 0x6f, 0x6d,
  0x00, 0x00, 0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,
]);

serveJobs<TestJob, unknown>((data) => (job) => {
  switch (job.kind) {
    case 'echo':
      return { result: { value: job.value, data } };
    case 'spin': {
      const end = Date.now() + job.ms;
      while (Date.now() < end) {
        // busy, like a long synchronous WebAssembly call
      }
      return { result: 'spun' };
    }
    case 'throw':
      throw new Error(job.message);
    case 'trap': {
      const instance = new wasm.Instance(new wasm.Module(TRAP_WASM));
      (instance.exports.boom as () => void)();
      return { result: 'unreachable' };
    }
    case 'exit':
      return process.exit(3);
    case 'bytes': {
      const a = new Float32Array(job.n).fill(0.5);
      return { result: a, transfer: [a.buffer as ArrayBuffer] };
    }
  }
});
