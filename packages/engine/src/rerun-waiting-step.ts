// A waiting step that runs again: for executors that wait on a gate before their side effect
// (a connector action that needs an approval, see @roster/governance) and, once the gate
// opens, must execute rather than be resumed with an output.
import { type Pool, withTenant } from '@roster/db';
import { EngineError } from './errors.js';
import { stepJob, type TransitionResult, timerKey, transition } from './transition.js';

/**
 * Puts waiting step `stepId` back to running and enqueues it now with the same attempt (its
 * executor is called again with the same idempotency key). The step's timeout timer is replaced.
 * CONFLICT when the step is not waiting (answered, timed out, cancelled).
 */
export async function rerunWaitingStep(
  pool: Pool,
  tenantId: string,
  runId: string,
  stepId: string,
): Promise<TransitionResult> {
  const read = () =>
    withTenant(pool, tenantId, async ({ client }) => {
      const { rows } = await client.query<{
        workflow_id: string;
        workflow_version: number;
        generation: number;
        attempt: number;
        status: string;
      }>(
        `SELECT r.workflow_id, r.workflow_version, r.generation, s.attempt, s.status
         FROM runs r JOIN step_runs s ON s.tenant_id = r.tenant_id AND s.run_id = r.id AND s.step_id = $3
        WHERE r.tenant_id = $1 AND r.id = $2`,
        [tenantId, runId, stepId],
      );
      return rows[0];
    });
  let row = await read();
  // An executor that opens a task and then waits (a connector approval gate) commits `waiting`
  // just after the task exists: an answer that fast finds the step still executing (no step
  // row yet, or `running`) for a moment. Wait for that commit, up to 5 s.
  for (let tries = 0; (row === undefined || row.status === 'running') && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    row = await read();
  }
  if (row?.status !== 'waiting') {
    throw new EngineError(
      row ? 'CONFLICT' : 'NOT_FOUND',
      row
        ? `Step "${stepId}" of run ${runId} is ${row.status}, not waiting: it already ran, timed out or was cancelled.`
        : `Run ${runId} has no step "${stepId}" in this tenant.`,
      { runId, stepId },
    );
  }
  const job = stepJob(
    { t: tenantId, r: runId, w: row.workflow_id, v: row.workflow_version, g: row.generation },
    stepId,
    row.attempt,
    { jobKey: timerKey(runId, stepId) },
  );
  return transition(pool, {
    tenant: tenantId,
    run: runId,
    step: stepId,
    attempt: row.attempt,
    generation: row.generation,
    expectWaiting: true,
    stepStatus: 'running',
    runStatus: 'running',
    jobs: [job],
    notify: true,
    audit: [{ kind: 'step.rerun', data: { step: stepId } }],
  });
}
