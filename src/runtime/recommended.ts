/**
 * The models this machine should run (`parley models pull recommended`, `parley doctor`, and the
 * models a server allowed to download fetches on first need), chosen by RAM and CPU:
 * - recognition: SenseVoice-small int8 everywhere (words, language, emotion, events; fast on any
 *   x86-64 CPU; smaller than Moonshine base, the Moonshine model `auto` looks for);
 * - voices: Kokoro-82M int8 with ≥ 2 GiB, else one Piper voice;
 * - language model: Qwen2.5-1.5B-Instruct with ≥ 8 GiB, 4 cores and AVX2, else Qwen2.5-0.5B.
 */
import os from 'node:os';
import { cpuFlags } from '../engines/asr/whisper/cpu-features.js';
import type { ModelCache } from '../store/model-cache/cache.js';
import { entrySize } from '../store/model-cache/catalogue.js';

/** What the choice looks at. */
export interface Machine {
  /** Total RAM, bytes. */
  ramBytes: number;
  /** CPU cores available to the process. */
  cores: number;
  /** CPU flags from /proc/cpuinfo (lower case); empty where unknown. */
  cpuFlags: ReadonlySet<string>;
}

/** One recommended model. */
export interface Recommendation {
  /** Catalogue name. */
  model: string;
  /** The capability it serves: `transcription`, `speech`, `chat`. */
  capability: 'transcription' | 'speech' | 'chat';
  /** Why this one on this machine. */
  why: string;
  /** Download size (what it takes on disk), bytes; null when the catalogue does not know. */
  diskBytes: number | null;
  /** Resident memory once loaded, bytes: an estimate (see README "Recommended set"). */
  ramBytes: number;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** This machine. */
export function thisMachine(): Machine {
  return { ramBytes: os.totalmem(), cores: os.availableParallelism(), cpuFlags: cpuFlags() };
}

/** The SIMD features that matter to the engines, as `parley doctor` prints them. */
export function simdFeatures(flags: ReadonlySet<string>): { avx2: boolean; avx512: boolean; fma: boolean; f16c: boolean } {
  return { avx2: flags.has('avx2'), avx512: flags.has('avx512f'), fma: flags.has('fma'), f16c: flags.has('f16c') };
}

/**
 * Resident memory of a loaded model, estimated from its size: ONNX Runtime and llama.cpp map the
 * weights and add working buffers (int8 ONNX models measured at 1.3–1.6× their file; a GGUF at its
 * size plus a 4096-token KV cache), plus the speech host's own ~60 MB.
 */
function ramEstimate(capability: Recommendation['capability'], diskBytes: number | null): number {
  const size = diskBytes ?? 0;
  return capability === 'chat' ? Math.round(size * 1.1 + 120 * MIB) : Math.round(size * 1.5 + 60 * MIB);
}

/** The recommended set for `machine`, in the order they are pulled. */
export function recommendedModels(machine: Machine, cache: ModelCache): Recommendation[] {
  const size = (name: string): number | null => {
    const entry = cache.entries().find((e) => e.name === name);
    return entry ? entrySize(entry) : null;
  };
  const ram = `${(machine.ramBytes / GIB).toFixed(1)} GiB RAM`;
  const roomy = machine.ramBytes >= 2 * GIB;
  const big = machine.ramBytes >= 8 * GIB && machine.cores >= 4 && machine.cpuFlags.has('avx2');
  const picks: Array<Omit<Recommendation, 'diskBytes' | 'ramBytes'>> = [
    // SenseVoice on every machine: smaller than Moonshine base (the Moonshine `auto` finds), and it hears emotion.
    { model: 'sensevoice-small-int8', capability: 'transcription', why: `fast recognition with emotion and audio events (${ram})` },
    roomy
      ? { model: 'kokoro-82m-int8', capability: 'speech', why: `natural voices for all 13 OpenAI names (${ram})` }
      : { model: 'piper-en_US-amy-medium', capability: 'speech', why: `one natural English voice in little memory (only ${ram})` },
    big
      ? { model: 'qwen2.5-1.5b-instruct', capability: 'chat', why: `better answers: ${ram}, ${machine.cores} cores, AVX2` }
      : {
          model: 'qwen2.5-0.5b-instruct',
          capability: 'chat',
          why: `fast answers on ${machine.cores} cores${machine.cpuFlags.has('avx2') ? '' : ' without AVX2'} (${ram}; the 1.5B model wants ≥ 8 GiB, 4 cores, AVX2)`,
        },
  ];
  return picks.map((p) => {
    const diskBytes = size(p.model);
    return { ...p, diskBytes, ramBytes: ramEstimate(p.capability, diskBytes) };
  });
}
