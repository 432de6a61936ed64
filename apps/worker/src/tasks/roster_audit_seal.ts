import { runAuditSeal } from '@roster/audit';
import type { Pool } from '@roster/db';
import type { Task } from 'graphile-worker';

/**
 * `roster_audit_seal`: seals tenants' pending audit events and signs a digest where the chain
 * moved. graphile-worker's crontab enqueues it at minute 0 of every hour, once across all
 * workers; `sealAuditDigests` enqueues it for one tenant (`{ tenantId }`) on demand.
 */
export function rosterAuditSeal(pool: Pool, signingKey: string): Task {
  return async (payload, helpers) => {
    const result = await runAuditSeal(pool, signingKey, payload);
    for (const failure of result.failed) {
      helpers.logger.error(
        `audit digest for tenant ${failure.tenantId} failed: ${String(failure.error)}`,
      );
    }
  };
}
