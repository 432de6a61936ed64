import type { Pool } from '@roster/db';
import { effectiveGovernancePolicy, sweepRetention } from '@roster/governance';
import type { Task } from 'graphile-worker';

export interface RetentionTaskOptions {
  /** The sweep's clock when the job is not a cron tick. Default `() => new Date()`. */
  clock?: () => Date;
  /** Rows per statement. Default DEFAULT_RETENTION_BATCH (500). */
  batchSize?: number;
}

/**
 * `roster_retention_sweep`: removes data past each tenant's retention (its governance policy).
 * graphile-worker's crontab enqueues it once a day across all workers; a job added by hand (an
 * operator, `{ "tenantId": "…" }` for one tenant) sweeps now. Re-running it is harmless.
 */
export function rosterRetentionSweep(pool: Pool, options: RetentionTaskOptions = {}): Task {
  return async (payload, helpers) => {
    const p = (payload ?? {}) as { _cron?: { ts?: string | Date }; tenantId?: unknown };
    const ts = p._cron?.ts === undefined ? undefined : new Date(p._cron.ts);
    const now = ts && !Number.isNaN(ts.getTime()) ? ts : (options.clock ?? (() => new Date()))();
    const results = await sweepRetention(pool, {
      now,
      retentionFor: async (tenantId) =>
        (await effectiveGovernancePolicy(pool, tenantId)).policy.retention,
      ...(typeof p.tenantId === 'string' ? { tenantIds: [p.tenantId] } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    });
    for (const r of results) {
      if (Object.values(r.counts).some((n) => n > 0)) {
        helpers.logger.info(`retention sweep of tenant ${r.tenantId}: ${JSON.stringify(r.counts)}`);
      }
    }
  };
}
