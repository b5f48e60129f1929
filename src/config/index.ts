export { ConfigError, type ConfigFlags, ENV_VARS, isLoopback, loadConfig } from './load.js';
export { type Config, type ConfigInput, configSchema, defaultDataDir } from './schema.js';
