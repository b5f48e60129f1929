import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/** Default data folder: $XDG_DATA_HOME/parley, else ~/.local/share/parley. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.length > 0 ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'parley');
}

const voiceRendering = z.object({
  voice: z.string().min(1).describe('Engine voice id'),
  pitch: z.number().positive().max(4).optional().describe('Pitch factor (1 = voice default)'),
  rate: z.number().positive().max(4).optional().describe('Rate factor (1 = voice default)'),
});

const severityThresholds = z
  .object({
    low: z.number().min(0).max(1).default(0.5).describe('Classifier score from which a category is low'),
    medium: z.number().min(0).max(1).default(0.75).describe('Classifier score from which a category is medium'),
    high: z.number().min(0).max(1).default(0.9).describe('Classifier score from which a category is high'),
  })
  .refine((t) => t.low <= t.medium && t.medium <= t.high, 'expected low ≤ medium ≤ high');

/** Content filters (issue 11; src/safety/). Exported so a pipeline alias can override parts of it. */
export const safetySection = z.object({
  profanity: z.enum(['annotate', 'filter']).default('annotate').describe('Profanity: annotate it, or also mask it (***) in what is passed on'),
  block: z.enum(['high', 'medium', 'low', 'off']).default('high').describe('Severity at which hate, sexual, violence and self-harm block (off = never)'),
  classifier: z.string().min(1).optional().describe('Toxicity classifier: a model cache name (toxic-bert) or an ONNX folder path; unset = off'),
  judge: z.string().min(1).optional().describe('Guard LLM: a GGUF path or cache name (Llama Guard 3 1B, Qwen3Guard-Gen-0.6B); unset = off'),
  strict: z.boolean().default(false).describe('Run the judge on every prompt and reply (seconds each) and fail closed when a layer fails'),
  thresholds: severityThresholds.prefault({}).describe('Classifier score → severity'),
});
export type SafetyConfig = z.infer<typeof safetySection>;

/** A CORS origin: `*`, or scheme://host[:port] as browsers send it in `Origin`. */
const CORS_ORIGIN = /^(\*|https?:\/\/[^/\s?#]+)$/;

const ttsSection = z.object({
  engine: z
    .enum(['auto', 'kokoro', 'piper', 'flite', 'espeak-ng'])
    .default('auto')
    .describe('Text-to-speech engine; auto = the best whose model is installed: kokoro › piper › flite'),
  model: z.string().min(1).optional().describe('TTS model: a folder path or a model cache name'),
  voices: z.record(z.string(), voiceRendering).default({}).describe('Overrides of the OpenAI voice name → engine voice map'),
  customVoices: z
    .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), voiceRendering)
    .default({})
    .describe('Custom voices an operator registers (ids clients send as voice: {id}); none by default: a custom voice object is refused'),
  fallbackEngine: z.enum(['espeak-ng', 'none']).default('espeak-ng').describe('Engine for languages the main engine lacks'),
});

const asrSection = z.object({
  engine: z
    .enum(['auto', 'sensevoice', 'parakeet', 'moonshine', 'whisper', 'pocketsphinx'])
    .default('auto')
    .describe('Speech recognition engine; auto = the best whose model is installed: sensevoice › parakeet › whisper › moonshine › pocketsphinx'),
  model: z.string().min(1).optional().describe('ASR model: a file or folder path, or a model cache name'),
});

const llmSection = z.object({
  engine: z.enum(['llama', 'openai-compatible']).default('llama').describe('Language model engine'),
  model: z.string().min(1).optional().describe('LLM model: a GGUF path or a model cache name (or the upstream model name)'),
  url: z.string().url().optional().describe('Upstream OpenAI-compatible base URL'),
  apiKey: z.string().optional().describe('Upstream API key'),
  threads: z
    .number()
    .int()
    .min(1)
    .max(256)
    .optional()
    .describe('CPU threads for the llama engine (default: 1 on ≤ 2 cores — measured fastest for generation — else half the cores)'),
});

const voiceSection = z.object({
  engine: z.enum(['prosody']).default('prosody').describe('Voice analyzer (how something was said)'),
});

/** The capabilities a model name can serve. */
export const MODEL_CAPABILITIES = ['chat', 'speech', 'transcription'] as const;

/**
 * A model alias defined as a pipeline of engines (LocalAI's idea): `support-line-es` may recognise
 * with whisper, think with another GGUF and speak with espeak-ng on the same server. Sections left
 * out are taken from the top-level settings.
 */
const pipelineSpec = z
  .object({
    capability: z.enum(MODEL_CAPABILITIES).default('chat').describe('What the alias serves'),
    asr: asrSection.partial().optional().describe('Speech recognition of this pipeline'),
    voice: voiceSection.partial().optional().describe('Voice analysis of this pipeline'),
    llm: llmSection.partial().optional().describe('Language model of this pipeline'),
    tts: ttsSection.partial().optional().describe('Speech synthesis of this pipeline'),
    voiceMap: z.record(z.string(), voiceRendering).optional().describe('OpenAI voice name → engine voice of this pipeline (same as tts.voices)'),
    safety: safetySection.partial().optional().describe('Safety policy of this pipeline (sections left out come from the top-level safety settings)'),
  })
  .strict();
export type PipelineSpec = z.infer<typeof pipelineSpec>;

/**
 * The one configuration schema. Every field has a default and a one-line description.
 * Sources, later wins: defaults → config file → PARLEY_* environment → CLI flags.
 */
export const configSchema = z.object({
  host: z.string().min(1).default('127.0.0.1').describe('Address to listen on'),
  port: z.number().int().min(0).max(65535).default(8000).describe('TCP port to listen on (0 = any free port)'),
  dataDir: z.string().min(1).describe('Folder for the database, files, audio and the model cache'),
  modelsDir: z.string().min(1).optional().describe('Model cache folder (default: <dataDir>/models)'),
  modelsMirror: z.string().url().optional().describe('Base URL that replaces the catalogue hosts (a local mirror)'),
  offline: z.boolean().default(false).describe('Never download anything'),
  apiKeys: z.array(z.string().min(1)).default([]).describe('Accepted API keys (Bearer or api-key header); empty = no auth, loopback only'),
  adminKey: z
    .string()
    .min(16, 'expected at least 16 characters')
    .optional()
    .describe('Admin key: manages keys (/v1/parley/keys) and models; also an unlimited API key. Unset = the PARLEY_API_KEYS keys are the admins'),
  noAuth: z.boolean().default(false).describe('Allow serving without keys on a non-loopback address'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level'),
  concurrency: z.number().int().min(1).max(256).default(Math.max(1, os.availableParallelism())).describe('Parallel engine jobs (default: the cores)'),
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .default(32 * 1024 * 1024)
    .describe('Largest accepted JSON request body'),
  shutdownGraceMs: z.number().int().min(0).default(10_000).describe('How long in-flight requests may run after SIGTERM before they are cancelled'),
  tts: ttsSection.prefault({}),
  asr: asrSection.prefault({}),
  llm: llmSection.prefault({}),
  voice: voiceSection.prefault({}),
  batch: z
    .object({
      queue: z
        .string()
        .regex(/^rediss?:\/\/\S+$/, 'expected a redis:// or rediss:// URL')
        .optional()
        .describe('Batch queue: unset = embedded (SQLite, in-process worker); redis://host:port = BullMQ on Redis, shared by `parley worker` processes'),
      worker: z.boolean().default(true).describe('Run batch lines in the server process too (set false when dedicated `parley worker` processes do it)'),
      concurrency: z.number().int().min(1).max(256).optional().describe('Batch lines in flight per process (default: `concurrency`)'),
    })
    .prefault({}),
  safety: safetySection.prefault({}),
  limits: z
    .object({
      inFlight: z
        .object({
          chat: z.number().int().min(1).optional().describe('Live chat completions in progress at once (default 2 × concurrency); more get 503 + retry-after'),
          speech: z.number().int().min(1).optional().describe('Live speech requests in progress at once (default 8 × concurrency)'),
          transcription: z
            .number()
            .int()
            .min(1)
            .optional()
            .describe('Live transcription, translation and analysis requests in progress at once (default 4 × concurrency)'),
        })
        .prefault({}),
      chatAudioBytes: z
        .number()
        .int()
        .min(1)
        .default(20 * 1024 * 1024)
        .describe('Encoded input audio per chat request, all parts together (OpenAI: 20 MB)'),
      chatAudioSec: z
        .number()
        .min(1)
        .default(45 * 60)
        .describe('Decoded input audio per chat request, all parts together, seconds (default 45 min: 20 MB of 64 kbit/s MP3)'),
      rateWindowSec: z
        .number()
        .int()
        .min(1)
        .max(3600)
        .default(60)
        .describe("Length of the window a key's rpm_limit and tpm_limit count in, seconds (a minute, as OpenAI's RPM/TPM)"),
      filesBytesPerOwner: z
        .number()
        .int()
        .min(0)
        .default(10 * 1024 ** 3)
        .describe('Disk space one API key may use for uploaded files, bytes (default 10 GiB; 0 = no uploads)'),
    })
    .prefault({}),
  usage: z
    .object({
      enabled: z.boolean().default(true).describe('Record usage of every request in the ledger (PARLEY_USAGE=0 turns it off, e.g. to measure its overhead)'),
      // AWS EC2 On-Demand, c7i.large (2 vCPUs, Sapphire Rapids), Linux, us-east-1: $0.08925 per hour
      // = $0.044625 per vCPU-hour (aws.amazon.com/ec2/pricing/on-demand, 2024–2025).
      coreHourUsd: z
        .number()
        .min(0)
        .default(0.044625)
        .describe("USD per core-hour for Parley's own cost (default: AWS EC2 c7i.large on-demand, us-east-1: $0.08925/h for 2 vCPUs)"),
    })
    .prefault({}),
  metrics: z
    .object({
      enabled: z.boolean().default(true).describe('Prometheus metrics at /metrics (PARLEY_METRICS=0 turns them off)'),
      access: z.enum(['admin', 'open']).default('admin').describe('Who may read /metrics on the API port: an admin key (default) or anybody'),
      port: z
        .number()
        .int()
        .min(0)
        .max(65535)
        .optional()
        .describe('Serve /metrics on this port instead of the API port, without a key (each `parley worker` needs its own)'),
      host: z.string().min(1).optional().describe('Address of the metrics port (default: `host`)'),
    })
    .prefault({}),
  watermark: z
    .object({
      enabled: z.boolean().default(true).describe('Watermark every voice Parley makes (PARLEY_WATERMARK=on|off)'),
      key: z
        .string()
        .min(16)
        .optional()
        .describe('The secret the watermark is keyed with (PARLEY_WATERMARK_KEY); unset = generated at first start and kept in <dataDir>/watermark.key'),
      strength: z
        .number()
        .min(0.02)
        .max(0.5)
        .default(0.25)
        .describe('Per-cell gain of the mark, nepers (0.25 = ±2.2 dB, watermark SNR ≈ 20 dB; see src/safety/watermark/README.md)'),
    })
    .prefault({}),
  cors: z
    .object({
      origins: z
        .array(z.string().regex(CORS_ORIGIN, "expected '*' or an origin such as https://app.example.com (scheme, host, optional port; no path)"))
        .default([])
        .describe('Other web origins whose pages may call the API (CORS); empty = none (same-origin only), * = any'),
    })
    .prefault({}),
  models: z
    .record(z.string(), z.union([z.string(), pipelineSpec]))
    .default({})
    .describe(
      'Model aliases: requested name → a served model id (e.g. an Azure deployment name → tts-1), or → a pipeline of engines ({capability, asr, voice, llm, tts, voiceMap, safety})',
    ),
});

export type Config = z.infer<typeof configSchema>;
export type TtsSettings = z.infer<typeof ttsSection>;
export type AsrSettings = z.infer<typeof asrSection>;
export type LlmSettings = z.infer<typeof llmSection>;
export type VoiceSettings = z.infer<typeof voiceSection>;
/** What a config file or flags may hold (everything optional). */
export type ConfigInput = z.input<typeof configSchema>;
