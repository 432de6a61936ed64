import { type Pool, withTenant } from '@roster/db';
import { EngineError } from './errors.js';
import { initiatorView, type RunInitiatorView } from './run-initiator.js';

export interface StepTimelineEntry {
  stepId: string;
  status: string;
  attempt: number;
  attempts: Array<{ attempt: number; code: string; message: string; at: string }>;
  output: unknown;
  error: { code: string; message: string } | null;
  wakeAt: Date | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface RunView {
  id: string;
  workflowId: string;
  version: number;
  status: string;
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  failedStep: string | null;
  idempotencyKey: string | null;
  generation: number;
  deadlineAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Who or what started the run. */
  startedBy: RunInitiatorView;
  /** Steps in the order they started. */
  steps: StepTimelineEntry[];
}

/** A run with its step timeline. */
export async function getRun(pool: Pool, tenantId: string, runId: string): Promise<RunView> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const run = await client.query(
      `SELECT id, workflow_id, workflow_version, status, input, output, error, failed_step, idempotency_key,
              generation, deadline_at, created_at, started_at, finished_at,
              created_by, started_by_kind, started_by_id
         FROM runs WHERE tenant_id = $1 AND id = $2`,
      [tenantId, runId],
    );
    const r = run.rows[0];
    if (!r)
      throw new EngineError('NOT_FOUND', `Run ${runId} does not exist in this tenant.`, { runId });
    const steps = await client.query(
      `SELECT step_id, status, attempt, attempts, output, error, wake_at, started_at, finished_at
         FROM step_runs WHERE tenant_id = $1 AND run_id = $2 ORDER BY started_at, step_id`,
      [tenantId, runId],
    );
    return {
      id: r.id,
      workflowId: r.workflow_id,
      version: r.workflow_version,
      status: r.status,
      input: r.input,
      output: r.output,
      error: r.error,
      failedStep: r.failed_step,
      idempotencyKey: r.idempotency_key,
      generation: r.generation,
      deadlineAt: r.deadline_at,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      startedBy: initiatorView(r),
      steps: steps.rows.map((s) => ({
        stepId: s.step_id,
        status: s.status,
        attempt: s.attempt,
        attempts: s.attempts,
        output: s.output,
        error: s.error,
        wakeAt: s.wake_at,
        startedAt: s.started_at,
        finishedAt: s.finished_at,
      })),
    };
  });
}

export interface DeadLetter {
  runId: string;
  workflowId: string;
  version: number;
  failedStep: string | null;
  error: { code: string; message: string } | null;
  deadLetteredAt: Date;
}

/** The tenant's dead-lettered runs, newest first (page with `before`, a deadLetteredAt). */
export async function listDeadLetters(
  pool: Pool,
  tenantId: string,
  options: { limit?: number; before?: Date } = {},
): Promise<DeadLetter[]> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT id, workflow_id, workflow_version, failed_step, error, updated_at FROM runs
        WHERE tenant_id = $1 AND status = 'dead_lettered' AND ($2::timestamptz IS NULL OR updated_at < $2)
        ORDER BY updated_at DESC, id LIMIT $3`,
      [tenantId, options.before ?? null, limit],
    );
    return rows.map((r) => ({
      runId: r.id,
      workflowId: r.workflow_id,
      version: r.workflow_version,
      failedStep: r.failed_step,
      error: r.error,
      deadLetteredAt: r.updated_at,
    }));
  });
}
