/**
 * A minimal WASI preview1 host with an in-memory file system, enough for a command module such
 * as flite: arguments, clocks, stdout/stderr capture, and files under one preopened root `/`.
 *
 * Why not `node:wasi`: on Node 20 it caches the module's memory when the instance starts and keeps
 * using that pointer after `memory.grow`, so a synthesis that grows memory (any long passage)
 * writes into freed native memory — a segfault of the whole process, or a silently dropped output
 * file, in any thread (https://github.com/Nimblesite/osprey/issues/202 traces it; reproduced here
 * with flite and `duration_stretch=40`). This host reads `memory.buffer` afresh on every call, so a
 * misbehaving module can only trap, which is an ordinary JavaScript exception.
 *
 * Spec: https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md
 */
import { type WasmImports, type WasmMemory, type WasmModule, wasm } from '../wasm.js';

const ERRNO = {
  SUCCESS: 0,
  BADF: 8,
  EXIST: 20,
  INVAL: 28,
  ISDIR: 31,
  NOENT: 44,
  NOSPC: 51,
  NOSYS: 52,
  NOTDIR: 54,
  SPIPE: 70,
} as const;

const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
const OFLAGS_CREAT = 1;
const OFLAGS_DIRECTORY = 2;
const OFLAGS_EXCL = 4;
const OFLAGS_TRUNC = 8;
const FDFLAGS_APPEND = 1;
/** Every right: nothing here is enforced. */
const ALL_RIGHTS = 0x1fff_ffffn;
/** stdout/stderr look like terminals to libc (no seek/tell rights), which keeps them line-buffered. */
const TTY_RIGHTS = 0x40n | 0x8n; // fd_write | fd_fdstat_set_flags

/** Thrown by `proc_exit` to unwind out of `_start`. */
class ProcExit {
  constructor(readonly code: number) {}
}

/** A growable byte buffer, the content of one file. */
class MemFile {
  data = new Uint8Array(0);
  size = 0;

  /** Bytes `[0, size)`. */
  bytes(): Uint8Array {
    return this.data.subarray(0, this.size);
  }

  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = new Uint8Array(Math.max(n, this.data.length * 2, 4096));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
}

type Handle =
  | { kind: 'dir'; preopen: string | null }
  | { kind: 'file'; file: MemFile; pos: number; append: boolean }
  | { kind: 'out'; chunks: Uint8Array[]; bytes: number }
  | { kind: 'in' };

/** Options of {@link MemoryWasi}. */
export interface MemoryWasiOptions {
  /** argv, including argv[0]. */
  args: readonly string[];
  /** Files present at start, by absolute path (`/input.txt`). */
  files?: Readonly<Record<string, Uint8Array>>;
  /** Most bytes any one file may hold (default 512 MiB); writes past it fail with ENOSPC. */
  maxFileBytes?: number;
  /** Most bytes of stdout/stderr kept (default 64 KiB each); the rest is dropped. */
  maxOutputBytes?: number;
}

/** What a finished run left behind. */
export interface MemoryWasiResult {
  /** The exit code (0 when `_start` returned normally). */
  exitCode: number;
  /** Captured standard output, UTF-8. */
  stdout: string;
  /** Captured standard error, UTF-8. */
  stderr: string;
}

/** One run of a WASI command module; create one per run. */
export class MemoryWasi {
  private readonly files = new Map<string, MemFile>();
  private readonly fds = new Map<number, Handle>();
  private readonly args: Uint8Array[];
  private readonly maxFileBytes: number;
  private readonly maxOutputBytes: number;
  private memory: WasmMemory | null = null;
  private nextFd = 4;

  constructor(options: MemoryWasiOptions) {
    const enc = new TextEncoder();
    this.args = options.args.map((a) => enc.encode(`${a}\0`));
    this.maxFileBytes = options.maxFileBytes ?? 512 * 1024 * 1024;
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    for (const [path, content] of Object.entries(options.files ?? {})) {
      const f = new MemFile();
      f.ensure(content.length);
      f.data.set(content);
      f.size = content.length;
      this.files.set(normalize(path), f);
    }
    this.fds.set(0, { kind: 'in' });
    this.fds.set(1, { kind: 'out', chunks: [], bytes: 0 });
    this.fds.set(2, { kind: 'out', chunks: [], bytes: 0 });
    this.fds.set(3, { kind: 'dir', preopen: '/' });
  }

  /** The content of a file after the run, or undefined when it was never written. */
  readFile(path: string): Uint8Array | undefined {
    return this.files.get(normalize(path))?.bytes();
  }

  /** Instantiates `module` with this host and runs its `_start`; a trap throws. */
  run(module: WasmModule): MemoryWasiResult {
    const imports = this.importsFor(module);
    const instance = new wasm.Instance(module, imports);
    const memory = instance.exports.memory;
    if (!(memory instanceof wasm.Memory)) throw new Error('the module exports no memory');
    this.memory = memory;
    const start = instance.exports._start;
    if (typeof start !== 'function') throw new Error('the module exports no _start');
    let exitCode = 0;
    try {
      (start as () => void)();
    } catch (e) {
      if (e instanceof ProcExit) exitCode = e.code;
      else throw e;
    }
    return { exitCode, stdout: this.output(1), stderr: this.output(2) };
  }

  private output(fd: number): string {
    const h = this.fds.get(fd);
    if (h?.kind !== 'out') return '';
    return Buffer.concat(h.chunks).toString('utf8');
  }

  /** The import object: the calls below for what the module imports, ENOSYS for the rest. */
  private importsFor(module: WasmModule): WasmImports {
    const impl = this.calls();
    const ns: Record<string, (...args: never[]) => unknown> = {};
    for (const imp of wasm.Module.imports(module)) {
      if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function') continue;
      ns[imp.name] = impl[imp.name] ?? (() => ERRNO.NOSYS);
    }
    return { wasi_snapshot_preview1: ns };
  }

  private view(): DataView {
    return new DataView(this.memory!.buffer);
  }

  private bytesAt(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory!.buffer, ptr, len);
  }

  private calls(): Record<string, (...args: never[]) => unknown> {
    return {
      args_sizes_get: (argcPtr: number, bufSizePtr: number) => {
        const v = this.view();
        v.setUint32(argcPtr, this.args.length, true);
        v.setUint32(
          bufSizePtr,
          this.args.reduce((n, a) => n + a.length, 0),
          true,
        );
        return ERRNO.SUCCESS;
      },
      args_get: (argvPtr: number, bufPtr: number) => {
        const v = this.view();
        let at = bufPtr;
        this.args.forEach((a, i) => {
          v.setUint32(argvPtr + 4 * i, at, true);
          this.bytesAt(at, a.length).set(a);
          at += a.length;
        });
        return ERRNO.SUCCESS;
      },
      environ_sizes_get: (countPtr: number, sizePtr: number) => {
        const v = this.view();
        v.setUint32(countPtr, 0, true);
        v.setUint32(sizePtr, 0, true);
        return ERRNO.SUCCESS;
      },
      environ_get: () => ERRNO.SUCCESS,
      clock_time_get: (id: number, _precision: bigint, outPtr: number) => {
        const ns = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
        this.view().setBigUint64(outPtr, ns, true);
        return ERRNO.SUCCESS;
      },
      random_get: (ptr: number, len: number) => {
        crypto.getRandomValues(this.bytesAt(ptr, len));
        return ERRNO.SUCCESS;
      },
      fd_close: (fd: number) => {
        if (!this.fds.has(fd)) return ERRNO.BADF;
        if (fd > 3) this.fds.delete(fd); // the standard streams and the root stay
        return ERRNO.SUCCESS;
      },
      fd_fdstat_get: (fd: number, outPtr: number) => {
        const h = this.fds.get(fd);
        if (!h) return ERRNO.BADF;
        const v = this.view();
        const type = h.kind === 'dir' ? FILETYPE_DIRECTORY : h.kind === 'file' ? FILETYPE_REGULAR_FILE : FILETYPE_CHARACTER_DEVICE;
        const rights = h.kind === 'out' || h.kind === 'in' ? TTY_RIGHTS : ALL_RIGHTS;
        v.setUint8(outPtr, type);
        v.setUint16(outPtr + 2, h.kind === 'file' && h.append ? FDFLAGS_APPEND : 0, true);
        v.setBigUint64(outPtr + 8, rights, true);
        v.setBigUint64(outPtr + 16, rights, true);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_set_flags: (fd: number) => (this.fds.has(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_prestat_get: (fd: number, outPtr: number) => {
        const h = this.fds.get(fd);
        if (h?.kind !== 'dir' || h.preopen === null) return ERRNO.BADF;
        const v = this.view();
        v.setUint8(outPtr, 0);
        v.setUint32(outPtr + 4, Buffer.byteLength(h.preopen), true);
        return ERRNO.SUCCESS;
      },
      fd_prestat_dir_name: (fd: number, pathPtr: number, len: number) => {
        const h = this.fds.get(fd);
        if (h?.kind !== 'dir' || h.preopen === null) return ERRNO.BADF;
        this.bytesAt(pathPtr, len).set(Buffer.from(h.preopen).subarray(0, len));
        return ERRNO.SUCCESS;
      },
      fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
        const h = this.fds.get(fd);
        if (!h) return ERRNO.BADF;
        if (h.kind === 'dir' || h.kind === 'in') return ERRNO.BADF;
        const v = this.view();
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true);
          const len = v.getUint32(iovs + 8 * i + 4, true);
          const chunk = this.bytesAt(ptr, len);
          if (h.kind === 'out') {
            const room = Math.max(0, this.maxOutputBytes - h.bytes);
            if (room > 0) h.chunks.push(chunk.slice(0, room));
            h.bytes += Math.min(room, len);
          } else {
            if (h.append) h.pos = h.file.size;
            const end = h.pos + len;
            if (end > this.maxFileBytes) return ERRNO.NOSPC;
            h.file.ensure(end);
            h.file.data.set(chunk, h.pos);
            h.pos = end;
            if (end > h.file.size) h.file.size = end;
          }
          total += len;
        }
        v.setUint32(nwrittenPtr, total, true);
        return ERRNO.SUCCESS;
      },
      fd_read: (fd: number, iovs: number, iovsLen: number, nreadPtr: number) => {
        const h = this.fds.get(fd);
        if (!h) return ERRNO.BADF;
        const v = this.view();
        if (h.kind === 'in') {
          v.setUint32(nreadPtr, 0, true); // stdin is empty
          return ERRNO.SUCCESS;
        }
        if (h.kind !== 'file') return ERRNO.BADF;
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true);
          const len = v.getUint32(iovs + 8 * i + 4, true);
          const n = Math.max(0, Math.min(len, h.file.size - h.pos));
          this.bytesAt(ptr, n).set(h.file.data.subarray(h.pos, h.pos + n));
          h.pos += n;
          total += n;
          if (n < len) break;
        }
        v.setUint32(nreadPtr, total, true);
        return ERRNO.SUCCESS;
      },
      fd_seek: (fd: number, offset: bigint, whence: number, newOffsetPtr: number) => {
        const h = this.fds.get(fd);
        if (!h) return ERRNO.BADF;
        if (h.kind !== 'file') return ERRNO.SPIPE;
        const base = whence === 0 ? 0 : whence === 1 ? h.pos : whence === 2 ? h.file.size : NaN;
        const next = base + Number(offset);
        if (!Number.isFinite(next) || next < 0) return ERRNO.INVAL;
        h.pos = next;
        this.view().setBigUint64(newOffsetPtr, BigInt(next), true);
        return ERRNO.SUCCESS;
      },
      fd_tell: (fd: number, outPtr: number) => {
        const h = this.fds.get(fd);
        if (!h) return ERRNO.BADF;
        if (h.kind !== 'file') return ERRNO.SPIPE;
        this.view().setBigUint64(outPtr, BigInt(h.pos), true);
        return ERRNO.SUCCESS;
      },
      path_open: (
        dirFd: number,
        _dirflags: number,
        pathPtr: number,
        pathLen: number,
        oflags: number,
        _rightsBase: bigint,
        _rightsInheriting: bigint,
        fdflags: number,
        fdOutPtr: number,
      ) => {
        const dir = this.fds.get(dirFd);
        if (!dir) return ERRNO.BADF;
        if (dir.kind !== 'dir') return ERRNO.NOTDIR;
        const path = normalize(Buffer.from(this.bytesAt(pathPtr, pathLen)).toString('utf8'));
        let handle: Handle;
        if (path === '/') {
          if (oflags & (OFLAGS_CREAT | OFLAGS_TRUNC)) return ERRNO.ISDIR;
          handle = { kind: 'dir', preopen: null };
        } else {
          if (oflags & OFLAGS_DIRECTORY) return ERRNO.NOTDIR;
          let file = this.files.get(path);
          if (file && oflags & OFLAGS_CREAT && oflags & OFLAGS_EXCL) return ERRNO.EXIST;
          if (!file) {
            if (!(oflags & OFLAGS_CREAT)) return ERRNO.NOENT;
            file = new MemFile();
            this.files.set(path, file);
          }
          if (oflags & OFLAGS_TRUNC) file.size = 0;
          handle = { kind: 'file', file, pos: 0, append: (fdflags & FDFLAGS_APPEND) !== 0 };
        }
        const fd = this.nextFd++;
        this.fds.set(fd, handle);
        this.view().setUint32(fdOutPtr, fd, true);
        return ERRNO.SUCCESS;
      },
      proc_exit: (code: number) => {
        throw new ProcExit(code);
      },
    };
  }
}

/** `/a/./b` and `a/b` → `/a/b`; `..` cannot climb above the root. */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}
