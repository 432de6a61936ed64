import type { PoolClient } from '@roster/db';

/** A change to a trigger, schedule or callback, as its audit event describes it. */
export interface ChangeEvent {
  /** Dotted verb, e.g. `schedule.updated`. */
  action: string;
  subject: { type: string; id: string };
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/**
 * Appends the audit event of a change in the transaction that makes it, so both commit or
 * neither does. Like the engine's run events it names no actor: the columns' defaults read the
 * transaction's audit context (withAuditContext: the API caller), else system/engine. Callers
 * pass only what is safe to keep forever: never a signing secret.
 */
export async function recordChange(
  client: PoolClient,
  tenantId: string,
  event: ChangeEvent,
): Promise<void> {
  await client.query(
    `INSERT INTO audit_events (tenant_id, kind, data, subject_type, subject_id, before, after)
     VALUES ($1, $2, '{}', $3, $4, $5, $6)`,
    [
      tenantId,
      event.action,
      event.subject.type,
      event.subject.id,
      event.before === undefined ? null : JSON.stringify(event.before),
      event.after === undefined ? null : JSON.stringify(event.after),
    ],
  );
}
