// Delegation: a reviewer hands their review work (all of it, or one task) to another member for a
// period. The delegate then sees and acts on it, and every action records whom it was for.

import { GovernanceError } from '../errors.js';

export interface Delegation {
  id: string;
  delegatorId: string;
  delegateId: string;
  /** One task only; null = every task the delegator could act on. */
  taskId: string | null;
  startsAt: Date;
  endsAt: Date;
  revokedAt: Date | null;
}

/** Longest delegation accepted: a quarter. Longer absences are a queue membership change. */
export const MAX_DELEGATION_DAYS = 92;

export function isActive(d: Delegation, now: Date): boolean {
  const t = now.getTime();
  return !d.revokedAt && d.startsAt.getTime() <= t && t < d.endsAt.getTime();
}

function invalid(field: string, message: string): GovernanceError {
  return new GovernanceError('DELEGATION_INVALID', message, {
    reason: 'DELEGATION_INVALID',
    field,
  });
}

/** Checks a new delegation's people and period. */
export function validateDelegation(
  input: { delegatorId: string; delegateId: string; startsAt: Date; endsAt: Date },
  now: Date,
): void {
  if (input.delegatorId === input.delegateId) {
    throw invalid(
      'input.delegateId',
      'Delegate to another member: you already handle your own tasks.',
    );
  }
  if (Number.isNaN(input.startsAt.getTime()) || Number.isNaN(input.endsAt.getTime())) {
    throw invalid('input.endsAt', 'startsAt and endsAt must be ISO 8601 timestamps.');
  }
  if (
    input.endsAt.getTime() <= input.startsAt.getTime() ||
    input.endsAt.getTime() <= now.getTime()
  ) {
    throw invalid('input.endsAt', 'endsAt must be after startsAt and in the future.');
  }
  if (input.endsAt.getTime() - input.startsAt.getTime() > MAX_DELEGATION_DAYS * 86_400_000) {
    throw invalid(
      'input.endsAt',
      `A delegation lasts at most ${MAX_DELEGATION_DAYS} days; for longer, add the delegate to the queue.`,
    );
  }
}

/**
 * Whom the delegate acts for on `task`, or null when they act for themselves: a delegation of
 * this very task first, then the delegator who holds the task's claim, then (when the task's
 * queue is not one of the delegate's own) a delegator who serves that queue.
 */
export function actingFor(
  task: { id: string; queue: string; assigneeId: string | null },
  delegateId: string,
  ownQueues: ReadonlySet<string>,
  delegations: readonly Delegation[],
  queuesOf: (memberId: string) => ReadonlySet<string>,
  now: Date,
): string | null {
  const active = delegations.filter((d) => d.delegateId === delegateId && isActive(d, now));
  const forTask = active.find((d) => d.taskId === task.id);
  if (forTask) return forTask.delegatorId;
  const whole = active.filter((d) => d.taskId === null);
  const holder = whole.find((d) => d.delegatorId === task.assigneeId);
  if (holder) return holder.delegatorId;
  if (ownQueues.has(task.queue)) return null;
  return whole.find((d) => queuesOf(d.delegatorId).has(task.queue))?.delegatorId ?? null;
}
