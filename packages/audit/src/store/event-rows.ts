import type { JsonValue } from '../canonical-json.js';
import { ACTOR_TYPES, type ActorType, type AuditEventDraft } from '../event.js';

/**
 * The columns an event is built from. occurredAt is formatted by Postgres (microseconds, UTC) so
 * that the sealer and every later export read the very same text: the hash covers it.
 */
export const EVENT_COLUMNS = `e.id::text AS id, e.tenant_id::text AS tenant_id, e.run_id::text AS run_id,
  e.kind, e.data, e.actor_type, e.actor_id, e.subject_type, e.subject_id, e.trace_id, e.request_id,
  e.before, e.after,
  to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at`;

export interface EventRow {
  id: string;
  tenant_id: string;
  run_id: string | null;
  kind: string;
  data: JsonValue;
  actor_type: string;
  actor_id: string;
  subject_type: string | null;
  subject_id: string | null;
  trace_id: string | null;
  request_id: string | null;
  before: JsonValue | null;
  after: JsonValue | null;
  occurred_at: string;
}

const ACTION_RE = /^[a-z][a-zA-Z0-9_-]*(\.[a-zA-Z0-9_-]+)+$/;

/**
 * An audit_events row as the event that is hashed and exported. Deterministic (rows never
 * change), so sealing and exporting agree. Rows written by the engine have no subject: it is
 * their run, or the tenant. The request id travels in data, as the export format has no field
 * for it.
 */
export function draftFromRow(row: EventRow): AuditEventDraft {
  const validAction = ACTION_RE.test(row.kind);
  let data: JsonValue = validAction ? row.data : { originalKind: row.kind, data: row.data };
  if (row.request_id !== null) {
    data =
      typeof data === 'object' && data !== null && !Array.isArray(data)
        ? { ...data, requestId: row.request_id }
        : { value: data, requestId: row.request_id };
  }
  const draft: AuditEventDraft = {
    id: row.id,
    tenantId: row.tenant_id,
    occurredAt: row.occurred_at,
    actor: {
      type: (ACTOR_TYPES as readonly string[]).includes(row.actor_type)
        ? (row.actor_type as ActorType)
        : 'system',
      id: row.actor_id || 'unknown',
    },
    action: validAction ? row.kind : 'event.unnamed',
    subject: {
      type: row.subject_type || (row.run_id ? 'run' : 'tenant'),
      id: row.subject_id || row.run_id || row.tenant_id,
    },
    traceId: row.trace_id || null,
    data,
  };
  if (row.before !== null) draft.before = row.before;
  if (row.after !== null) draft.after = row.after;
  return draft;
}
