import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Paths whose values are never written to a log line, whatever the caller passes. */
export const REDACTED_LOG_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'connectionString',
  '*.connectionString',
];

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Service name on every line (api, worker, cli, runner). */
  name: string;
  /** Destination stream; defaults to stdout. Tests pass a buffer to read lines back. */
  destination?: pino.DestinationStream;
}

/** JSON lines, one logger per process, children carry request and trace ids. */
export function createLogger({ level, name, destination }: CreateLoggerOptions): Logger {
  return pino(
    {
      level,
      name,
      base: { service: name },
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
