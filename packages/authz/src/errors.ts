export type AuthzErrorCode =
  | 'POLICY_YAML_SYNTAX'
  | 'POLICY_INVALID'
  | 'POLICY_FILE_UNREADABLE'
  | 'UNKNOWN_ROLE'
  | 'UNKNOWN_SCOPE'
  | 'UNSUPPORTED_CONDITION'
  | 'UNMAPPED_FIELD'
  | 'INVALID_COLUMN'
  | 'FORBIDDEN';

export class AuthzError extends Error {
  constructor(
    readonly code: AuthzErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthzError';
  }
}

/** One problem found in policies/roles.yaml, located by its path (e.g. `roles.viewer.rules[2].action`). */
export interface PolicyIssue {
  path: string;
  message: string;
}

export class PolicyInvalidError extends AuthzError {
  constructor(readonly issues: readonly PolicyIssue[]) {
    super(
      'POLICY_INVALID',
      `The policy file is invalid; fix these entries:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      { issues },
    );
    this.name = 'PolicyInvalidError';
  }
}

/** The caller may not perform `action` on `subject` (or on its `field`). */
export class ForbiddenError extends AuthzError {
  constructor(
    readonly action: string,
    readonly subject: string,
    readonly field?: string,
    readonly reason?: string,
  ) {
    super(
      'FORBIDDEN',
      `Not allowed to ${action} ${subject}${field === undefined ? '' : `.${field}`}${
        reason === undefined ? '' : `: ${reason}`
      }. Ask a tenant owner or admin for a role (or API key scope) that grants it.`,
      { action, subject, ...(field === undefined ? {} : { field }) },
    );
    this.name = 'ForbiddenError';
  }
}
