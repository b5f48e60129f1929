export { configSchema, defaultDataDir, type Config, type ConfigInput } from './schema.js';
export { loadConfig, ConfigError, ENV_VARS, isLoopback, type ConfigFlags } from './load.js';
