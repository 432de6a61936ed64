import { type ExportRedaction, produceAuditExport } from '@roster/audit';
import type { Pool } from '@roster/db';
import {
  createAuditEventRedactor,
  createReportSummaryRedactor,
  effectiveGovernancePolicy,
  type GovernancePolicy,
  redactionRulesOf,
} from '@roster/governance';
import type { Task } from 'graphile-worker';
import { governanceDefaults } from '../governance-defaults.js';

/**
 * `roster_audit_export`: produces one export a compliance officer requested
 * (`requestAuditExport` enqueues `{ tenantId, exportId }`). The CSV and PDF copies are redacted
 * with the tenant's governance policy as it is now; the signed JSONL export never is. A failure
 * is stored on the export (status FAILED with its reason), so the job itself does not retry it.
 */
export function rosterAuditExport(
  pool: Pool,
  signingKey: string,
  governanceDefaults?: GovernancePolicy,
): Task {
  return async (payload, helpers) => {
    const { tenantId, exportId } = (payload ?? {}) as { tenantId?: unknown; exportId?: unknown };
    if (typeof tenantId !== 'string' || typeof exportId !== 'string') {
      helpers.logger.error('roster_audit_export needs { tenantId, exportId }');
      return;
    }
    const redaction = await exportRedaction(pool, tenantId, governanceDefaults);
    const status = await produceAuditExport(pool, tenantId, exportId, signingKey, { redaction });
    if (status === 'failed') helpers.logger.warn(`audit export ${exportId} failed`);
  };
}

async function exportRedaction(
  pool: Pool,
  tenantId: string,
  defaults: GovernancePolicy | undefined,
): Promise<ExportRedaction> {
  const { policy } = await effectiveGovernancePolicy(pool, tenantId, {
    defaults: defaults ?? (await governanceDefaults()),
  });
  const rules = redactionRulesOf(policy.redaction);
  return { event: createAuditEventRedactor(rules), summary: createReportSummaryRedactor(rules) };
}
