/**
 * The whisper.cpp build has SIMD: read from the installed binary itself, not from a speed
 * measurement. The binding has no system-info call; ggml's `ggml_cpu_has_*` functions are
 * compile-time constants, and that is what whisper.cpp's own system info prints.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compiledSimdFeatures, constantReturn, cpuFlags, REQUIRED_CPU_FLAGS, whisperBindingFile, whisperPlatformProblem } from './cpu-features.js';

describe('the installed whisper.cpp build', () => {
  test('is compiled with AVX2 and F16C on an x86-64 Linux machine whose CPU has them', (t) => {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      t.skip(`skipped: this check reads an x86-64 Linux binary; this is ${process.platform}-${process.arch}`);
      return;
    }
    if (!cpuFlags().has('avx2')) {
      t.skip('skipped: this CPU has no AVX2, so the prebuilt whisper.cpp cannot run here (the engine reports engine_unavailable)');
      return;
    }
    const file = whisperBindingFile();
    assert.ok(file, '@napi-rs/whisper-linux-x64-gnu is installed');
    const features = compiledSimdFeatures(file);
    t.diagnostic(`compiled in: ${JSON.stringify(features)}`);
    assert.equal(features.avx2, true, 'ggml_cpu_has_avx2() returns 1');
    assert.equal(features.f16c, true, 'ggml_cpu_has_f16c() returns 1');
  });

  test('runs on this machine (glibc and CPU flags are sufficient)', (t) => {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      t.skip(`skipped: ${process.platform}-${process.arch}`);
      return;
    }
    if (!REQUIRED_CPU_FLAGS.every((f) => cpuFlags().has(f))) {
      t.skip(`skipped: this CPU lacks one of ${REQUIRED_CPU_FLAGS.join(', ')}`);
      return;
    }
    assert.equal(whisperPlatformProblem(), undefined);
  });
});

describe('reading compiled-in features', () => {
  test('decodes the constant functions ggml compiles: mov $1 / xor eax, with or without endbr64', () => {
    assert.equal(constantReturn(Uint8Array.from([0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3])), 1);
    assert.equal(constantReturn(Uint8Array.from([0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3])), 1);
    assert.equal(constantReturn(Uint8Array.from([0x31, 0xc0, 0xc3, 0x66, 0x2e])), 0);
    assert.equal(constantReturn(Uint8Array.from([0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xc0, 0xc3])), 0);
    // a function that tests the CPU at run time is not a constant
    assert.equal(constantReturn(Uint8Array.from([0x55, 0x48, 0x89, 0xe5, 0x0f, 0xa2])), undefined);
  });

  test('refuses a file that is not an ELF binary', () => {
    assert.throws(() => compiledSimdFeatures(new URL(import.meta.url).pathname), /not a 64-bit little-endian ELF/);
  });
});

describe('where the prebuilt binding cannot run', () => {
  const good = new Set(['sse4_2', 'avx', 'avx2', 'fma', 'f16c']);

  test('accepts x86-64 Linux with glibc 2.35+ and AVX2/FMA/F16C, and macOS', () => {
    assert.equal(whisperPlatformProblem({ platform: 'linux', arch: 'x64', glibc: '2.36', flags: good }), undefined);
    assert.equal(whisperPlatformProblem({ platform: 'linux', arch: 'x64', glibc: '2.35', flags: good }), undefined);
    assert.equal(whisperPlatformProblem({ platform: 'darwin', arch: 'arm64' }), undefined);
  });

  test('names an older glibc, a musl system, a CPU without AVX2, and other platforms', () => {
    assert.match(whisperPlatformProblem({ platform: 'linux', arch: 'x64', glibc: '2.31', flags: good }) ?? '', /glibc ≥ 2\.35.*2\.31/);
    assert.match(whisperPlatformProblem({ platform: 'linux', arch: 'x64', glibc: undefined, flags: good }) ?? '', /musl/);
    const noAvx2 = new Set(['sse4_2', 'avx']);
    assert.match(whisperPlatformProblem({ platform: 'linux', arch: 'x64', glibc: '2.36', flags: noAvx2 }) ?? '', /lacks AVX2, FMA, F16C/);
    assert.match(whisperPlatformProblem({ platform: 'linux', arch: 'arm64', glibc: '2.36', flags: good }) ?? '', /no prebuilt binary for linux-arm64/);
    assert.match(whisperPlatformProblem({ platform: 'win32', arch: 'x64' }) ?? '', /win32-x64/);
  });

  test('reads the CPU flags line of /proc/cpuinfo', () => {
    const flags = cpuFlags('processor\t: 0\nflags\t\t: fpu sse2 avx2 fma f16c\nbugs\t\t: spectre\n');
    assert.deepEqual([...flags], ['fpu', 'sse2', 'avx2', 'fma', 'f16c']);
    assert.equal(cpuFlags('no flags here').size, 0);
  });
});
