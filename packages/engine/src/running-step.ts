import { type Pool, withTenant } from '@roster/db';

/** A connector or decision call still in flight after this long shows on the run's timeline. */
export const SHOW_RUNNING_AFTER_MS = 1000;

export interface RunningStep {
  tenantId: string;
  runId: string;
  /** The step run's key (`rowKey`: the step id, with its iteration path inside maps). */
  stepKey: string;
  attempt: number;
  generation: number;
  /** When the call started. */
  startedAt: Date;
}

/**
 * Records a step whose call is taking a while as `running`, so the run's timeline shows what it
 * is waiting on. Fast calls never get here: a step's row is otherwise written by its transition
 * alone, and the hot path stays one transaction per step.
 *
 * The run row is locked FOR SHARE, so the mark and the step's own transition (FOR UPDATE) apply
 * one after the other, and a run that stops (its trigger closes `running` steps) either sees the
 * mark or is seen by it: no `running` row outlives its run. The mark never overwrites what a
 * transition recorded for this attempt: it updates only a row of an earlier attempt left
 * `retrying`, or of an earlier generation (a retried run).
 */
export async function markStepRunning(pool: Pool, step: RunningStep): Promise<boolean> {
  const { rowCount } = await withTenant(pool, step.tenantId, ({ client }) =>
    client.query(
      `INSERT INTO step_runs AS s (tenant_id, run_id, step_id, status, attempt, generation, started_at)
       SELECT r.tenant_id, r.id, $3, 'running', $4, $5, $6
         FROM runs r
        WHERE r.tenant_id = $1 AND r.id = $2 AND r.status IN ('running', 'waiting')
          AND r.generation = $5
          FOR SHARE
       ON CONFLICT (tenant_id, run_id, step_id) DO UPDATE SET
         status = 'running', attempt = excluded.attempt, generation = excluded.generation,
         output = NULL, error = NULL, wake_at = NULL, finished_at = NULL, updated_at = now()
        WHERE s.generation < excluded.generation
           OR (s.generation = excluded.generation AND s.status = 'retrying'
               AND s.attempt < excluded.attempt)`,
      [step.tenantId, step.runId, step.stepKey, step.attempt, step.generation, step.startedAt],
    ),
  );
  return (rowCount ?? 0) > 0;
}
