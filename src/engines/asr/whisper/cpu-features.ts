/**
 * Which SIMD instructions the whisper.cpp build uses, and whether this machine can run it.
 *
 * The prebuilt `@napi-rs/whisper` binary is compiled for AVX2 + FMA + F16C (no run-time
 * dispatch): on a CPU without them it dies with SIGILL, and on glibc < 2.35 it does not load.
 * Both are checked before the host starts, so the user reads what is wrong instead of a crash.
 *
 * The binding exposes no system-info call, so "which SIMD is compiled in" is read from the
 * binary itself: ggml's `ggml_cpu_has_<feature>()` functions are compile-time constants
 * (`mov $1,%eax; ret` or `xor %eax,%eax; ret`), and the symbol table says where they are. That is
 * the same answer whisper.cpp's own `whisper_print_system_info()` would print.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

/** Instructions the prebuilt linux-x64 binding needs (`-mavx2 -mfma -mf16c`). */
export const REQUIRED_CPU_FLAGS = ['avx2', 'fma', 'f16c'] as const;

/** Oldest glibc the prebuilt linux-x64-gnu binding links against (its highest GLIBC_ symbol version). */
export const MIN_GLIBC = '2.35';

/** The binding's native file for this platform, or undefined when it is not installed. */
export function whisperBindingFile(): string | undefined {
  const pkg =
    process.platform === 'linux' && process.arch === 'x64'
      ? '@napi-rs/whisper-linux-x64-gnu/whisper.linux-x64-gnu.node'
      : process.platform === 'darwin'
        ? `@napi-rs/whisper-darwin-${process.arch}/whisper.darwin-${process.arch}.node`
        : undefined;
  if (!pkg) return undefined;
  try {
    return createRequire(import.meta.url).resolve(pkg);
  } catch {
    return undefined;
  }
}

/** CPU flags the kernel reports (`/proc/cpuinfo`), lower case; empty where unknown (not Linux). */
export function cpuFlags(cpuinfo?: string): Set<string> {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return new Set();
    }
  }
  const line = /^flags\s*:(.*)$/m.exec(text);
  return new Set((line?.[1] ?? '').trim().split(/\s+/).filter(Boolean));
}

/** glibc's version at run time (`2.36`), undefined on musl or other systems. */
export function glibcVersion(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}

/** `a < b` for dotted versions. */
function olderThan(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return false;
}

/**
 * Why the prebuilt binding cannot run here, or undefined when it can. Checks the platform, glibc
 * and (on x86-64 Linux) the CPU flags. `facts` overrides what is read from the machine (tests).
 */
export function whisperPlatformProblem(facts: { platform?: string; arch?: string; glibc?: string | undefined; flags?: Set<string> } = {}): string | undefined {
  const platform = facts.platform ?? process.platform;
  const arch = facts.arch ?? process.arch;
  if (platform === 'darwin') return undefined;
  if (platform !== 'linux' || arch !== 'x64') {
    return `@napi-rs/whisper has no prebuilt binary for ${platform}-${arch} (it ships linux-x64-gnu, darwin-x64 and darwin-arm64)`;
  }
  const glibc = 'glibc' in facts ? facts.glibc : glibcVersion();
  if (glibc === undefined) return '@napi-rs/whisper needs glibc (linux-x64-gnu); this system has none (musl?)';
  if (olderThan(glibc, MIN_GLIBC)) return `@napi-rs/whisper needs glibc ≥ ${MIN_GLIBC}; this system has ${glibc} (Debian 12, Ubuntu 22.04 or newer)`;
  const flags = facts.flags ?? cpuFlags();
  // No /proc/cpuinfo (a sandbox): let the host try rather than refuse on no evidence.
  if (flags.size === 0) return undefined;
  const missing = REQUIRED_CPU_FLAGS.filter((f) => !flags.has(f));
  if (missing.length > 0)
    return `the prebuilt whisper.cpp needs a CPU with ${REQUIRED_CPU_FLAGS.join(', ').toUpperCase()}; this one lacks ${missing.join(', ').toUpperCase()}`;
  return undefined;
}

/**
 * The value a tiny x86-64 function returns when its body is a constant: `[endbr64] mov $imm,%eax
 * ret` or `[endbr64] xor %eax,%eax ret`. Undefined for anything else.
 */
export function constantReturn(code: Uint8Array): number | undefined {
  let i = 0;
  if (code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && code[3] === 0xfa) i = 4; // endbr64
  if (code[i] === 0xb8 && code[i + 5] === 0xc3) return (code[i + 1]! | (code[i + 2]! << 8) | (code[i + 3]! << 16) | (code[i + 4]! << 24)) >>> 0;
  if (code[i] === 0x31 && code[i + 1] === 0xc0 && code[i + 2] === 0xc3) return 0;
  if (code[i] === 0x33 && code[i + 1] === 0xc0 && code[i + 2] === 0xc3) return 0;
  return undefined;
}

/**
 * SIMD features compiled into a ggml build, from the `ggml_cpu_has_*` functions in an x86-64 ELF
 * shared object (symbol table or dynamic symbols). Keys are the feature names (`avx2`, `f16c`,
 * `avx512`…), values whether the build uses them. Features whose function was optimised away or
 * is not a constant are absent. Throws for a file that is not a 64-bit little-endian ELF.
 */
export function compiledSimdFeatures(file: string): Record<string, boolean> {
  const elf = fs.readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return {
      type: elf.readUInt32LE(o + 4),
      addr: Number(elf.readBigUInt64LE(o + 0x10)),
      offset: Number(elf.readBigUInt64LE(o + 0x18)),
      size: Number(elf.readBigUInt64LE(o + 0x20)),
      link: elf.readUInt32LE(o + 0x28),
      entsize: Number(elf.readBigUInt64LE(o + 0x38)),
    };
  });
  const SHT_PROGBITS = 1;
  const SHT_SYMTAB = 2;
  const SHT_DYNSYM = 11;
  const PREFIX = 'ggml_cpu_has_';
  const features: Record<string, boolean> = {};
  for (const table of sections.filter((s) => s.type === SHT_SYMTAB || s.type === SHT_DYNSYM)) {
    const strings = sections[table.link];
    if (!strings || table.entsize < 24) continue;
    for (let o = table.offset; o + 24 <= table.offset + table.size; o += table.entsize) {
      const nameAt = strings.offset + elf.readUInt32LE(o);
      const end = elf.indexOf(0, nameAt);
      if (end < 0 || end - nameAt <= PREFIX.length || elf.toString('latin1', nameAt, nameAt + PREFIX.length) !== PREFIX) continue;
      const name = elf.toString('latin1', nameAt + PREFIX.length, end).replace(/@.*$/, '');
      if (name in features) continue;
      const value = Number(elf.readBigUInt64LE(o + 8));
      const home = sections.find((s) => s.type === SHT_PROGBITS && value >= s.addr && value < s.addr + s.size);
      if (!home) continue;
      const at = home.offset + (value - home.addr);
      const result = constantReturn(elf.subarray(at, at + 16));
      if (result !== undefined) features[name] = result !== 0;
    }
  }
  return features;
}
