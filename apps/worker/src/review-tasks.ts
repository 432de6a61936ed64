import type { Pool } from '@roster/db';
import type { EngineOptions } from '@roster/engine';
import type { TaskList } from 'graphile-worker';
import { REVIEW_SLA_CRONTAB, REVIEW_SLA_TASK } from './review-sla.js';
import { rosterReviewSlaTick } from './tasks/roster_review_sla_tick.js';

/** The review product's crontab: the once-a-minute SLA tick. */
export const REVIEW_CRONTAB = REVIEW_SLA_CRONTAB;

export function reviewTasks(pool: Pool, options: EngineOptions = {}): TaskList {
  return { [REVIEW_SLA_TASK]: rosterReviewSlaTick(pool, options) };
}
