import {
  createJoinState,
  createMapState,
  type JoinState,
  type MapState,
  type MapStep,
  nestedStepIds,
  type ParallelStep,
  planMap,
  planParallel,
} from '@roster/core';
import { StepFailure } from './errors.js';
import { evaluate } from './expressions.js';
import { type FlowTx, flowTransaction, lockRun, transitionIn } from './flow-commit.js';
import { markerKey, rowKey } from './flow-keys.js';
import { succeedStep } from './step-outcomes.js';
import { type StepBase, specBase } from './step-plans.js';
import { declaredTimeout, type JobSpec, stepJob, type TransitionResult } from './transition.js';

/**
 * Starts a parallel step: every branch's first step is enqueued, each branch gets a marker row,
 * and the step waits (holding no job) with its join state until the branches end (fan-in in
 * flow-commit.ts).
 */
export async function startParallel(base: StepBase, step: ParallelStep): Promise<TransitionResult> {
  const plan = planParallel(base.definition, base.stepId);
  if (plan.branches.length === 0) return succeedStep(base, {});
  const state: JoinState = createJoinState(plan);
  return fanOut(base, step, state, {
    markers: plan.branches.map((b) => ({ member: b.name, status: 'running', state: null })),
    jobs: plan.branches.map((b) => stepJob(base.job, b.start, 1)),
  });
}

/**
 * Starts a map step over the value of its `items`: a marker row per item (holding the item, so
 * no job payload carries tenant data) and the first `concurrency` iterations; the rest start as
 * iterations end. An empty list succeeds at once with [].
 */
export async function startMap(
  base: StepBase,
  step: MapStep,
  scope: Record<string, unknown>,
): Promise<TransitionResult> {
  const items = await evaluate(step.items, scope);
  const planned = planMap(base.definition, base.stepId, items);
  if (!planned.ok) throw new StepFailure(planned.errorCode, planned.message, { fatal: true });
  const { state, decision } = createMapState(planned.plan);
  if (decision.kind === 'proceed') return succeedStep(base, []);
  const start = new Set(decision.kind === 'continue' ? decision.start : []);
  const outer = base.job.i ?? [];
  return fanOut(base, step, state, {
    markers: planned.plan.items.map((item, index) => ({
      member: index,
      status: start.has(index) ? 'running' : 'pending',
      state: { item },
    })),
    jobs: [...start].map((index) =>
      stepJob({ ...base.job, i: [...outer, index] }, planned.plan.start, 1),
    ),
  });
}

interface Marker {
  member: string | number;
  status: 'running' | 'pending';
  state: unknown;
}

async function fanOut(
  base: StepBase,
  step: ParallelStep | MapStep,
  state: JoinState | MapState,
  fan: { markers: Marker[]; jobs: JobSpec[] },
): Promise<TransitionResult> {
  const { job, stepId } = base;
  const key = rowKey(stepId, job.i);
  // Only a declared timeout bounds a fan-out (the 5 m default would cut long maps short).
  const timer = declaredTimeout(job, stepId, key, step.timeout);
  const jobs = [...fan.jobs, ...timer.jobs];
  const { wakeAt } = timer;
  return flowTransaction(base, async (tx) => {
    await lockRun(tx, job);
    if (await alreadyFannedOut(tx, base, key)) return 'duplicate';
    const result = await transitionIn(tx, {
      ...specBase(base),
      stepStatus: 'waiting',
      runStatus: 'running',
      ...(wakeAt ? { wakeAt } : {}),
      jobs,
      audit: [
        {
          kind: 'step.fanned_out',
          data: { step: key, attempt: job.a, scopes: fan.markers.length, started: fan.jobs.length },
        },
      ],
    });
    if (result !== 'applied') return result;
    await resetNested(tx, base, key);
    await tx.client.query(
      `UPDATE step_runs SET state = $4 WHERE tenant_id = $1 AND run_id = $2 AND step_id = $3`,
      [job.t, job.r, key, JSON.stringify(state)],
    );
    await tx.client.query(
      `INSERT INTO step_runs AS s (tenant_id, run_id, step_id, status, attempt, generation, state)
       SELECT $1, $2, m.key, m.status, $4, $5, m.state
         FROM jsonb_to_recordset($3::jsonb) AS m(key text, status text, state jsonb)
       ON CONFLICT (tenant_id, run_id, step_id) DO UPDATE SET
         status = excluded.status, attempt = excluded.attempt, generation = excluded.generation,
         state = excluded.state, output = NULL, error = NULL, wake_at = NULL,
         attempts = '[]'::jsonb, started_at = now(), finished_at = NULL, updated_at = now()`,
      [
        job.t,
        job.r,
        JSON.stringify(
          fan.markers.map((m) => ({
            key: markerKey(key, m.member),
            status: m.status,
            state: m.state,
          })),
        ),
        job.a,
        job.g,
      ],
    );
    return result;
  });
}

/** A second job for an attempt already fanned out must not start its branches again. */
async function alreadyFannedOut(tx: FlowTx, base: StepBase, key: string): Promise<boolean> {
  const { rows } = await tx.client.query<{ status: string; attempt: number; generation: number }>(
    'SELECT status, attempt, generation FROM step_runs WHERE tenant_id = $1 AND run_id = $2 AND step_id = $3',
    [base.job.t, base.job.r, key],
  );
  const row = rows[0];
  return row?.status === 'waiting' && row.attempt === base.job.a && row.generation === base.job.g;
}

/**
 * A fan-out that runs again (a retry of the step, a replay) starts its scopes afresh: rows of the
 * steps inside it under this instance are reset (attempt 0, so their next attempt 1 applies),
 * and their outputs stop being visible.
 */
async function resetNested(tx: FlowTx, base: StepBase, key: string): Promise<void> {
  const nested = nestedStepIds(base.definition, base.stepId);
  const path = (base.job.i ?? []).join('.');
  await tx.client.query(
    `UPDATE step_runs SET status = 'cancelled', attempt = 0, output = NULL, state = NULL, updated_at = now()
      WHERE tenant_id = $1 AND run_id = $2 AND (attempt <> 0 OR status <> 'cancelled')
        AND (starts_with(step_id, $5) OR (
          split_part(split_part(step_id, '#', 1), '@', 1) = ANY($3::text[])
          AND ($4 = '' OR split_part(split_part(step_id, '#', 1), '@', 2) = $4
               OR starts_with(split_part(split_part(step_id, '#', 1), '@', 2), $4 || '.'))))`,
    [base.job.t, base.job.r, nested, path, `${key}#`],
  );
}
