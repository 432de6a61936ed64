import type { Pool } from '@roster/db';
import { type EngineOptions, tickSchedules } from '@roster/engine';
import type { Task } from 'graphile-worker';

/**
 * `roster_schedules_tick`: fires due schedules. graphile-worker's crontab enqueues it once a
 * minute across all workers with `_cron.ts`, the minute it stands for; a job added by hand
 * (tests, an operator) without it fires what is due now.
 */
export function rosterSchedulesTick(pool: Pool, options: EngineOptions = {}): Task {
  return async (payload, helpers) => {
    const ts = (payload as { _cron?: { ts?: string | Date } } | null)?._cron?.ts;
    const at = ts === undefined ? new Date() : new Date(ts);
    const now = Number.isNaN(at.getTime()) ? new Date() : at;
    const result = await tickSchedules(pool, now, options);
    for (const failure of result.failed) {
      helpers.logger.warn(
        `schedule ${failure.scheduleId} of tenant ${failure.tenantId} could not start a run: ${failure.message}`,
      );
    }
  };
}
