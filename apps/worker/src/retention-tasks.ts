import type { Pool } from '@roster/db';
import type { TaskList } from 'graphile-worker';
import { type RetentionTaskOptions, rosterRetentionSweep } from './tasks/roster_retention_sweep.js';

export const RETENTION_TASK = 'roster_retention_sweep';

/**
 * Daily at 03:17 UTC. graphile-worker's crontab enqueues each tick once across all workers (it
 * records the ticks it scheduled); one queue keeps a manual sweep from overlapping a cron one.
 */
export const RETENTION_CRONTAB = `17 3 * * * ${RETENTION_TASK} ?max=3&queue=roster_retention`;

export function retentionTasks(pool: Pool, options: RetentionTaskOptions = {}): TaskList {
  return { [RETENTION_TASK]: rosterRetentionSweep(pool, options) };
}
