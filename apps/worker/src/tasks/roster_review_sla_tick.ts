import type { Pool } from '@roster/db';
import type { EngineOptions } from '@roster/engine';
import type { Task } from 'graphile-worker';
import { tickReviewSla } from '../review-sla.js';

/**
 * `roster_review_sla_tick`: stamps review SLAs and escalates breached tasks. graphile-worker's
 * crontab enqueues it once a minute across all workers with `_cron.ts` (the minute it stands
 * for, so a late job still judges breaches at its minute); a job added by hand uses now.
 */
export function rosterReviewSlaTick(pool: Pool, options: EngineOptions = {}): Task {
  return async (payload, helpers) => {
    const ts = (payload as { _cron?: { ts?: string | Date } } | null)?._cron?.ts;
    const at = ts === undefined ? new Date() : new Date(ts);
    const now = Number.isNaN(at.getTime()) ? new Date() : at;
    const result = await tickReviewSla(pool, now, options);
    for (const failure of result.failed) {
      helpers.logger.warn(
        `review SLA tick failed for tenant ${failure.tenantId}: ${failure.message}`,
      );
    }
  };
}
