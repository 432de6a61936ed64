import type { PoolClient } from '@roster/db';
import type { JsonValue } from '../canonical-json.js';
import { AuditError } from '../errors.js';
import type { AuditSubject } from '../event.js';
import type { AuditRequestContext } from './audit-context.js';

/** What a service says happened; who, when and in which request come from the context. */
export interface AuditRecord {
  /** Dotted verb, e.g. `workflow.renamed` (see AUDIT_ACTIONS for the names reports know). */
  action: string;
  subject: AuditSubject;
  before?: JsonValue;
  after?: JsonValue;
  /** Already free of secrets: never tokens, passwords or key secrets. Default {}. */
  data?: JsonValue;
  /** Links the event to a run (the engine's run timeline reads it). */
  runId?: string;
}

const ACTION_RE = /^[a-z][a-zA-Z0-9_-]*(\.[a-zA-Z0-9_-]+)+$/;

/**
 * Appends one audit event in the caller's transaction (a withTenant client), so the event
 * commits or rolls back with the change it describes. Returns the event's id. The hash chain is
 * computed later by the sealer; this is one INSERT.
 */
export async function recordAudit(
  client: PoolClient,
  tenantId: string,
  context: AuditRequestContext,
  record: AuditRecord,
): Promise<string> {
  if (!ACTION_RE.test(record.action)) {
    throw new AuditError(
      'AUDIT_INVALID_EVENT',
      `Audit action ${JSON.stringify(record.action)} must be a dotted name such as workflow.created.`,
    );
  }
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO audit_events (tenant_id, run_id, kind, data, actor_type, actor_id, subject_type,
                               subject_id, trace_id, request_id, before, after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id::text AS id`,
    [
      tenantId,
      record.runId ?? null,
      record.action,
      JSON.stringify(record.data ?? {}),
      context.actor.type,
      context.actor.id,
      record.subject.type,
      record.subject.id,
      context.traceId,
      context.requestId,
      record.before === undefined ? null : JSON.stringify(record.before),
      record.after === undefined ? null : JSON.stringify(record.after),
    ],
  );
  return (rows[0] as { id: string }).id;
}
