import { type CallWorkflowStep, getStep } from '@roster/core';
import { withTenant } from '@roster/db';
import { EngineError, StepFailure } from './errors.js';
import { evaluate } from './expressions.js';
import { flowTransaction, lockRun, transitionIn } from './flow-commit.js';
import { rowKey } from './flow-keys.js';
import { startRunsInTransaction } from './start-run.js';
import { failStep, succeedStep } from './step-outcomes.js';
import { type StepBase, specBase } from './step-plans.js';
import { declaredTimeout, type TransitionResult } from './transition.js';

/**
 * The idempotency key of the child run a callWorkflow step attempt starts: a re-executed job
 * (a crash, a redelivery) finds the same child; a retry after the child failed (a new attempt)
 * or a replay (a new generation) starts a new one.
 */
export function childRunKey(base: StepBase): string {
  const { job, stepId } = base;
  return `roster:call:${job.r}/${rowKey(stepId, job.i)}/${job.g}/${job.a}`;
}

/**
 * Starts the child run of a callWorkflow step in the same tenant and parks the step (no job is
 * held) until the runs_ended trigger sends a `child` job. The child's deadline is capped at the
 * parent's; it records parent_run_id and parent_step.
 */
export async function startChildRun(
  base: StepBase,
  step: CallWorkflowStep,
  scope: Record<string, unknown>,
  parentDeadline: string | undefined,
): Promise<TransitionResult> {
  const { job, stepId } = base;
  const key = rowKey(stepId, job.i);
  const input = step.input ? await evaluate(step.input, scope) : {};
  const { wakeAt, jobs } = declaredTimeout(job, stepId, key, step.timeout);
  return flowTransaction(base, async (tx) => {
    await lockRun(tx, job);
    const { rows } = await tx.client.query<{ workflow_id: string | null; member: string | null }>(
      `SELECT (SELECT id FROM workflows WHERE tenant_id = $1 AND lower(name) = lower($2)) AS workflow_id,
              (SELECT created_by FROM runs WHERE tenant_id = $1 AND id = $3) AS member`,
      [job.t, step.workflow, job.r],
    );
    const workflowId = rows[0]?.workflow_id;
    if (!workflowId) {
      throw new StepFailure(
        'WORKFLOW_NOT_FOUND',
        `callWorkflow "${stepId}": this tenant has no workflow named "${step.workflow}"; publish it or fix the name.`,
        { fatal: true },
      );
    }
    const started = await startRunsInTransaction(
      tx.client,
      job.t,
      [
        {
          workflowId,
          ...(step.version !== undefined ? { version: step.version } : {}),
          input: input ?? {},
          idempotencyKey: childRunKey(base),
          // The child is started by its parent run, on behalf of the parent's accountable member.
          startedBy: { kind: 'run', id: job.r, memberId: rows[0]?.member ?? null },
        },
      ],
      base.engine,
    ).catch((err: unknown) => {
      if (err instanceof EngineError && err.code !== 'CONFLICT') {
        throw new StepFailure('WORKFLOW_NOT_FOUND', err.message, { fatal: true, cause: err });
      }
      throw err;
    });
    const child = started[0];
    if (!child) throw new StepFailure('CHILD_RUN_NOT_STARTED', 'No child run was started.');
    await tx.client.query(
      `UPDATE runs SET parent_run_id = $3, parent_step = $4,
              deadline_at = least(deadline_at, coalesce($5::timestamptz, deadline_at))
        WHERE tenant_id = $1 AND id = $2`,
      [job.t, child.runId, job.r, key, parentDeadline ?? null],
    );
    // The parent's end must cancel this child if it still runs: the runs_ended trigger fires
    // for a run that started children (migration 0027).
    await tx.client.query(
      'UPDATE runs SET child_runs = true WHERE tenant_id = $1 AND id = $2 AND child_runs IS NOT TRUE',
      [job.t, job.r],
    );
    const result = await transitionIn(tx, {
      ...specBase(base),
      stepStatus: 'waiting',
      // A child inside a branch leaves the run running: other branches may still work.
      runStatus: getStep(base.definition, stepId).scope.kind === 'root' ? 'waiting' : 'running',
      ...(wakeAt ? { wakeAt } : {}),
      jobs,
      audit: [{ kind: 'step.waiting', data: { step: key, childRunId: child.runId } }],
    });
    if (result !== 'applied') return result;
    await tx.client.query(
      'UPDATE step_runs SET state = $4 WHERE tenant_id = $1 AND run_id = $2 AND step_id = $3',
      [job.t, job.r, key, JSON.stringify({ childRunId: child.runId })],
    );
    return result;
  });
}

const ENDED = new Set(['succeeded', 'failed', 'cancelled', 'dead_lettered']);

/**
 * The child run of a waiting callWorkflow step ended: the step succeeds with the child's output
 * or fails with its error (the step's retry policy and catch apply).
 */
export async function childEnded(base: StepBase): Promise<TransitionResult | 'skipped'> {
  const { job, stepId } = base;
  const key = rowKey(stepId, job.i);
  const row = await withTenant(base.pool, job.t, async ({ client }) => {
    const { rows } = await client.query<{
      status: string;
      child_id: string | null;
      child_status: string | null;
      output: unknown;
      error: { code?: string; message?: string } | null;
    }>(
      `SELECT s.status, c.id AS child_id, c.status AS child_status, c.output, c.error
         FROM step_runs s
         LEFT JOIN runs c ON c.tenant_id = s.tenant_id AND c.id = (s.state->>'childRunId')::uuid
        WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.step_id = $3`,
      [job.t, job.r, key],
    );
    return rows[0];
  });
  if (row?.status !== 'waiting' || !row.child_status || !ENDED.has(row.child_status)) {
    return 'skipped';
  }
  if (row.child_status === 'succeeded') {
    return succeedStep(base, row.output, { expectWaiting: true });
  }
  const code =
    row.error?.code ??
    (row.child_status === 'cancelled' ? 'CHILD_RUN_CANCELLED' : 'CHILD_RUN_FAILED');
  return failStep(
    base,
    new StepFailure(
      code,
      `Child run ${row.child_id} ${row.child_status}${row.error?.message ? `: ${row.error.message}` : ''}`,
    ),
    { expectWaiting: true },
  );
}
