// What a reviewer may do to a review task, decided from the task's state alone (no IO): claims
// are exclusive until they expire or are released, four-eyes needs distinct approvers who did
// not start the run, and a correction must fit the task's labels.

import { GovernanceError } from '../errors.js';

/** A review task as the rules need it. */
export interface ReviewTaskState {
  id: string;
  kind: 'review' | 'approval';
  status: string;
  queue: string;
  assigneeId: string | null;
  claimExpiresAt: Date | null;
  labels: string[] | null;
}

/** Who acts: the signed-in person, and the member they act for under a delegation (or null). */
export interface ReviewActor {
  memberId: string;
  onBehalfOf: string | null;
}

export interface Approval {
  memberId: string;
  onBehalfOf: string | null;
}

export type ReviewOutcome = 'approved' | 'rejected' | 'corrected';

/** The holder of an unexpired claim, or null when nobody holds one. */
export function activeAssignee(task: ReviewTaskState, now: Date): string | null {
  if (!task.assigneeId) return null;
  if (task.claimExpiresAt && task.claimExpiresAt.getTime() <= now.getTime()) return null;
  return task.assigneeId;
}

function assertOpen(task: ReviewTaskState): void {
  if (task.status !== 'open') {
    throw new GovernanceError(
      'REVIEW_CLOSED',
      `Review task ${task.id} is ${task.status}: it can no longer be claimed or decided. Refresh the queue.`,
      { reason: 'REVIEW_CLOSED', status: task.status },
    );
  }
}

/** Refuses when someone else holds the claim; the caller may claim (or keep) the task. */
export function assertClaimable(task: ReviewTaskState, actor: ReviewActor, now: Date): void {
  assertOpen(task);
  const holder = activeAssignee(task, now);
  // A delegate may take over the claim of the member they act for.
  if (holder && holder !== actor.memberId && holder !== actor.onBehalfOf) {
    throw new GovernanceError(
      'REVIEW_CLAIMED',
      `Review task ${task.id} is claimed by another reviewer until ${task.claimExpiresAt?.toISOString() ?? 'they release it'}: pick another task, or wait for the claim to be released or expire.`,
      { reason: 'REVIEW_CLAIMED', claimExpiresAt: task.claimExpiresAt?.toISOString() ?? null },
    );
  }
}

/** A claim (or a renewed one) by the actor, lasting `claimMinutes` from `now`. */
export function planClaim(
  task: ReviewTaskState,
  actor: ReviewActor,
  now: Date,
  claimMinutes: number,
): { assigneeId: string; claimExpiresAt: Date } {
  assertClaimable(task, actor, now);
  return {
    assigneeId: actor.memberId,
    claimExpiresAt: new Date(now.getTime() + claimMinutes * 60_000),
  };
}

/** Releasing needs the claim (or `force`, for those who may reassign tasks). */
export function assertReleasable(
  task: ReviewTaskState,
  actor: ReviewActor,
  now: Date,
  force: boolean,
): void {
  assertOpen(task);
  const holder = activeAssignee(task, now);
  if (!holder || (holder !== actor.memberId && !force)) {
    throw new GovernanceError(
      'REVIEW_NOT_CLAIMED',
      holder
        ? `Review task ${task.id} is claimed by another reviewer; only they (or an admin) can release it.`
        : `Review task ${task.id} is not claimed; there is nothing to release.`,
      { reason: 'REVIEW_NOT_CLAIMED' },
    );
  }
}

/** Approvals a task needs: 2 under four-eyes (queue setting), or the step's minApprovals if more. */
export function requiredApprovals(policy: {
  fourEyes: boolean;
  minApprovals?: number | null;
}): number {
  return Math.max(policy.fourEyes ? 2 : 1, policy.minApprovals ?? 1);
}

/**
 * Adds the actor's approval. Refuses a person who already approved (themselves, or for the
 * member they act for), and the run's initiator (nor anyone acting for them) when the task needs
 * more than one approval. `complete` is true once enough distinct people approved.
 */
export function planApproval(
  task: ReviewTaskState,
  actor: ReviewActor,
  context: { approvals: Approval[]; required: number; initiatorId: string | null },
): { complete: boolean; count: number } {
  assertOpen(task);
  const people = (a: Approval | ReviewActor) =>
    [a.memberId, a.onBehalfOf].filter((p): p is string => p !== null);
  const mine = people(actor);
  if (context.approvals.some((a) => people(a).some((p) => mine.includes(p)))) {
    throw new GovernanceError(
      'REVIEW_SAME_APPROVER',
      `Review task ${task.id} needs ${context.required} different approvers and you (or the member you act for) already approved it: another person has to approve.`,
      { reason: 'REVIEW_SAME_APPROVER' },
    );
  }
  if (context.required > 1 && context.initiatorId && mine.includes(context.initiatorId)) {
    throw new GovernanceError(
      'REVIEW_INITIATOR_APPROVER',
      `Review task ${task.id} needs four eyes, and the person who started the run may not approve it: ask another reviewer.`,
      { reason: 'REVIEW_INITIATOR_APPROVER' },
    );
  }
  const count = context.approvals.length + 1;
  return { complete: count >= context.required, count };
}

/** A correction's output: `label` must be one of the task's labels when it has any. */
export function validateCorrection(
  task: ReviewTaskState,
  correction: { label?: string | null; output?: Record<string, unknown> | null },
): { label: string | null; output: Record<string, unknown> } {
  assertOpen(task);
  if (task.kind !== 'review') {
    throw new GovernanceError(
      'REVIEW_INPUT_INVALID',
      'Approval tasks are approved or rejected, not corrected.',
      { reason: 'REVIEW_INPUT_INVALID', field: 'input' },
    );
  }
  const label = correction.label ?? null;
  if (label === null && !correction.output) {
    throw new GovernanceError(
      'REVIEW_INPUT_INVALID',
      'A correction needs the right label (input.label) or a corrected output (input.output).',
      { reason: 'REVIEW_INPUT_INVALID', field: 'input.label' },
    );
  }
  if (label !== null && task.labels && !task.labels.includes(label)) {
    throw new GovernanceError(
      'REVIEW_INPUT_INVALID',
      `'${label}' is not one of this task's labels (${task.labels.join(', ')}).`,
      { reason: 'REVIEW_INPUT_INVALID', field: 'input.label' },
    );
  }
  return { label, output: { ...(correction.output ?? {}), ...(label !== null ? { label } : {}) } };
}
