import {
  getStep,
  type JoinState,
  type MapState,
  nestedStepIds,
  recordBranchOutcome,
  recordIterationOutcome,
} from '@roster/core';
import { type PoolClient, withTenant } from '@roster/db';
import { StepFailure } from './errors.js';
import { framesOf, rowKey } from './flow-keys.js';
import { RUN_STOPPED_CHANNEL } from './in-flight-calls.js';
import type { StepJob } from './step-job.js';
import {
  planFail,
  planSucceed,
  type ScopeEnd,
  type StepBase,
  type StepPlan,
} from './step-plans.js';
import {
  parseTransitionResult,
  runnableJobs,
  stepJob,
  type TransitionResult,
  type TransitionSpec,
  wireSpec,
} from './transition.js';

/**
 * Transitions of parallel, map and callWorkflow steps and of the steps that end a branch or an
 * iteration. Each is ONE transaction: the step's own roster_engine_transition (which locks the
 * run row first, so concurrent branch ends of one run serialise there), then the fan-in on the
 * branch's marker and the parallel/map step's row, then (when the join decides) the parallel/map
 * step's own transition, recursively up through nested scopes.
 */

export interface FlowTx {
  client: PoolClient;
  /** Jobs made runnable now, to wake the worker's queue after commit. */
  woken: number;
  notify: boolean;
}

const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

/** Runs `fn` in a tenant transaction, retried on a deadlock; wakes the worker after commit. */
export async function flowTransaction<T>(
  base: StepBase,
  fn: (tx: FlowTx) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const tx: FlowTx = { client: undefined as unknown as PoolClient, woken: 0, notify: !base.wake };
    try {
      const result = await withTenant(base.pool, base.job.t, ({ client }) => {
        tx.client = client;
        return fn(tx);
      });
      if (base.wake && tx.woken > 0) base.wake(tx.woken);
      return result;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 3 && code !== undefined && RETRYABLE_SQLSTATES.has(code)) continue;
      throw err;
    }
  }
}

/** roster_engine_transition inside the flow transaction. */
export async function transitionIn(tx: FlowTx, spec: TransitionSpec): Promise<TransitionResult> {
  if (tx.notify) spec.notify = true;
  const { rows } = await tx.client.query<{ result: string }>(
    'SELECT roster_engine_transition($1::jsonb) AS result',
    [JSON.stringify(wireSpec(spec))],
  );
  const { result } = parseTransitionResult(rows[0]?.result);
  if (result === 'applied') tx.woken += runnableJobs(spec);
  if (result === 'deadline') tx.woken += 1;
  return result;
}

/** Locks the run row (every transition of a run locks it first, so this orders them). */
export async function lockRun(tx: FlowTx, job: StepJob): Promise<void> {
  await tx.client.query('SELECT 1 FROM runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [
    job.t,
    job.r,
  ]);
}

export function commitFlowPlan(base: StepBase, plan: StepPlan): Promise<TransitionResult> {
  return flowTransaction(base, (tx) => applyPlan(tx, base, plan));
}

/** Applies a plan in the transaction, then its consequences for the enclosing scopes. */
export async function applyPlan(
  tx: FlowTx,
  base: StepBase,
  plan: StepPlan,
): Promise<TransitionResult> {
  const result = await transitionIn(tx, plan.spec);
  if (result !== 'applied') return result;
  const key = rowKey(base.stepId, base.job.i);
  const status = plan.spec.stepStatus;
  if (plan.flow && status !== undefined && status !== 'waiting' && status !== 'running') {
    const type = getStep(base.definition, base.stepId).step.type;
    if (type === 'callWorkflow') await cancelChild(tx, base.job, key);
    else await stopFanOut(tx, base, key);
  }
  if (plan.scopeEnd) await fanIn(tx, base, plan.scopeEnd);
  return result;
}

/**
 * Stops what still runs under a settled parallel or map step: its live markers, the open steps of
 * its branches and iterations (a wait, a review, a step between retries), the open review tasks
 * of those steps and the child runs they started. Without this, a branch cut short by a failing
 * sibling or a timeout kept its waiting step open in the timeline and its review task in the
 * reviewers' queue after the run had moved on.
 */
async function stopFanOut(tx: FlowTx, base: StepBase, ownerKey: string): Promise<void> {
  const { job } = base;
  const path = (job.i ?? []).join('.');
  await tx.client.query(
    `WITH closed AS (
       UPDATE step_runs SET status = 'cancelled', finished_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND run_id = $2
          AND status IN ('running', 'waiting', 'retrying', 'pending')
          AND (starts_with(step_id, $3)
            OR (split_part(split_part(step_id, '#', 1), '@', 1) = ANY($4::text[])
              AND ($5 = '' OR split_part(split_part(step_id, '#', 1), '@', 2) = $5
                OR starts_with(split_part(split_part(step_id, '#', 1), '@', 2), $5 || '.'))))
       RETURNING step_id),
     tasks AS (
       UPDATE review_tasks SET status = 'cancelled', resolved_at = now()
        WHERE tenant_id = $1 AND run_id = $2 AND status = 'open'
          AND step_id IN (SELECT step_id FROM closed)),
     children AS (
       UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now(),
              error = jsonb_build_object('code', 'PARENT_STEP_ENDED', 'message',
                'The branch or iteration of the callWorkflow step that started this run was stopped.')
        WHERE tenant_id = $1 AND parent_run_id = $2 AND status IN ('queued', 'running', 'waiting')
          AND parent_step IN (SELECT step_id FROM closed))
     -- A branch or iteration cut while live may have a call in flight: workers abort the calls
     -- inside this step (InFlightCalls). One that had ended has none, and a step whose every
     -- branch ended (the usual join) notifies nothing, so commits stay off the notify lock.
     SELECT pg_notify('${RUN_STOPPED_CHANNEL}', $1::text || ':' || $2::text || ':cut:' || $6::text)
      WHERE EXISTS (SELECT 1 FROM closed WHERE starts_with(step_id, $3))`,
    [job.t, job.r, `${ownerKey}#`, nestedStepIds(base.definition, base.stepId), path, ownerKey],
  );
}

/** A callWorkflow step that settled (timed out, say) cancels its child run if still active. */
async function cancelChild(tx: FlowTx, job: StepJob, key: string): Promise<void> {
  await tx.client.query(
    `UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now(),
            error = jsonb_build_object('code', 'PARENT_STEP_ENDED', 'message',
              'The callWorkflow step that started this run ended before it.')
      WHERE tenant_id = $1 AND parent_run_id = $2 AND parent_step = $3
        AND status IN ('queued', 'running', 'waiting')`,
    [job.t, job.r, key],
  );
}

interface OwnerRow {
  status: string;
  attempt: number;
  state: JoinState | MapState | null;
}

/** Records the end of a branch or iteration on its marker and its owner, and acts on the join. */
async function fanIn(tx: FlowTx, base: StepBase, end: ScopeEnd): Promise<void> {
  const { job, definition } = base;
  const frame = framesOf(definition, base.stepId, job.i)?.[0];
  if (!frame) return;
  // One round trip: close the marker and lock the owner row (the run row is already locked).
  const { rows } = await tx.client.query<OwnerRow & { marked: boolean }>(
    `WITH m AS (
       UPDATE step_runs SET status = $4, output = $5, error = $6, finished_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND run_id = $2 AND step_id = $3 AND status = 'running' AND generation = $7
        RETURNING 1)
     SELECT o.status, o.attempt, o.state, EXISTS (SELECT 1 FROM m) AS marked FROM step_runs o
      WHERE o.tenant_id = $1 AND o.run_id = $2 AND o.step_id = $8 FOR UPDATE OF o`,
    [
      job.t,
      job.r,
      frame.marker,
      end.status,
      end.status === 'succeeded' ? JSON.stringify(end.output ?? null) : null,
      end.status === 'failed' ? { code: end.errorCode, message: end.message } : null,
      job.g,
      frame.ownerKey,
    ],
  );
  const owner = rows[0];
  // A branch cancelled by a decided join, or an iteration of an earlier attempt: nothing to do.
  if (!owner?.marked || owner.status !== 'waiting' || !owner.state) return;
  const outcome =
    end.status === 'succeeded'
      ? ({ status: 'succeeded' } as const)
      : ({ status: 'failed', errorCode: end.errorCode } as const);
  const ownerJob: StepJob = { ...job, s: frame.owner, a: owner.attempt };
  delete ownerJob.k;
  delete ownerJob.i;
  if (frame.ownerPath.length > 0) ownerJob.i = frame.ownerPath;
  const ownerBase: StepBase = {
    job: ownerJob,
    stepId: frame.owner,
    definition,
    pool: base.pool,
    random: base.random,
  };
  let decision:
    | ReturnType<typeof recordBranchOutcome>['decision']
    | ReturnType<typeof recordIterationOutcome>['decision'];
  let state: JoinState | MapState;
  if (frame.kind === 'branch') {
    ({ state, decision } = recordBranchOutcome(
      owner.state as JoinState,
      String(frame.member),
      outcome,
    ));
  } else {
    ({ state, decision } = recordIterationOutcome(
      owner.state as MapState,
      Number(frame.member),
      outcome,
    ));
  }
  if (decision.kind === 'ignored') return;
  await saveState(
    tx,
    ownerJob,
    frame.ownerKey,
    state,
    decision.kind === 'continue' ? decision.start : [],
    definition,
  );
  if (decision.kind === 'proceed') {
    const output = await joinOutput(tx, job, frame.ownerKey, frame.kind);
    await applyPlan(tx, ownerBase, await planSucceed(ownerBase, output, {}, tx.client));
    return;
  }
  if (decision.kind === 'fail') {
    const message =
      end.status === 'failed'
        ? `${frame.kind === 'branch' ? `Branch "${frame.member}"` : `Iteration ${frame.member}`} of "${frame.owner}" failed: ${end.message}`
        : `"${frame.owner}" failed.`;
    await applyPlan(
      tx,
      ownerBase,
      planFail(ownerBase, new StepFailure(decision.errorCode, message)),
    );
  }
}

/**
 * Saves the owner's join state and, for a map, marks `start` iterations running and enqueues
 * their first step: one statement.
 */
async function saveState(
  tx: FlowTx,
  ownerJob: StepJob,
  ownerKey: string,
  state: JoinState | MapState,
  start: number[],
  definition: StepBase['definition'],
): Promise<void> {
  const step = getStep(definition, ownerJob.s as string).step;
  const outer = ownerJob.i ?? [];
  const jobs =
    step.type === 'map'
      ? start.map((i) => stepJob({ ...ownerJob, i: [...outer, i] }, step.iterator.start, 1))
      : [];
  await tx.client.query(
    `WITH s AS (
       UPDATE step_runs SET state = $4 WHERE tenant_id = $1 AND run_id = $2 AND step_id = $3 RETURNING 1),
     m AS (
       UPDATE step_runs SET status = 'running', started_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND run_id = $2 AND step_id = ANY($5::text[]) AND status = 'pending'
        RETURNING 1)
     SELECT CASE WHEN $7 AND n > 0 THEN pg_notify('jobs:insert', json_build_object('count', n)::text) END
       FROM roster_engine_enqueue($6::jsonb) AS n`,
    [
      ownerJob.t,
      ownerJob.r,
      ownerKey,
      JSON.stringify(state),
      jobs.map((_, k) => `${ownerKey}#${start[k]}`),
      JSON.stringify(jobs),
      tx.notify,
    ],
  );
  tx.woken += jobs.length;
}

/** A parallel step's output (`{ branch: output }`) or a map's (outputs in item order). */
async function joinOutput(
  tx: FlowTx,
  job: StepJob,
  ownerKey: string,
  kind: 'branch' | 'iteration',
): Promise<unknown> {
  const { rows } = await tx.client.query<{ step_id: string; status: string; output: unknown }>(
    `SELECT step_id, status, output FROM step_runs
      WHERE tenant_id = $1 AND run_id = $2 AND starts_with(step_id, $3)`,
    [job.t, job.r, `${ownerKey}#`],
  );
  const members = rows.map((r) => ({ ...r, member: r.step_id.slice(ownerKey.length + 1) }));
  if (kind === 'branch') {
    return Object.fromEntries(
      members.filter((m) => m.status === 'succeeded').map((m) => [m.member, m.output]),
    );
  }
  const outputs: unknown[] = new Array(members.length).fill(null);
  for (const m of members) {
    const index = Number(m.member);
    if (m.status === 'succeeded' && Number.isInteger(index)) outputs[index] = m.output;
  }
  return outputs;
}
