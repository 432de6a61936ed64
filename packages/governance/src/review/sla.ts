// Review SLAs: when a task is due (business time from when it entered its queue), and where a
// breached task goes next (the queue's next tier).

import { addBusinessMinutes, type BusinessCalendar } from './business-hours.js';

export interface QueueSla {
  /** Business minutes a task may wait in the queue; null = no SLA. */
  slaMinutes: number | null;
  /** The next tier's queue; null = the last tier (a breach only notifies). */
  escalateTo: string | null;
}

/** When a task that entered a queue at `since` breaches its SLA, or null without one. */
export function slaDueAt(
  since: Date,
  sla: QueueSla | undefined,
  cal: BusinessCalendar,
): Date | null {
  if (!sla?.slaMinutes) return null;
  return addBusinessMinutes(since, sla.slaMinutes, cal);
}

export function isBreached(dueAt: Date | null, now: Date): boolean {
  return dueAt !== null && dueAt.getTime() <= now.getTime();
}

/**
 * What a breach does: the task moves to the next tier (unclaimed, due again by that queue's SLA
 * from now) or, at the last tier, stays where it is; either way one notification per level.
 */
export function planEscalation(
  task: { queue: string; escalationLevel: number },
  sla: QueueSla | undefined,
): { level: number; fromQueue: string; toQueue: string | null } {
  const next = sla?.escalateTo && sla.escalateTo !== task.queue ? sla.escalateTo : null;
  return { level: task.escalationLevel + 1, fromQueue: task.queue, toQueue: next };
}
