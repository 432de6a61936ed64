export { createLogRedactor, type LogRedactionRules } from './log-redaction.js';
export {
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  type LogLevel,
  REDACTED_LOG_PATHS,
} from './logger.js';
