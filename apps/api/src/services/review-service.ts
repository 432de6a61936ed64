// Review task writes: claim, release, approve, reject, correct, comment, reassign. Each checks
// the caller's rights on THAT task (their queues, their claim, or the delegator's they act for),
// applies @roster/governance's rules, writes the change and its AuditEvent in one transaction,
// and only then resumes the run (the engine's own transaction): nothing holds a job meanwhile.

import { recordAudit } from '@roster/audit';
import { type Pool, withTenant } from '@roster/db';
import { completeReviewTask, rerunWaitingStep } from '@roster/engine';
import {
  assertClaimable,
  assertListedApprover,
  assertReleasable,
  CONNECTOR_APPROVAL_GATE,
  GovernanceError,
  planApproval,
  planClaim,
  type ReviewActor,
  requiredApprovals,
  validateCorrection,
} from '@roster/governance';
import { resolveDecisionReview } from '@roster/inference';
import { ApiError, badInput, notFound } from '../errors.js';
import { asAuditCaller } from './audit-actor.js';
import {
  type ReviewAccess,
  type ReviewCaller,
  reviewAccess,
  reviewActorFor,
  taskSubject,
} from './review-access.js';
import {
  type ApprovalRow,
  addComment,
  approvalsOf,
  lockTask,
  memberIdentity,
  type ReviewCommentRow,
  type ReviewTaskRow,
  readQueue,
  readSettings,
  type StepPolicy,
  stepPolicy,
} from './review-store.js';

const API_CODES: Record<string, 'CONFLICT' | 'FORBIDDEN' | 'BAD_USER_INPUT'> = {
  REVIEW_CLOSED: 'CONFLICT',
  REVIEW_CLAIMED: 'CONFLICT',
  REVIEW_NOT_CLAIMED: 'CONFLICT',
  REVIEW_SAME_APPROVER: 'FORBIDDEN',
  REVIEW_INITIATOR_APPROVER: 'FORBIDDEN',
  REVIEW_NOT_APPROVER: 'FORBIDDEN',
};

/** A governance rule's refusal as the API shows it: the API code, `reason` the precise one. */
export function reviewApiError(error: unknown): unknown {
  if (!(error instanceof GovernanceError)) return error;
  return new ApiError(API_CODES[error.code] ?? 'BAD_USER_INPUT', error.message, {
    reason: error.code,
    ...error.details,
  });
}

async function translated<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw reviewApiError(error);
  }
}

interface InTask {
  client: Parameters<Parameters<typeof withTenant>[2]>[0]['client'];
  task: ReviewTaskRow;
  access: ReviewAccess;
  who: ReviewActor;
  /** The workflow step's policy, once read (approval tasks). */
  step?: StepPolicy;
}

/** Locks the task, builds the caller's review rights, and checks they may read it. */
async function inTask<T>(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  now: Date,
  fn: (ctx: InTask) => Promise<T>,
): Promise<T> {
  return translated(() =>
    withTenant(pool, caller.tenantId, async ({ client }) => {
      const task = await lockTask(client, caller.tenantId, taskId);
      if (!task) throw notFound('That review task');
      const access = await reviewAccess(client, caller, now);
      const who = reviewActorFor(access, task, now);
      access
        .abilityFor(who)
        .assert('read', taskSubject(caller.tenantId, task, task.assigneeId, who));
      return fn({ client, task, access, who });
    }),
  );
}

function audit(
  caller: ReviewCaller,
  c: InTask,
  action: string,
  extra: Record<string, unknown> = {},
) {
  return recordAudit(c.client, caller.tenantId, caller.audit, {
    action,
    subject: { type: 'reviewTask', id: c.task.id },
    runId: c.task.runId,
    data: {
      queue: c.task.queue,
      step: c.task.stepId,
      ...(c.who.onBehalfOf ? { onBehalfOf: c.who.onBehalfOf } : {}),
      ...extra,
    } as never,
  });
}

/** Claims the task for the caller (or renews their claim); someone else's claim is a CONFLICT. */
async function claimInTask(caller: ReviewCaller, c: InTask, now: Date): Promise<void> {
  assertClaimable(c.task, c.who, now);
  c.access.abilityFor(c.who).assert('claim', taskSubject(caller.tenantId, c.task, null, c.who));
  const { claimMinutes } = await readSettings(c.client, caller.tenantId);
  const claim = planClaim(c.task, c.who, now, claimMinutes);
  await c.client.query(
    'UPDATE review_tasks SET assignee_id = $3, claim_expires_at = $4 WHERE tenant_id = $1 AND id = $2',
    [caller.tenantId, c.task.id, claim.assigneeId, claim.claimExpiresAt],
  );
  c.task.assigneeId = claim.assigneeId;
  c.task.claimExpiresAt = claim.claimExpiresAt;
}

export async function claimReviewTask(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  now = new Date(),
): Promise<ReviewTaskRow> {
  return inTask(pool, caller, taskId, now, async (c) => {
    await claimInTask(caller, c, now);
    await audit(caller, c, 'reviewTask.claimed', {
      claimExpiresAt: c.task.claimExpiresAt?.toISOString() ?? null,
    });
    return c.task;
  });
}

export async function releaseReviewTask(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  now = new Date(),
): Promise<ReviewTaskRow> {
  return inTask(pool, caller, taskId, now, async (c) => {
    const force = c.access
      .abilityFor(c.who)
      .can('update', taskSubject(caller.tenantId, c.task, c.task.assigneeId, c.who));
    const principalHolds = c.who.onBehalfOf !== null && c.task.assigneeId === c.who.onBehalfOf;
    assertReleasable(
      c.task,
      principalHolds ? { ...c.who, memberId: c.who.onBehalfOf as string } : c.who,
      now,
      force,
    );
    await c.client.query(
      'UPDATE review_tasks SET assignee_id = NULL, claim_expires_at = NULL WHERE tenant_id = $1 AND id = $2',
      [caller.tenantId, c.task.id],
    );
    await audit(caller, c, 'reviewTask.released', { heldBy: c.task.assigneeId });
    c.task.assigneeId = null;
    c.task.claimExpiresAt = null;
    return c.task;
  });
}

/** Claims if needed, then checks `decide` on the task as claimed by the caller. */
async function decideInTask(caller: ReviewCaller, c: InTask, now: Date): Promise<void> {
  if (c.task.outcome) {
    // Decided; the run is being resumed (status flips when the engine closes the task).
    throw new ApiError('CONFLICT', `Review task ${c.task.id} was already ${c.task.outcome}.`, {
      reason: 'REVIEW_CLOSED',
    });
  }
  await claimInTask(caller, c, now);
  c.access
    .abilityFor(c.who)
    .assert('decide', taskSubject(caller.tenantId, c.task, c.task.assigneeId, c.who));
  if (c.task.kind === 'approval' && !isConnectorGate(c.task)) {
    // An approval step listing its approvers: only they (or holders of its role) decide, also
    // when acting for someone, in which case the member acted for must be listed.
    c.step = await stepPolicy(c.client, caller.tenantId, c.task);
    if (c.step.approvers?.members) {
      const principal = c.who.onBehalfOf ?? c.who.memberId;
      assertListedApprover(
        c.task.id,
        c.step.approvers,
        await memberIdentity(c.client, caller.tenantId, principal),
      );
    }
  }
}

type DecisionReason = 'BELOW_THRESHOLD' | 'INFERENCE_FAILED';
const decisionReason = (task: ReviewTaskRow): DecisionReason | null =>
  task.data.reason === 'BELOW_THRESHOLD' || task.data.reason === 'INFERENCE_FAILED'
    ? task.data.reason
    : null;

/**
 * How the run moves on once the transaction committed: a decision resumes with a label, a review
 * or approval step with an output, and a connector action's approval gate (packages/governance
 * policy) runs its step again, which reads the task's outcome and calls the connector or fails.
 */
type Resume =
  | { decisionLabel: string }
  | { output: Record<string, unknown> }
  | { rerun: { runId: string; stepId: string } }
  | null;

const isConnectorGate = (task: ReviewTaskRow) => task.data.gate === CONNECTOR_APPROVAL_GATE;

async function resume(pool: Pool, caller: ReviewCaller, taskId: string, r: Resume) {
  if (!r) return;
  await translated(() =>
    asAuditCaller(caller.audit, async () => {
      if ('rerun' in r) {
        await rerunWaitingStep(pool, caller.tenantId, r.rerun.runId, r.rerun.stepId);
      } else if ('decisionLabel' in r) {
        await resolveDecisionReview(pool, caller.tenantId, taskId, { label: r.decisionLabel });
      } else {
        await completeReviewTask(pool, caller.tenantId, taskId, r.output);
      }
    }),
  );
}

/**
 * Records the answer. `result` keeps what the run resumes with until the engine closes the task
 * (and overwrites it): the worker's SLA tick re-drives an answer whose resume never happened.
 */
async function closeTask(
  caller: ReviewCaller,
  c: InTask,
  answer: {
    outcome: 'approved' | 'rejected' | 'corrected';
    corrected: unknown;
    resume: NonNullable<Resume>;
    now: Date;
  },
) {
  const tenantId = caller.tenantId;
  const gate = 'rerun' in answer.resume;
  await c.client.query(
    `UPDATE review_tasks SET outcome = $3, corrected_output = $4, decided_by = $5, decided_at = $6, result = $7,
            status = CASE WHEN $8 THEN 'resolved' ELSE status END,
            resolved_at = CASE WHEN $8 THEN $6 ELSE resolved_at END
      WHERE tenant_id = $1 AND id = $2`,
    [
      tenantId,
      c.task.id,
      answer.outcome,
      answer.corrected === null ? null : JSON.stringify(answer.corrected),
      c.who.memberId,
      answer.now,
      JSON.stringify(gate ? { approved: answer.outcome === 'approved' } : answer.resume),
      gate,
    ],
  );
  c.task.outcome = answer.outcome;
  // The outcome against the SLA, for the compliance report's review performance.
  await recordAudit(c.client, tenantId, caller.audit, {
    action: 'review.decided',
    subject: { type: 'reviewTask', id: c.task.id },
    runId: c.task.runId,
    data: {
      openedAt: c.task.createdAt.toISOString(),
      dueAt: c.task.slaDueAt?.toISOString() ?? null,
      decidedAt: answer.now.toISOString(),
      outcome: answer.outcome,
    },
  });
}

export interface DecideResult {
  task: ReviewTaskRow & { approvals: ApprovalRow[] };
  /** Approvals so far and needed (four-eyes); the run resumes once they meet. */
  approvals: number;
  requiredApprovals: number;
}

export async function approveReviewTask(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  now = new Date(),
): Promise<DecideResult> {
  const { result, next } = await inTask(pool, caller, taskId, now, async (c) => {
    await decideInTask(caller, c, now);
    const reason = decisionReason(c.task);
    if (reason === 'INFERENCE_FAILED') {
      throw badInput(
        'input.id',
        'The model gave no label to approve: use correctReviewTask with the right label.',
      );
    }
    const queue = await readQueue(c.client, caller.tenantId, c.task.queue);
    const policy = c.step ?? (await stepPolicy(c.client, caller.tenantId, c.task));
    const required = requiredApprovals({
      fourEyes:
        (queue?.fourEyes ?? false) || (isConnectorGate(c.task) && c.task.data.fourEyes === true),
      minApprovals: c.task.kind === 'approval' ? policy.minApprovals : null,
    });
    const approvals =
      (await approvalsOf(c.client, caller.tenantId, [c.task.id])).get(c.task.id) ?? [];
    const plan = planApproval(c.task, c.who, {
      approvals,
      required,
      initiatorId: policy.initiatorId,
    });
    await c.client.query(
      'INSERT INTO review_approvals (tenant_id, task_id, member_id, on_behalf_of) VALUES ($1, $2, $3, $4)',
      [caller.tenantId, c.task.id, c.who.memberId, c.who.onBehalfOf],
    );
    const approvers = [...approvals.map((a) => a.memberId), c.who.memberId];
    let next: Resume = null;
    if (plan.complete) {
      const label = (c.task.data.decision as { label?: string } | undefined)?.label;
      next = isConnectorGate(c.task)
        ? { rerun: { runId: c.task.runId, stepId: c.task.stepId } }
        : reason && label
          ? { decisionLabel: label }
          : { output: { outcome: 'approved', approvers } };
      await closeTask(caller, c, {
        outcome: 'approved',
        corrected: null,
        resume: next,
        now,
      });
    } else {
      // The next approver has to be someone else: free the task for them.
      await c.client.query(
        'UPDATE review_tasks SET assignee_id = NULL, claim_expires_at = NULL WHERE tenant_id = $1 AND id = $2',
        [caller.tenantId, c.task.id],
      );
      c.task.assigneeId = null;
      c.task.claimExpiresAt = null;
    }
    await audit(caller, c, 'reviewTask.approved', {
      approvals: plan.count,
      requiredApprovals: required,
      complete: plan.complete,
    });
    const task = {
      ...c.task,
      approvals: [
        ...approvals,
        { memberId: c.who.memberId, onBehalfOf: c.who.onBehalfOf, createdAt: now },
      ],
    };
    return { result: { task, approvals: plan.count, requiredApprovals: required }, next };
  });
  await resume(pool, caller, taskId, next);
  return result;
}

export async function rejectReviewTask(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  input: { reason?: string | null },
  now = new Date(),
): Promise<ReviewTaskRow> {
  const { task, next } = await inTask(pool, caller, taskId, now, async (c) => {
    await decideInTask(caller, c, now);
    if (decisionReason(c.task)) {
      throw badInput(
        'input.id',
        'A model decision is not rejected but corrected: use correctReviewTask with the right label.',
      );
    }
    const output = {
      outcome: 'rejected',
      rejectedBy: c.who.memberId,
      reason: input.reason ?? null,
    };
    const resumeWith: NonNullable<Resume> = isConnectorGate(c.task)
      ? { rerun: { runId: c.task.runId, stepId: c.task.stepId } }
      : { output };
    await closeTask(caller, c, {
      outcome: 'rejected',
      corrected: null,
      resume: resumeWith,
      now,
    });
    await audit(caller, c, 'reviewTask.rejected', { reason: input.reason ?? null });
    return { task: c.task, next: resumeWith };
  });
  await resume(pool, caller, taskId, next);
  return task;
}

/** The reviewer's corrected output is stored beside the model's, and the run resumes with it. */
export async function correctReviewTask(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  input: { label?: string | null; output?: Record<string, unknown> | null },
  now = new Date(),
): Promise<ReviewTaskRow> {
  const { task, next } = await inTask(pool, caller, taskId, now, async (c) => {
    await decideInTask(caller, c, now);
    const corrected = validateCorrection(c.task, input);
    const reason = decisionReason(c.task);
    if (reason && corrected.label === null) {
      throw badInput(
        'input.label',
        "Correct a model's decision with the right label (input.label).",
      );
    }
    const original = reason
      ? ((c.task.data.decision as Record<string, unknown> | undefined) ?? null)
      : c.task.data;
    const resumeWith: NonNullable<Resume> = reason
      ? { decisionLabel: corrected.label as string }
      : { output: { outcome: 'corrected', ...corrected.output, original } };
    await closeTask(caller, c, {
      outcome: 'corrected',
      corrected: corrected.output,
      resume: resumeWith,
      now,
    });
    c.task.correctedOutput = corrected.output;
    await audit(caller, c, 'reviewTask.corrected', {
      label: corrected.label,
      modelLabel: (original as { label?: string } | null)?.label ?? null,
    });
    return { task: c.task, next: resumeWith };
  });
  await resume(pool, caller, taskId, next);
  return task;
}

export async function addReviewComment(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  body: string,
  now = new Date(),
): Promise<ReviewCommentRow> {
  const text = body.trim();
  if (text.length === 0 || text.length > 10_000) {
    throw badInput('input.body', 'A comment has 1 to 10,000 characters.');
  }
  return inTask(pool, caller, taskId, now, async (c) => {
    // Those who may work the task's queue may comment, whoever holds the claim.
    c.access.abilityFor(c.who).assert('claim', taskSubject(caller.tenantId, c.task, null, c.who));
    const comment = await addComment(c.client, caller.tenantId, {
      taskId: c.task.id,
      authorId: c.who.memberId,
      onBehalfOf: c.who.onBehalfOf,
      body: text,
    });
    await audit(caller, c, 'reviewTask.commented', { commentId: comment.id });
    return comment;
  });
}

/** Moves an open task to another queue (unclaimed); for those who may update review tasks. */
export async function reassignReviewTask(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  queue: string,
  now = new Date(),
): Promise<ReviewTaskRow> {
  if (!/^[a-z0-9][a-z0-9:._-]{0,63}$/.test(queue)) {
    throw badInput('input.queue', 'A queue name is 1-64 lower-case letters, digits and : . _ -');
  }
  return inTask(pool, caller, taskId, now, async (c) => {
    c.access
      .abilityFor(c.who)
      .assert('update', taskSubject(caller.tenantId, c.task, c.task.assigneeId, c.who));
    if (c.task.status !== 'open') {
      throw new ApiError(
        'CONFLICT',
        `Review task ${c.task.id} is ${c.task.status}; only open tasks move.`,
        {
          reason: 'REVIEW_CLOSED',
        },
      );
    }
    await c.client.query(
      `UPDATE review_tasks SET queue = $3, assignee_id = NULL, claim_expires_at = NULL,
              sla_stamped = false, sla_due_at = NULL WHERE tenant_id = $1 AND id = $2`,
      [caller.tenantId, c.task.id, queue],
    );
    await audit(caller, c, 'reviewTask.reassigned', { from: c.task.queue, to: queue });
    return { ...c.task, queue, assigneeId: null, claimExpiresAt: null, slaDueAt: null };
  });
}
