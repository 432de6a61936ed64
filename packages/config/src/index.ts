export { ConfigError, type ConfigErrorCode, type ConfigIssue } from './errors.js';
export { loadConfig, loadConfigOrExit } from './load-config.js';
export { type Config, type ConfigKey, configKeys, configSchema } from './schema.js';
