export type ConfigErrorCode = 'CONFIG_INVALID';

export interface ConfigIssue {
  /** The environment variable at fault. */
  variable: string;
  /** What it expected, in words. */
  expected: string;
  /** The value it got, when it is safe to show (never for secrets). */
  received?: string;
}

export class ConfigError extends Error {
  readonly code: ConfigErrorCode = 'CONFIG_INVALID';
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `Invalid configuration:\n${issues
        .map(
          (i) =>
            `  ${i.variable}: expected ${i.expected}${i.received === undefined ? '' : ` (got ${JSON.stringify(i.received)})`}`,
        )
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
