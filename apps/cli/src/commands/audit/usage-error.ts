/** Exit codes of the `roster audit` commands. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A bad argument: printed as `roster audit: <argument>: <message>` with exit code 2. */
export class UsageError extends Error {
  readonly code = 'AUDIT_CLI_USAGE';
  constructor(
    readonly argument: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${argument}: ${message}`, options);
    this.name = 'UsageError';
  }
}
