import { produceAuditExport } from '@roster/audit';
import type { Pool } from '@roster/db';
import type { Task } from 'graphile-worker';

/**
 * `roster_audit_export`: produces one export a compliance officer requested
 * (`requestAuditExport` enqueues `{ tenantId, exportId }`). A failure is stored on the export
 * (status FAILED with its reason), so the job itself does not retry it.
 */
export function rosterAuditExport(pool: Pool, signingKey: string): Task {
  return async (payload, helpers) => {
    const { tenantId, exportId } = (payload ?? {}) as { tenantId?: unknown; exportId?: unknown };
    if (typeof tenantId !== 'string' || typeof exportId !== 'string') {
      helpers.logger.error('roster_audit_export needs { tenantId, exportId }');
      return;
    }
    const status = await produceAuditExport(pool, tenantId, exportId, signingKey);
    if (status === 'failed') helpers.logger.warn(`audit export ${exportId} failed`);
  };
}
