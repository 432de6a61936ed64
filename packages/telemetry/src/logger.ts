import { pino } from 'pino';
import { createLogRedactor, type LogRedactionRules } from './log-redaction.js';

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
  /**
   * Personal data (e-mail, phone, IBAN, card, national ids) replaced in messages, logged objects
   * and child bindings; pass the deployment's governance `redaction` (detectors → kinds), or
   * `false` to log as is. Default: every detector on, `[redacted:<kind>]`.
   */
  redaction?: LogRedactionRules | false;
}

/** JSON lines, one logger per process, children carry request and trace ids. */
export function createLogger({
  level,
  name,
  destination,
  redaction = {},
}: CreateLoggerOptions): Logger {
  const redact = redaction === false ? undefined : createLogRedactor(redaction);
  return pino(
    {
      level,
      name,
      base: { service: name },
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(redact && {
        formatters: {
          log: (object) => redact(object) as Record<string, unknown>,
          bindings: (bindings) => redact(bindings) as pino.Bindings,
        },
        // Children's bindings are serialized once, when the child is made, and pino resets the
        // bindings formatter for them: redact the serialized fragment instead.
        onChild: (child: pino.Logger) => {
          const holder = child as unknown as Record<symbol, string>;
          const fragment = holder[pino.symbols.chindingsSym];
          if (!fragment) return;
          const bindings = JSON.parse(`{${fragment.slice(1)}}`) as unknown;
          holder[pino.symbols.chindingsSym] = `,${JSON.stringify(redact(bindings)).slice(1, -1)}`;
        },
        hooks: {
          // Messages and printf-style arguments are strings pino never hands to formatters.
          logMethod(args, method) {
            const redacted = args.map((a) => (typeof a === 'string' ? redact(a) : a));
            method.apply(this, redacted as Parameters<pino.LogFn>);
          },
        },
      }),
    },
    destination,
  );
}
