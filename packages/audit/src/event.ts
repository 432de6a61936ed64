import type { JsonValue } from './canonical-json.js';
import { AuditError } from './errors.js';

export const ACTOR_TYPES = ['member', 'apiKey', 'system', 'runner'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export interface AuditActor {
  type: ActorType;
  id: string;
}

export interface AuditSubject {
  /** What kind of thing changed, e.g. `workflow`, `run`, `installation`. */
  type: string;
  id: string;
}

/**
 * One append-only audit record. `seq` counts from 1 per tenant without gaps; `prevHash` is the
 * `hash` of the tenant's previous event (GENESIS_HASH for seq 1); `hash` is the SHA-256 (hex)
 * of the canonical JSON of every other field.
 */
export interface AuditEvent {
  id: string;
  tenantId: string;
  seq: number;
  /** ISO 8601 timestamp with a time zone, e.g. `2025-01-31T12:00:00.000Z`. */
  occurredAt: string;
  actor: AuditActor;
  /** Dotted verb, e.g. `workflow.create`, `review.approve`. */
  action: string;
  subject: AuditSubject;
  /** The trace the change happened in; null when there was none. */
  traceId: string | null;
  /** State before and after the change, when the action changed something. */
  before?: JsonValue;
  after?: JsonValue;
  /** Everything else worth keeping (already redacted by the caller). */
  data: JsonValue;
  prevHash: string;
  hash: string;
}

/** What a caller supplies; the chain fills in seq, prevHash and hash. */
export type AuditEventDraft = Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>;

/** The fields covered by `hash`. */
export type AuditEventBody = Omit<AuditEvent, 'hash'>;

const DRAFT_KEYS = new Set([
  'id',
  'tenantId',
  'occurredAt',
  'actor',
  'action',
  'subject',
  'traceId',
  'before',
  'after',
  'data',
]);
const EVENT_KEYS = new Set([...DRAFT_KEYS, 'seq', 'prevHash', 'hash']);

const HASH_RE = /^[0-9a-f]{64}$/;
const ACTION_RE = /^[a-z][a-zA-Z0-9_-]*(\.[a-zA-Z0-9_-]+)+$/;
// RFC 3339 date-time: a zone is required so that the instant is unambiguous.
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && HASH_RE.test(value);
}

export function isIsoTimestamp(value: unknown): value is string {
  return typeof value === 'string' && ISO_RE.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * Checks the shape of an event or draft and returns a description of the first problem, or
 * null. Used both when appending (to throw) and when verifying exports (to report).
 */
export function describeEventProblem(value: unknown, { draft }: { draft: boolean }): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'an event must be a JSON object';
  }
  const e = value as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (!(draft ? DRAFT_KEYS : EVENT_KEYS).has(key)) return `unknown field "${key}"`;
  }
  if (!nonEmpty(e.id)) return 'id must be a non-empty string';
  if (!nonEmpty(e.tenantId)) return 'tenantId must be a non-empty string';
  if (!isIsoTimestamp(e.occurredAt)) {
    return 'occurredAt must be an ISO 8601 timestamp with a zone, e.g. 2025-01-31T12:00:00.000Z';
  }
  const actor = e.actor as Record<string, unknown> | null | undefined;
  if (typeof actor !== 'object' || actor === null || !nonEmpty(actor.id)) {
    return 'actor must be {type, id} with a non-empty id';
  }
  if (Object.keys(actor).length !== 2) return 'actor must have exactly the fields type and id';
  if (!(ACTOR_TYPES as readonly unknown[]).includes(actor.type)) {
    return `actor.type must be one of ${ACTOR_TYPES.join(', ')}`;
  }
  if (typeof e.action !== 'string' || !ACTION_RE.test(e.action)) {
    return 'action must be a dotted name such as workflow.create';
  }
  const subject = e.subject as Record<string, unknown> | null | undefined;
  if (typeof subject !== 'object' || subject === null || !nonEmpty(subject.type)) {
    return 'subject must be {type, id} with non-empty strings';
  }
  if (!nonEmpty(subject.id) || Object.keys(subject).length !== 2) {
    return 'subject must be {type, id} with non-empty strings';
  }
  if (e.traceId !== null && !nonEmpty(e.traceId)) return 'traceId must be a string or null';
  if (!('data' in e) || e.data === undefined) return 'data is required (use {} when empty)';
  if (draft) return null;
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) {
    return 'seq must be a positive integer';
  }
  if (!isSha256Hex(e.prevHash)) return 'prevHash must be 64 lowercase hex characters';
  if (!isSha256Hex(e.hash)) return 'hash must be 64 lowercase hex characters';
  return null;
}

export function assertValidDraft(draft: unknown): asserts draft is AuditEventDraft {
  const problem = describeEventProblem(draft, { draft: true });
  if (problem !== null) {
    throw new AuditError('AUDIT_INVALID_EVENT', `Invalid audit event: ${problem}.`, {
      eventId: (draft as { id?: unknown } | null)?.id,
    });
  }
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
