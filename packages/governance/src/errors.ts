/** Stable codes of errors raised by `@roster/governance`. */
export type GovernanceErrorCode =
  /** Redaction rules (policy data) are malformed. */
  | 'REDACTION_RULES_INVALID'
  /** A governance policy document (file or tenant override) fails its schema; details.issues name the paths. */
  | 'POLICY_INVALID'
  /** policies/governance.yaml could not be read or is not YAML. */
  | 'POLICY_FILE_UNREADABLE'
  /** A policy update named a version that is no longer the current one. */
  | 'POLICY_CONFLICT'
  /** A connector action's approval was rejected. */
  | 'APPROVAL_REJECTED';

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
