import { getStep, runDeadlineMs, type WorkflowDefinition } from '@roster/core';
import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { runDefinition } from './definitions.js';
import { DEFAULT_MAX_RUNS_PER_TENANT, type EngineOptions } from './engine-options.js';
import { EngineError } from './errors.js';
import { parseRowKey } from './flow-keys.js';
import { admit } from './start-run.js';
import { succeedStep } from './step-outcomes.js';
import { stoppedAt } from './stopped-at.js';
import type { TransitionResult } from './transition.js';

interface RunRow {
  id: string;
  status: string;
  workflow_id: string;
  workflow_version: number;
  generation: number;
  failed_step: string | null;
}

/**
 * The fair-share priority a run's jobs get when it (re)enters the queue: how many runs its tenant
 * has running now, capped, as roster_engine_admit gives a fresh run (db/migrations 0009).
 */
const PRIORITY_SQL = `(SELECT count(*)::int FROM (
    SELECT 1 FROM runs WHERE tenant_id = $1 AND status = 'running' LIMIT 1000) busy)`;

async function lockRun(client: PoolClient, tenantId: string, runId: string): Promise<RunRow> {
  const { rows } = await client.query<RunRow>(
    `SELECT id, status, workflow_id, workflow_version, generation, failed_step FROM runs
      WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, runId],
  );
  const run = rows[0];
  if (!run) {
    throw new EngineError('NOT_FOUND', `Run ${runId} does not exist in this tenant.`, { runId });
  }
  return run;
}

/**
 * Cancels an active run: no further step starts (jobs already queued find it cancelled and do
 * nothing), waiting steps and open review tasks are cancelled, and a queued run takes its slot.
 */
export async function cancelRun(
  pool: Pool,
  tenantId: string,
  runId: string,
  options: EngineOptions = {},
): Promise<{ runId: string; status: 'cancelled' }> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const run = await lockRun(client, tenantId, runId);
    if (!['queued', 'running', 'waiting'].includes(run.status)) {
      throw new EngineError(
        'CONFLICT',
        `Run ${runId} is ${run.status}; only queued, running or waiting runs can be cancelled.`,
        { runId, status: run.status },
      );
    }
    await client.query(
      `UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, runId],
    );
    await client.query(
      `UPDATE step_runs SET status = 'cancelled', finished_at = now(), updated_at = now()
        WHERE tenant_id = $1 AND run_id = $2 AND status IN ('running', 'waiting', 'retrying')`,
      [tenantId, runId],
    );
    await client.query(
      `UPDATE review_tasks SET status = 'cancelled', resolved_at = now() WHERE tenant_id = $1 AND run_id = $2 AND status = 'open'`,
      [tenantId, runId],
    );
    await client.query(
      `INSERT INTO audit_events (tenant_id, run_id, kind, data) VALUES ($1, $2, 'run.cancelled', '{}')`,
      [tenantId, runId],
    );
    await admit(client, tenantId, options.maxRunsPerTenant ?? DEFAULT_MAX_RUNS_PER_TENANT);
    return { runId, status: 'cancelled' as const };
  });
}

/**
 * Retries a dead-lettered or failed run from the step that stopped it, with fresh attempts. A
 * step inside a branch or an iteration is retried through its top-level parallel or map.
 */
export async function retryRun(
  pool: Pool,
  tenantId: string,
  runId: string,
  options: EngineOptions = {},
): Promise<RestartResult> {
  return restart(pool, tenantId, runId, undefined, 'run.retried', options);
}

/**
 * Runs one step of a dead-lettered or failed run again (fresh attempts) and continues from it.
 * The step keeps its idempotency key, so a connector that already applied the effect does not
 * apply it twice.
 */
export async function replayStep(
  pool: Pool,
  tenantId: string,
  runId: string,
  stepId: string,
  options: EngineOptions = {},
): Promise<RestartResult> {
  return restart(pool, tenantId, runId, stepId, 'step.replayed', options);
}

/**
 * A restarted run is `running` when admission had room for it at once, else `queued` (its
 * tenant, workflow or key is at its limit) until a slot frees, like a fresh run.
 */
export interface RestartResult {
  runId: string;
  status: 'running' | 'queued';
  stepId: string | null;
}

/** The top-level step that runs `stepId` (itself, or the parallel or map it sits in). */
function topLevelStep(definition: WorkflowDefinition, stepId: string): string {
  let owner = stepId;
  let { scope } = getStep(definition, owner);
  while (scope.kind !== 'root') {
    owner = scope.kind === 'branch' ? scope.parallel : scope.map;
    scope = getStep(definition, owner).scope;
  }
  return owner;
}

/**
 * The step to restart at: the one asked for (top-level only), else the run's failed step, else
 * (a run failed before failed steps were recorded for deadlines) the step its path stopped at.
 */
async function restartStep(
  client: PoolClient,
  tenantId: string,
  definition: WorkflowDefinition,
  run: RunRow,
  stepId: string | undefined,
): Promise<string | undefined> {
  const target =
    stepId ?? run.failed_step ?? (await stoppedAt(client, tenantId, run.id, definition));
  if (target === undefined) return undefined;
  let owner: string;
  try {
    owner = topLevelStep(definition, parseRowKey(target.split('#')[0] ?? target).stepId);
  } catch (cause) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `Workflow version ${run.workflow_version} has no step "${target}": pass a step id of this run's workflow.`,
      { runId: run.id, stepId: target },
      { cause },
    );
  }
  if (stepId !== undefined && owner !== stepId) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `Step "${stepId}" runs inside "${owner}": replay "${owner}", which runs its branches or items again.`,
      { runId: run.id, stepId, owner },
    );
  }
  return owner;
}

/**
 * Puts a failed or dead-lettered run back in the queue at `stepId` (a new generation, so jobs of
 * the old one change nothing) with a fresh deadline, then admits as a run end does: the run
 * starts now if its tenant, workflow and key have room (db/migrations 0039).
 */
async function restart(
  pool: Pool,
  tenantId: string,
  runId: string,
  stepId: string | undefined,
  kind: string,
  options: EngineOptions,
): Promise<RestartResult> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const run = await lockRun(client, tenantId, runId);
    if (run.status !== 'dead_lettered' && run.status !== 'failed') {
      throw new EngineError(
        'CONFLICT',
        `Run ${runId} is ${run.status}; only dead-lettered or failed runs can be retried or replayed.`,
        { runId, status: run.status },
      );
    }
    const definition = await runDefinition(client, options.definitions, tenantId, run);
    const target = await restartStep(client, tenantId, definition, run, stepId);
    const generation = run.generation + 1;
    // The whole deadline again, from now (a run failed by its deadline would otherwise fail again
    // at once); a child run's stays within its parent's, as at its start.
    await client.query(
      `UPDATE runs SET status = 'queued', parked_on = NULL, resume_step = $4, generation = $3,
              error = NULL, failed_step = NULL, finished_at = NULL, updated_at = now(),
              deadline_at = least(now() + $5 * interval '1 millisecond',
                (SELECT p.deadline_at FROM runs p WHERE p.tenant_id = $1 AND p.id = runs.parent_run_id))
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, runId, generation, target ?? null, runDeadlineMs(definition)],
    );
    await client.query(
      'INSERT INTO audit_events (tenant_id, run_id, kind, data) VALUES ($1, $2, $3, $4)',
      [tenantId, runId, kind, { step: target ?? null, generation }],
    );
    await admit(client, tenantId, options.maxRunsPerTenant ?? DEFAULT_MAX_RUNS_PER_TENANT);
    const { rows } = await client.query<{ status: 'running' | 'queued' }>(
      'SELECT status FROM runs WHERE tenant_id = $1 AND id = $2',
      [tenantId, runId],
    );
    return { runId, status: rows[0]?.status ?? 'queued', stepId: target ?? null };
  });
}

/**
 * Delivers the event a waiting step waits for (a pending decision, an external callback): the
 * step succeeds with `output` and the run moves on, in one transition.
 */
export async function resumeStep(
  pool: Pool,
  tenantId: string,
  runId: string,
  stepId: string,
  output: unknown,
  options: EngineOptions = {},
): Promise<TransitionResult> {
  return resumeWaiting(pool, tenantId, runId, stepId, output, options, false);
}

async function resumeWaiting(
  pool: Pool,
  tenantId: string,
  runId: string,
  stepId: string,
  output: unknown,
  options: EngineOptions,
  rejection: boolean,
): Promise<TransitionResult> {
  const { run, attempt, definition } = await waitingStep(pool, tenantId, runId, stepId, options);
  // The run goes back in the queue: its next jobs get the fair-share priority a fresh run of
  // this tenant would get now (not 0, which would let a busy tenant's resumed runs jump ahead).
  // Inside a map iteration the waiting instance is `<step>@<path>` (see flow-keys.ts).
  const instance = parseRowKey(stepId);
  // Only an approval step has a rejected path (core's nextSteps); a review's rejection is output.
  const rejected = rejection && getStep(definition, instance.stepId).step.type === 'approval';
  return succeedStep(
    {
      job: {
        t: tenantId,
        r: runId,
        w: run.workflow_id,
        v: run.workflow_version,
        s: instance.stepId,
        a: attempt,
        g: run.generation,
        p: run.priority,
        ...(instance.path.length > 0 ? { i: instance.path } : {}),
      },
      stepId: instance.stepId,
      definition,
      pool,
      random: Math.random,
    },
    output,
    { expectWaiting: true, closeReview: 'resolved', ...(rejected ? { rejected } : {}) },
  );
}

async function waitingStep(
  pool: Pool,
  tenantId: string,
  runId: string,
  stepId: string,
  options: EngineOptions,
) {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<
      RunRow & { attempt: number; step_status: string; priority: number }
    >(
      `SELECT r.id, r.status, r.workflow_id, r.workflow_version, r.generation, r.failed_step,
              s.attempt, s.status AS step_status, ${PRIORITY_SQL} AS priority
         FROM runs r JOIN step_runs s ON s.tenant_id = r.tenant_id AND s.run_id = r.id AND s.step_id = $3
        WHERE r.tenant_id = $1 AND r.id = $2`,
      [tenantId, runId, stepId],
    );
    const row = rows[0];
    if (row?.step_status !== 'waiting') {
      throw new EngineError(
        row ? 'CONFLICT' : 'NOT_FOUND',
        row
          ? `Step "${stepId}" of run ${runId} is ${row.step_status}, not waiting: it was already resumed, timed out or cancelled.`
          : `Run ${runId} has no step "${stepId}" in this tenant.`,
        { runId, stepId },
      );
    }
    const definition = await runDefinition(client, options.definitions, tenantId, row);
    return { run: row, attempt: row.attempt, definition };
  });
}

/**
 * Resolves an open review or approval task with the person's answer, and moves the run on. An
 * approval answered `{ outcome: 'rejected' }` takes the step's `rejected` path: the run goes on
 * at that step, or without one the step fails with APPROVAL_REJECTED (its branch, iteration or
 * the run fails).
 */
export async function completeReviewTask(
  pool: Pool,
  tenantId: string,
  taskId: string,
  result: Record<string, unknown>,
  options: EngineOptions = {},
): Promise<TransitionResult> {
  const task = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      run_id: string;
      step_id: string;
      status: string;
      kind: string;
    }>('SELECT run_id, step_id, status, kind FROM review_tasks WHERE tenant_id = $1 AND id = $2', [
      tenantId,
      taskId,
    ]);
    return rows[0];
  });
  if (!task) {
    throw new EngineError('NOT_FOUND', `Review task ${taskId} does not exist in this tenant.`, {
      taskId,
    });
  }
  if (task.status !== 'open') {
    throw new EngineError('CONFLICT', `Review task ${taskId} is ${task.status}, not open.`, {
      taskId,
      status: task.status,
    });
  }
  const rejection = task.kind === 'approval' && result.outcome === 'rejected';
  return resumeWaiting(pool, tenantId, task.run_id, task.step_id, result, options, rejection);
}
