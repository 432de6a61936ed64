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
  | 'APPROVAL_REJECTED'
  /** The task is not a connector action approval of this tenant. Surfaces as NOT_FOUND. */
  | 'APPROVAL_NOT_FOUND'
  /** The approval task is no longer open. Surfaces as CONFLICT. */
  | 'APPROVAL_CLOSED'
  /** Four-eyes: the same person approved twice. Surfaces as FORBIDDEN. */
  | 'APPROVAL_SAME_APPROVER'
  /** A business calendar (review SLA settings) is malformed; details.field names the part. */
  | 'BUSINESS_CALENDAR_INVALID'
  /** The review task is no longer open (decided, expired or cancelled). Surfaces as CONFLICT. */
  | 'REVIEW_CLOSED'
  /** Another reviewer holds an unexpired claim on the task. Surfaces as CONFLICT. */
  | 'REVIEW_CLAIMED'
  /** The caller holds no claim on the task they try to release. Surfaces as CONFLICT. */
  | 'REVIEW_NOT_CLAIMED'
  /** Four-eyes: this person (or the one they act for) already approved. Surfaces as FORBIDDEN. */
  | 'REVIEW_SAME_APPROVER'
  /** Four-eyes: the person who started the run may not approve it. Surfaces as FORBIDDEN. */
  | 'REVIEW_INITIATOR_APPROVER'
  /** The approval step lists its approvers and the person is not one of them. Surfaces as FORBIDDEN. */
  | 'REVIEW_NOT_APPROVER'
  /** A review answer does not fit the task (unknown label, missing output). Surfaces as BAD_USER_INPUT. */
  | 'REVIEW_INPUT_INVALID'
  /** A delegation is malformed (to oneself, empty or past period). Surfaces as BAD_USER_INPUT. */
  | 'DELEGATION_INVALID'
  /** A data subject's key or the tenant data key it is wrapped under cannot be read. */
  | 'SUBJECT_KEY_UNREADABLE'
  /** eraseDataSubject was not given one e-mail address. Surfaces as BAD_USER_INPUT. */
  | 'ERASURE_INPUT_INVALID';

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
