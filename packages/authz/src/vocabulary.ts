// The authorization vocabulary: which subjects exist and which actions apply to each.
// Roles and scopes in policies/roles.yaml are validated against this table, and an
// (action, subject) pair that is not listed here is denied to everyone, `manage` included.

/** Actions in rules. `manage` is CASL's wildcard: every action declared for the subject. */
export const ACTIONS = [
  'manage',
  'read',
  'create',
  'update',
  'delete',
  'archive',
  'publish',
  'cancel',
  'retry',
  'replay',
  'grant',
  'claim',
  'decide',
  'verify',
  'revoke',
  'promote',
  'rollback',
  'infer',
] as const;
export type RuleAction = (typeof ACTIONS)[number];
/** An action a caller checks; `manage` only appears in rules. */
export type Action = Exclude<RuleAction, 'manage'>;

export const SUBJECT_ACTIONS = {
  Tenant: ['read', 'update', 'delete'],
  Member: ['read', 'update', 'delete'],
  Invitation: ['create', 'read', 'revoke'],
  ApiKey: ['create', 'read', 'update', 'revoke'],
  Workflow: ['create', 'read', 'update', 'delete', 'archive', 'publish'],
  WorkflowVersion: ['create', 'read'],
  Run: ['create', 'read', 'cancel', 'retry'],
  StepRun: ['read', 'retry'],
  DeadLetter: ['read', 'replay', 'delete'],
  Schedule: ['create', 'read', 'update', 'delete'],
  WebhookTrigger: ['create', 'read', 'update', 'delete'],
  Plugin: ['read'],
  Installation: ['create', 'read', 'update', 'delete', 'grant'],
  Connection: ['create', 'read', 'update', 'delete'],
  Model: ['create', 'read', 'update', 'delete', 'infer'],
  ModelVersion: ['create', 'read', 'archive'],
  Deployment: ['create', 'read', 'update', 'delete', 'promote', 'rollback'],
  RunnerPool: ['create', 'read', 'update', 'delete'],
  ReviewTask: ['read', 'update', 'claim', 'decide'],
  Policy: ['create', 'read', 'update', 'delete'],
  AuditEvent: ['read'],
  AuditExport: ['create', 'read', 'verify'],
  Subscription: ['read', 'update', 'cancel'],
  UsageRecord: ['read'],
  /** A person whose personal data runs hold (crypto-shredding): delete = erase (GDPR Art. 17). */
  DataSubject: ['read', 'delete'],
} as const satisfies Record<string, readonly Action[]>;

export type SubjectName = keyof typeof SUBJECT_ACTIONS;
export const SUBJECTS = Object.keys(SUBJECT_ACTIONS) as SubjectName[];

/**
 * The attribute that ties a subject to its tenant. The compiler adds `{ [key]: tenant.id }`
 * to every allowing rule so a policy author cannot forget it; `null` marks global subjects
 * (the marketplace catalog).
 */
export const TENANT_KEY: Record<SubjectName, string | null> = {
  ...(Object.fromEntries(SUBJECTS.map((s) => [s, 'tenantId'])) as Record<SubjectName, string>),
  Tenant: 'id',
  Plugin: null,
};

export function isSubjectName(value: string): value is SubjectName {
  return Object.hasOwn(SUBJECT_ACTIONS, value);
}

export function isAction(value: string): value is Action {
  return value !== 'manage' && (ACTIONS as readonly string[]).includes(value);
}

/** True when the vocabulary declares `action` for `subject` (so a rule may grant it). */
export function isDeclared(action: string, subject: SubjectName): boolean {
  return (SUBJECT_ACTIONS[subject] as readonly string[]).includes(action);
}

/** Every (action, subject) pair the vocabulary declares: the rows of the permission matrix. */
export function declaredOperations(): { action: Action; subject: SubjectName }[] {
  return SUBJECTS.flatMap((subject) =>
    SUBJECT_ACTIONS[subject].map((action) => ({ action: action as Action, subject })),
  );
}
