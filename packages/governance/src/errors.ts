/** Stable codes of errors raised by `@roster/governance`. */
export type GovernanceErrorCode =
  /** Redaction rules (policy data) are malformed. */
  'REDACTION_RULES_INVALID';

export class GovernanceError extends Error {
  constructor(
    readonly code: GovernanceErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GovernanceError';
  }
}
