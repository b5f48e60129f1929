/**
 * `parley doctor`: for each capability the engine that will serve it and why, what is missing,
 * the CPU features seen, the safety layers' state, and the exact command that fixes each gap.
 * It loads no model: everything comes from engine probes and the model cache.
 */
import { Command } from 'commander';
import type { Config } from '../config/index.js';
import { type CapabilityStatus, describeCapabilities, describeSafety, type SafetyLayerStatus } from '../runtime/model-status.js';
import { type Machine, type Recommendation, recommendedModels, simdFeatures, thisMachine } from '../runtime/recommended.js';
import { ModelCache } from '../store/model-cache/cache.js';
import { configFromProgram, reportFailure } from './main.js';

/** Names as the doctor prints them. */
const LABELS: Record<CapabilityStatus['capability'], string> = {
  transcription: 'asr',
  speech: 'tts',
  chat: 'llm',
  vad: 'vad',
  voice_analysis: 'voice analysis',
};

/** Everything the doctor found, as `--json` prints it. */
export interface DoctorReport {
  machine: { cores: number; ramBytes: number; avx2: boolean; avx512: boolean; fma: boolean; f16c: boolean; source: string };
  modelsDir: string;
  offline: boolean;
  capabilities: CapabilityStatus[];
  safety: SafetyLayerStatus[];
  recommended: Recommendation[];
  /** Every fix command, once each, in order. */
  fixes: string[];
}

/** Examines the configuration and the machine. */
export async function examine(config: Config, machine: Machine = thisMachine()): Promise<DoctorReport> {
  const cache = new ModelCache(config.modelsDir!, { offline: config.offline, baseUrl: config.modelsMirror });
  const [capabilities, safety] = await Promise.all([describeCapabilities(config, cache), describeSafety(config, cache)]);
  const fixes = [...new Set([...capabilities.flatMap((c) => c.fix), ...safety.flatMap((s) => s.fix)])];
  return {
    machine: {
      cores: machine.cores,
      ramBytes: machine.ramBytes,
      ...simdFeatures(machine.cpuFlags),
      source: machine.cpuFlags.size > 0 ? '/proc/cpuinfo' : 'unknown',
    },
    modelsDir: config.modelsDir!,
    offline: config.offline,
    capabilities,
    safety,
    recommended: recommendedModels(machine, cache),
    fixes,
  };
}

const yes = (b: boolean): string => (b ? 'yes' : 'no');
const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
const mb = (bytes: number | null): string => (bytes === null ? '?' : `${Math.round(bytes / 1024 ** 2)} MiB`);

/** The report as text. */
export function renderDoctor(r: DoctorReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `CPU: ${m.cores} cores; AVX2 ${yes(m.avx2)}, AVX-512 ${yes(m.avx512)}, FMA ${yes(m.fma)}, F16C ${yes(m.f16c)} (from ${m.source}); RAM ${gib(m.ramBytes)}`,
  );
  out.push(`Models folder: ${r.modelsDir}${r.offline ? ' (offline: nothing is downloaded)' : ''}`, '');
  for (const c of r.capabilities) {
    const model = c.model ? ` (${c.model})` : '';
    out.push(`${LABELS[c.capability]}: ${c.engine}${model} — ${c.state}`);
    out.push(`  why: ${c.reason}`);
    out.push(c.state === 'missing' ? `  missing: ${c.detail}` : `  ${c.detail}`);
    for (const f of c.fix) out.push(`  fix: ${f}`);
    for (const u of c.upgrades) out.push(`  better: parley models pull ${u.model} — ${u.note}`);
  }
  out.push('', 'safety layers:');
  for (const s of r.safety) {
    out.push(`  ${s.layer}: ${s.state} — ${s.detail}`);
    for (const f of s.fix) out.push(`    fix: ${f}`);
  }
  out.push('', 'recommended for this machine (`parley models pull recommended`):');
  for (const rec of r.recommended) out.push(`  ${rec.model} (${rec.capability}): ${mb(rec.diskBytes)} on disk, ~${mb(rec.ramBytes)} RAM — ${rec.why}`);
  out.push('');
  out.push(r.fixes.length === 0 ? 'Nothing is missing.' : `To fix what is missing:\n${r.fixes.map((f) => `  ${f}`).join('\n')}`);
  return `${out.join('\n')}\n`;
}

/** `parley doctor`. */
export function doctorCommand(program: Command, io: { stdout?: NodeJS.WritableStream } = {}): Command {
  const stdout = io.stdout ?? process.stdout;
  return new Command('doctor')
    .description('say which engine will serve each capability and why, what is missing, the CPU features seen, and the command that fixes each gap')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nLoads no model: it reads the configuration (the same settings as `parley serve`), probes the engines and the model cache.\n' +
        'Capabilities: asr, tts, llm, vad, voice analysis; then the safety layers (word list, classifier, judge, watermark).',
    )
    .action(async (flags: { json?: boolean }) => {
      try {
        const report = await examine(configFromProgram(program));
        stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
      } catch (error) {
        reportFailure(error);
      }
    });
}
