import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { type Config, configSchema, defaultDataDir } from './schema.js';

/** Flags from the CLI, already parsed; undefined = not given. */
export interface ConfigFlags {
  host?: string;
  port?: string | number;
  dataDir?: string;
  config?: string;
  noAuth?: boolean;
  offline?: boolean;
  logLevel?: string;
}

/** Every problem found in the configuration, reported together. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Plain = Record<string, unknown>;

/** Environment variables and where they go. Operators' scripts rely on these names: keep them. */
export const ENV_VARS: ReadonlyArray<{ name: string; path: string; kind: 'string' | 'number' | 'boolean' | 'list'; description: string }> = [
  { name: 'PARLEY_HOST', path: 'host', kind: 'string', description: 'Address to listen on (default 127.0.0.1)' },
  { name: 'PARLEY_PORT', path: 'port', kind: 'number', description: 'Port (default 8000)' },
  { name: 'PARLEY_DATA_DIR', path: 'dataDir', kind: 'string', description: 'Data folder (default ~/.local/share/parley)' },
  { name: 'PARLEY_MODELS_DIR', path: 'modelsDir', kind: 'string', description: 'Model cache (default <data dir>/models)' },
  { name: 'PARLEY_MODELS_MIRROR', path: 'modelsMirror', kind: 'string', description: 'Base URL of a model mirror' },
  { name: 'PARLEY_OFFLINE', path: 'offline', kind: 'boolean', description: '1 = never download' },
  { name: 'PARLEY_API_KEYS', path: 'apiKeys', kind: 'list', description: 'Comma-separated accepted API keys' },
  { name: 'PARLEY_ADMIN_KEY', path: 'adminKey', kind: 'string', description: 'Admin key (manages keys; unset = the PARLEY_API_KEYS keys are admins)' },
  { name: 'PARLEY_NO_AUTH', path: 'noAuth', kind: 'boolean', description: '1 = serve without keys on a non-loopback address' },
  { name: 'PARLEY_LOG_LEVEL', path: 'logLevel', kind: 'string', description: 'fatal|error|warn|info|debug|trace|silent' },
  { name: 'PARLEY_CONCURRENCY', path: 'concurrency', kind: 'number', description: 'Parallel engine jobs (default: cores)' },
  { name: 'PARLEY_TTS_ENGINE', path: 'tts.engine', kind: 'string', description: 'auto | kokoro | piper | flite | espeak-ng' },
  { name: 'PARLEY_TTS_MODEL', path: 'tts.model', kind: 'string', description: 'TTS model path or cache name' },
  { name: 'PARLEY_ASR_ENGINE', path: 'asr.engine', kind: 'string', description: 'auto | sensevoice | parakeet | whisper | moonshine | pocketsphinx' },
  { name: 'PARLEY_ASR_MODEL', path: 'asr.model', kind: 'string', description: 'ASR model path or cache name' },
  { name: 'PARLEY_LLM_ENGINE', path: 'llm.engine', kind: 'string', description: 'llama | openai-compatible' },
  { name: 'PARLEY_LLM_MODEL', path: 'llm.model', kind: 'string', description: 'GGUF path or cache name (or upstream model)' },
  { name: 'PARLEY_LLM_URL', path: 'llm.url', kind: 'string', description: 'Upstream OpenAI-compatible base URL' },
  { name: 'PARLEY_LLM_API_KEY', path: 'llm.apiKey', kind: 'string', description: 'Upstream API key' },
  { name: 'PARLEY_LLM_THREADS', path: 'llm.threads', kind: 'number', description: 'llama engine CPU threads (default 1 on ≤ 2 cores)' },
  { name: 'PARLEY_QUEUE', path: 'batch.queue', kind: 'string', description: 'Batch queue: unset = embedded; redis://host:port = Redis (BullMQ)' },
  { name: 'PARLEY_BATCH_WORKER', path: 'batch.worker', kind: 'boolean', description: '0 = the server runs no batch lines itself (dedicated workers do)' },
  { name: 'PARLEY_BATCH_CONCURRENCY', path: 'batch.concurrency', kind: 'number', description: 'Batch lines in flight per process (default: concurrency)' },
  {
    name: 'PARLEY_MAX_CHAT_REQUESTS',
    path: 'limits.inFlight.chat',
    kind: 'number',
    description: 'Live chat completions in progress at once (default 2 × concurrency)',
  },
  {
    name: 'PARLEY_MAX_SPEECH_REQUESTS',
    path: 'limits.inFlight.speech',
    kind: 'number',
    description: 'Live speech requests in progress at once (default 8 × concurrency)',
  },
  {
    name: 'PARLEY_MAX_TRANSCRIPTION_REQUESTS',
    path: 'limits.inFlight.transcription',
    kind: 'number',
    description: 'Live transcription/translation/analysis requests in progress at once (default 4 × concurrency)',
  },
  {
    name: 'PARLEY_RATE_WINDOW_SEC',
    path: 'limits.rateWindowSec',
    kind: 'number',
    description: "Window of a key's rpm_limit/tpm_limit, seconds (default 60)",
  },
  {
    name: 'PARLEY_FILES_QUOTA_BYTES',
    path: 'limits.filesBytesPerOwner',
    kind: 'number',
    description: 'Disk space one API key may use for uploaded files (default 10 GiB)',
  },
  { name: 'PARLEY_SAFETY_PROFANITY', path: 'safety.profanity', kind: 'string', description: 'annotate | filter (mask profanity)' },
  { name: 'PARLEY_SAFETY_BLOCK', path: 'safety.block', kind: 'string', description: 'high | medium | low | off: severity that blocks (default high)' },
  {
    name: 'PARLEY_SAFETY_CLASSIFIER',
    path: 'safety.classifier',
    kind: 'string',
    description: 'Toxicity classifier: cache name (toxic-bert) or path; unset = off',
  },
  { name: 'PARLEY_SAFETY_JUDGE', path: 'safety.judge', kind: 'string', description: 'Guard LLM GGUF: cache name or path; unset = off' },
  { name: 'PARLEY_SAFETY_STRICT', path: 'safety.strict', kind: 'boolean', description: '1 = judge every prompt and reply, fail closed' },
  { name: 'PARLEY_USAGE', path: 'usage.enabled', kind: 'boolean', description: '0 = record no usage (default on)' },
  { name: 'PARLEY_CORE_HOUR_USD', path: 'usage.coreHourUsd', kind: 'number', description: "USD per core-hour for Parley's own cost (default 0.044625)" },
  { name: 'PARLEY_METRICS', path: 'metrics.enabled', kind: 'boolean', description: '0 = no /metrics (default on)' },
  { name: 'PARLEY_METRICS_ACCESS', path: 'metrics.access', kind: 'string', description: 'admin | open: who may read /metrics on the API port' },
  { name: 'PARLEY_METRICS_PORT', path: 'metrics.port', kind: 'number', description: 'Serve /metrics on this port instead (no key; one per worker)' },
  { name: 'PARLEY_WATERMARK', path: 'watermark.enabled', kind: 'boolean', description: 'on | off: watermark every voice (default on)' },
  {
    name: 'PARLEY_WATERMARK_KEY',
    path: 'watermark.key',
    kind: 'string',
    description: 'Watermark key (≥ 16 characters; default: generated at first start, kept in <data dir>/watermark.key)',
  },
  {
    name: 'PARLEY_CORS_ORIGINS',
    path: 'cors.origins',
    kind: 'list',
    description: 'Comma-separated web origins allowed to call the API from a browser (* = any)',
  },
];

function setPath(target: Plain, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Plain;
  }
  node[keys[keys.length - 1]!] = value;
}

function mergeDeep(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)) {
      out[k] = mergeDeep(prev as Plain, v as Plain);
    } else if (v !== undefined) {
      out[k] = v;
    }
  }
  return out;
}

function parseBoolean(raw: string): boolean | undefined {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  return undefined;
}

function fromEnv(env: NodeJS.ProcessEnv, problems: string[]): Plain {
  const out: Plain = {};
  for (const spec of ENV_VARS) {
    const raw = env[spec.name];
    if (raw === undefined || (raw === '' && spec.kind !== 'boolean')) continue;
    let value: unknown = raw;
    if (spec.kind === 'number') {
      value = Number(raw);
      if (!Number.isFinite(value as number)) {
        problems.push(`${spec.name}: expected a number, got '${raw}'`);
        continue;
      }
    } else if (spec.kind === 'boolean') {
      value = parseBoolean(raw);
      if (value === undefined) {
        problems.push(`${spec.name}: expected 1/0, true/false, got '${raw}'`);
        continue;
      }
    } else if (spec.kind === 'list') {
      value = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    }
    setPath(out, spec.path, value);
  }
  return out;
}

function fromFile(file: string, problems: string[]): Plain {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    problems.push(`config file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
    return {};
  }
  try {
    const parsed: unknown = YAML.parse(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`config file ${file}: the top level must be a mapping`);
      return {};
    }
    return parsed as Plain;
  } catch (e) {
    problems.push(`config file ${file}: ${(e as Error).message.split('\n')[0]}`);
    return {};
  }
}

function fromFlags(flags: ConfigFlags, problems: string[]): Plain {
  const out: Plain = {};
  if (flags.host !== undefined) out.host = flags.host;
  if (flags.port !== undefined) {
    const n = Number(flags.port);
    if (!Number.isFinite(n)) problems.push(`--port: expected a number, got '${flags.port}'`);
    else out.port = n;
  }
  if (flags.dataDir !== undefined) out.dataDir = flags.dataDir;
  if (flags.noAuth) out.noAuth = true;
  if (flags.offline) out.offline = true;
  if (flags.logLevel !== undefined) out.logLevel = flags.logLevel;
  return out;
}

/**
 * Builds the configuration from its four sources and validates it once.
 * Throws ConfigError listing every problem at once.
 */
export function loadConfig(options: { flags?: ConfigFlags; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Config {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];

  const configFile = flags.config ?? env.PARLEY_CONFIG;
  const file = configFile ? fromFile(path.resolve(cwd, configFile), problems) : {};
  let merged: Plain = { dataDir: defaultDataDir(env) };
  merged = mergeDeep(merged, file);
  merged = mergeDeep(merged, fromEnv(env, problems));
  merged = mergeDeep(merged, fromFlags(flags, problems));

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      problems.push(`${where}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);

  const config = result.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  config.modelsDir = path.resolve(cwd, config.modelsDir ?? path.join(config.dataDir, 'models'));
  return config;
}

/** True when the address is loopback-only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host === '[::1]';
}
