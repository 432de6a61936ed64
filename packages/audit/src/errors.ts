/** Stable codes of errors raised by `@roster/audit`. */
export type AuditErrorCode =
  /** A value cannot be written as canonical JSON (undefined, NaN, a Date, a cycle, ...). */
  | 'AUDIT_NOT_JSON'
  /** An event draft or chain head is malformed or belongs to another tenant. */
  | 'AUDIT_INVALID_EVENT'
  /** A key is missing, malformed, or not an ed25519 key. */
  | 'AUDIT_INVALID_KEY'
  /** Digest fields are malformed (bad seq, hash, period, ...). */
  | 'AUDIT_INVALID_DIGEST'
  /** The events and digests handed to the export writer do not form a verifiable export. */
  | 'AUDIT_EXPORT_INCONSISTENT'
  /** A verified reader's result was asked for before all its events were read. */
  | 'AUDIT_READ_UNFINISHED';

/** Errors raised while building audit records. Verification failures are results, not errors. */
export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuditError';
  }
}
