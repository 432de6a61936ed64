import {
  AUDIT_EXPORT_TASK,
  AUDIT_SEAL_TASK,
  type AuditExportFormat,
  recordAudit,
} from '@roster/audit';
import { type Pool, withTenant } from '@roster/db';
import { badInput } from '../errors.js';
import { type AuditExportRow, EXPORT_COLUMNS } from './audit-presenter.js';
import type { ServiceActor } from './service-actor.js';

/** Longest period one export may cover: a larger audit is several exports. */
const MAX_PERIOD_DAYS = 366;

/**
 * Records an export request and enqueues its production (roster_audit_export on a worker, which
 * holds the signing key) in ONE transaction with its audit event: the file is there once the
 * export's status is READY, and is downloaded from GET /audit/exports/:id.
 */
export async function requestAuditExport(
  appPool: Pool,
  actor: ServiceActor,
  input: { from: Date; to: Date; format: AuditExportFormat },
): Promise<AuditExportRow> {
  const { from, to, format } = input;
  if (Number.isNaN(from.getTime())) throw badInput('input.from', 'from is not a date.');
  if (Number.isNaN(to.getTime())) throw badInput('input.to', 'to is not a date.');
  if (from > to) throw badInput('input.from', 'from must not be after to; swap the dates.');
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * 86_400_000) {
    throw badInput(
      'input.to',
      `An export covers at most ${MAX_PERIOD_DAYS} days; request several exports.`,
    );
  }
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query<AuditExportRow>(
      `INSERT INTO audit_exports (tenant_id, format, period_from, period_to, requested_by)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${EXPORT_COLUMNS}`,
      [actor.tenantId, format, from, to, actor.userId],
    );
    const row = rows[0] as AuditExportRow;
    await client.query('SELECT graphile_worker.add_job($1, $2::json, max_attempts => 3)', [
      AUDIT_EXPORT_TASK,
      JSON.stringify({ tenantId: actor.tenantId, exportId: row.id }),
    ]);
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'auditExport.requested',
      subject: { type: 'auditExport', id: row.id },
      after: { format, from: from.toISOString(), to: to.toISOString() },
    });
    return row;
  });
}

/**
 * Asks a worker to seal the tenant's pending events and sign a digest now (roster_audit_seal
 * with `{ tenantId }`), instead of waiting for the hourly run.
 */
export async function sealAuditDigests(appPool: Pool, actor: ServiceActor): Promise<void> {
  await withTenant(appPool, actor.tenantId, async ({ client }) => {
    await client.query('SELECT graphile_worker.add_job($1, $2::json, max_attempts => 3)', [
      AUDIT_SEAL_TASK,
      JSON.stringify({ tenantId: actor.tenantId }),
    ]);
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'auditDigest.requested',
      subject: { type: 'tenant', id: actor.tenantId },
    });
  });
}

/**
 * The file of a READY export, read and recorded (auditExport.downloaded) in one transaction:
 * who took a copy of the audit trail is itself on the trail. Undefined when there is no READY
 * export with that id in the caller's tenant.
 */
export async function downloadAuditExport(
  appPool: Pool,
  actor: ServiceActor,
  exportId: string,
): Promise<{ format: AuditExportFormat; content: Buffer; from: Date; to: Date } | undefined> {
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      format: AuditExportFormat;
      content: Buffer;
      from: Date;
      to: Date;
    }>(
      `SELECT format, content, period_from AS "from", period_to AS "to" FROM audit_exports
        WHERE tenant_id = $1 AND id = $2 AND status = 'ready'`,
      [actor.tenantId, exportId],
    );
    const row = rows[0];
    if (!row) return undefined;
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'auditExport.downloaded',
      subject: { type: 'auditExport', id: exportId },
      data: { format: row.format, bytes: row.content.length },
    });
    return row;
  });
}
