/**
 * The piper engine: any Piper (VITS) voice converted for sherpa-onnx, run through its OfflineTts
 * in a speech host — the voices for the languages Kokoro lacks.
 *
 * The folder is sherpa's vits-piper layout: `<voice>.onnx` (with sherpa's metadata), `tokens.txt`,
 * and `espeak-ng-data/` (Debian's is used when the folder lacks it). Piper's own `.onnx.json`
 * names the speakers of many-speaker voices when it is there.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { hasSherpaBinding, sherpaMissing } from '../../speech-host/binding.js';
import { checkModelMetadata, checkPhonemeTokens, VITS_METADATA } from '../../speech-host/model-checks.js';
import { SherpaTtsEngine, type SherpaVoice } from '../sherpa/engine.js';
import { espeakDataFor, findVoiceFolder, missingEspeakData, probeVoiceFolder, type SherpaTtsOptions, SYSTEM_ESPEAK_DATA_DIRS } from '../sherpa/folder.js';
import type { TtsEngine, TtsEngineDescriptor } from '../types.js';
import { PIPER_MODEL_NAME, piperVoiceMap } from './voices.js';

const FIX = `Run \`parley models pull ${PIPER_MODEL_NAME}\` (or another piper-* voice) to replace it.`;
/** Symbols sherpa's Piper front end looks up by name (pad, start, end, word gap). */
const REQUIRED_TOKENS = ['_', '^', '$', ' '] as const;
const LAYOUT = '<voice>.onnx, tokens.txt, espeak-ng-data/';

export const descriptor: TtsEngineDescriptor = {
  id: 'piper',
  description: 'Piper (VITS) voices through sherpa-onnx: ~40 languages, one model per voice; needs `parley models pull piper-…`',
  probe: (options: SherpaTtsOptions) => probeVoiceFolder('piper', 'Piper', PIPER_MODEL_NAME, options, isPiperFolder, LAYOUT),
  async create(options: SherpaTtsOptions): Promise<TtsEngine> {
    return createPiperEngine(options);
  },
};

/** The voice's `.onnx` file in `dir` (the one model file of a vits-piper folder). */
async function modelFile(dir: string): Promise<string | undefined> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const onnx = names.filter((n) => n.endsWith('.onnx')).sort();
  return onnx.length > 0 ? path.join(dir, onnx[0]!) : undefined;
}

async function isPiperFolder(dir: string): Promise<boolean> {
  return (await modelFile(dir)) !== undefined && ((await fs.stat(path.join(dir, 'tokens.txt')).catch(() => null))?.isFile() ?? false);
}

/** Checks the folder, then starts the host and loads the voice. */
export async function createPiperEngine(options: SherpaTtsOptions): Promise<SherpaTtsEngine> {
  if (!hasSherpaBinding()) throw sherpaMissing('piper');
  const dir = await findVoiceFolder('Piper', PIPER_MODEL_NAME, options, isPiperFolder, LAYOUT);
  const model = (await modelFile(dir))!;
  const tokens = path.join(dir, 'tokens.txt');
  const metadata = await checkModelMetadata(model, VITS_METADATA, FIX);
  await checkPhonemeTokens(tokens, REQUIRED_TOKENS, FIX);
  const dataDir = await espeakDataFor(dir, options.systemEspeakDataDirs ?? SYSTEM_ESPEAK_DATA_DIRS);
  if (!dataDir) throw missingEspeakData('Piper', PIPER_MODEL_NAME);
  const stem = path.basename(model, '.onnx');
  const speakers = Math.max(1, Number.parseInt(metadata.get('n_speakers')!, 10));
  const language = languageTag(stem, metadata.get('voice'));
  const names = await speakerNames(`${model}.json`, speakers);
  const voices: SherpaVoice[] = Array.from({ length: speakers }, (_, sid) => ({ id: speakers === 1 ? stem : (names[sid] ?? `${stem}#${sid}`), sid, language }));
  return SherpaTtsEngine.create({
    id: 'piper',
    model: {
      kind: 'tts',
      key: `piper:${model}`,
      name: path.basename(dir),
      fix: FIX,
      config: {
        model: { vits: { model, tokens, dataDir }, numThreads: Math.max(1, Math.floor(options.threads ?? 2)), provider: 'cpu', debug: 0 },
        maxNumSentences: 1,
      },
    },
    voices,
    voiceMap: piperVoiceMap(voices),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxRssBytes !== undefined ? { maxRssBytes: options.maxRssBytes } : {}),
  });
}

/** `en_US-amy-low` → `en-US`; else the espeak voice of the metadata (`de` → `de`). */
function languageTag(stem: string, espeakVoice: string | undefined): string {
  const m = /^([a-z]{2,3})_([A-Z]{2})-/.exec(stem);
  if (m) return `${m[1]}-${m[2]}`;
  const v = espeakVoice?.trim();
  if (v) return v.replace(/-([a-z]{2})$/i, (_, r: string) => `-${r.toUpperCase()}`);
  return 'en-US';
}

/** Speaker names from Piper's `<voice>.onnx.json` (`speaker_id_map`), by id. */
async function speakerNames(jsonFile: string, count: number): Promise<string[]> {
  if (count <= 1) return [];
  try {
    const config = JSON.parse(await fs.readFile(jsonFile, 'utf8')) as { speaker_id_map?: Record<string, number> };
    const names: string[] = [];
    for (const [name, id] of Object.entries(config.speaker_id_map ?? {})) if (Number.isInteger(id) && id >= 0 && id < count) names[id] = name;
    return names;
  } catch {
    return [];
  }
}
