export { ConfigError, type ConfigFlags, ENV_VARS, isLoopback, loadConfig } from './load.js';
export {
  type AsrSettings,
  type Config,
  type ConfigInput,
  configSchema,
  defaultDataDir,
  type LlmSettings,
  MODEL_CAPABILITIES,
  type PipelineSpec,
  type SafetyConfig,
  type TtsSettings,
  type VoiceSettings,
} from './schema.js';
