import type { JsonValue } from './canonical-json.js';
import type { AuditEvent, AuditEventDraft } from './event.js';
import { isIsoTimestamp } from './event.js';

/**
 * The audit actions that reports understand. Engine, governance and API code emit exactly
 * these names with exactly these `data` shapes (build drafts with actionDraft), so that an
 * export can be summarized without knowing the code that wrote it. Any other dotted action is
 * still chained, exported and verified; reports count it in a generic section.
 */
export const AUDIT_ACTIONS = {
  /** A model result was used by a run. */
  decisionRecorded: 'decision.recorded',
  /** A person decided a review task. */
  reviewDecided: 'review.decided',
  /** A governance policy (thresholds, redaction, retention, approvals) changed. */
  policyChanged: 'policy.changed',
  /** A role's permissions changed. */
  permissionChanged: 'permission.changed',
  /** A member was given another role. */
  memberRoleChanged: 'member.role_changed',
  apiKeyCreated: 'apikey.created',
  apiKeyRevoked: 'apikey.revoked',
} as const;

export type AuditActionName = (typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS];

/** `auto`: the confidence cleared the threshold; `review`: a person was asked. */
export type DecisionOutcome = 'auto' | 'review';
export type ReviewOutcome = 'approved' | 'rejected' | 'corrected';

export type DecisionRecordedData = {
  model: string;
  modelVersion: string;
  label: string;
  /** 0..1 */
  confidence: number;
  /** The review threshold in force, 0..1. */
  threshold: number;
  outcome: DecisionOutcome;
};

export type ReviewDecidedData = {
  /** When the review task was opened, ISO 8601. */
  openedAt: string;
  /** The SLA deadline, ISO 8601; null when the task's queue has no SLA. */
  dueAt: string | null;
  decidedAt: string;
  outcome: ReviewOutcome;
};

export type PolicyChangedData = {
  /** The policy's name, e.g. `review-thresholds`. */
  policy: string;
  /** One line for people, e.g. "email-triage threshold 0.80 → 0.85". */
  summary: string;
};

export type PermissionChangedData = {
  role: string;
  /** Permissions added and removed, e.g. `workflow:update`. */
  granted: string[];
  revoked: string[];
};

export type MemberRoleChangedData = {
  memberId: string;
  fromRole: string | null;
  toRole: string | null;
};

export type ApiKeyCreatedData = {
  /** The key's public prefix, never the secret. */
  keyPrefix: string;
  name: string;
  scopes: string[];
};

export type ApiKeyRevokedData = { keyPrefix: string; name: string };

/** The data shape of each known action. */
export type AuditActionData = {
  'decision.recorded': DecisionRecordedData;
  'review.decided': ReviewDecidedData;
  'policy.changed': PolicyChangedData;
  'permission.changed': PermissionChangedData;
  'member.role_changed': MemberRoleChangedData;
  'apikey.created': ApiKeyCreatedData;
  'apikey.revoked': ApiKeyRevokedData;
};

/** A draft of a known action whose data the compiler checks against AuditActionData. */
export function actionDraft<A extends AuditActionName>(
  action: A,
  draft: Omit<AuditEventDraft, 'action' | 'data'> & { data: AuditActionData[A] },
): AuditEventDraft {
  return { ...draft, action, data: draft.data as JsonValue };
}

const KNOWN = new Set<string>(Object.values(AUDIT_ACTIONS));

export function isKnownAction(action: string): action is AuditActionName {
  return KNOWN.has(action);
}

/**
 * The event's data if the event is `action` and its data has that action's shape, else null.
 * Exports are untrusted input even once verified (a signed record can still be odd), so
 * readers check instead of casting.
 */
export function readActionData<A extends AuditActionName>(
  event: Pick<AuditEvent, 'action' | 'data'>,
  action: A,
): AuditActionData[A] | null {
  if (event.action !== action) return null;
  const data = event.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  return SHAPES[action](data) ? (data as unknown as AuditActionData[A]) : null;
}

type Fields = { [key: string]: JsonValue };

const str = (v: JsonValue | undefined): boolean => typeof v === 'string' && v.length > 0;
const strOrNull = (v: JsonValue | undefined): boolean => v === null || str(v);
const unit = (v: JsonValue | undefined): boolean =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
const strings = (v: JsonValue | undefined): boolean =>
  Array.isArray(v) && v.every((item) => typeof item === 'string');

const SHAPES: { [A in AuditActionName]: (d: Fields) => boolean } = {
  'decision.recorded': (d) =>
    str(d.model) &&
    str(d.modelVersion) &&
    str(d.label) &&
    unit(d.confidence) &&
    unit(d.threshold) &&
    (d.outcome === 'auto' || d.outcome === 'review'),
  'review.decided': (d) =>
    isIsoTimestamp(d.openedAt) &&
    (d.dueAt === null || isIsoTimestamp(d.dueAt)) &&
    isIsoTimestamp(d.decidedAt) &&
    (d.outcome === 'approved' || d.outcome === 'rejected' || d.outcome === 'corrected'),
  'policy.changed': (d) => str(d.policy) && typeof d.summary === 'string',
  'permission.changed': (d) => str(d.role) && strings(d.granted) && strings(d.revoked),
  'member.role_changed': (d) => str(d.memberId) && strOrNull(d.fromRole) && strOrNull(d.toRole),
  'apikey.created': (d) => str(d.keyPrefix) && typeof d.name === 'string' && strings(d.scopes),
  'apikey.revoked': (d) => str(d.keyPrefix) && typeof d.name === 'string',
};
