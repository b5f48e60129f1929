/**
 * What `parley serve` says when it starts: the playground's URL, and per capability the engine
 * serving it and what to pull for a better one; plus, for a capability with no model, the one
 * log line saying what to pull.
 */
import type { Config } from '../config/index.js';
import type { ModelCache } from '../store/model-cache/cache.js';
import { type CapabilityStatus, describeCapabilities } from './model-status.js';

const NAMES: Record<CapabilityStatus['capability'], string> = {
  transcription: 'speech recognition (asr)',
  speech: 'speech synthesis (tts)',
  chat: 'language model (llm)',
  vad: 'voice activity (vad)',
  voice_analysis: 'voice analysis',
};

/** The start-up report: `summary` lines for the console, `missing` lines for the log (one per capability without a model). */
export async function startupReport(config: Config, cache: ModelCache, address: string): Promise<{ summary: string[]; missing: string[] }> {
  const capabilities = await describeCapabilities(config, cache);
  const summary = [`Parley is serving on ${address} — open ${address}/ for the playground`];
  const missing: string[] = [];
  for (const c of capabilities) {
    const model = c.model ? ` (${c.model})` : '';
    if (c.state === 'missing') {
      const fetch = config.offline ? '' : '; or let the server fetch it on first need';
      const line = `${NAMES[c.capability]}: no model for ${c.engine} — run \`${c.fix.join('` and `')}\`${c.pull.length > 0 ? fetch : ''}`;
      summary.push(`  ${line}`);
      missing.push(line);
      continue;
    }
    const better = c.upgrades[0] ? `; better: \`parley models pull ${c.upgrades[0].model}\` (${c.upgrades[0].note})` : '';
    summary.push(`  ${NAMES[c.capability]}: ${c.engine}${model}${better}`);
  }
  summary.push('`parley doctor` says why each engine was chosen and what is missing.');
  return { summary, missing };
}
