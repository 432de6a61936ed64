import { getStep, resumePoint, type StepOutcome, type WorkflowDefinition } from '@roster/core';
import type { PoolClient } from '@roster/db';

interface FinishedRow {
  step_id: string;
  status: string;
  output: unknown;
  error: { code?: string } | null;
}

/** How a recorded top-level step finished, as the planner reads it; undefined if it has not. */
function outcomeOf(definition: WorkflowDefinition, row: FinishedRow): StepOutcome | undefined {
  if (row.status === 'failed') return { status: 'failed', errorCode: row.error?.code ?? 'FAILED' };
  if (row.status !== 'succeeded') return undefined;
  const { step } = getStep(definition, row.step_id);
  const output = (row.output ?? {}) as { branch?: number | 'default'; outcome?: unknown };
  if (step.type === 'condition') {
    return output.branch === undefined ? undefined : { status: 'succeeded', branch: output.branch };
  }
  if (step.type === 'approval' && output.outcome === 'rejected') return { status: 'rejected' };
  return { status: 'succeeded' };
}

/**
 * The top-level step a run stopped at: the first on its path (core's resumePoint over its
 * recorded steps) that had not finished. A step waiting or between retries has a row; one whose
 * call was in flight has none yet, and is found all the same. Undefined when the path is complete.
 */
export async function stoppedAt(
  client: PoolClient,
  tenantId: string,
  runId: string,
  definition: WorkflowDefinition,
): Promise<string | undefined> {
  const { rows } = await client.query<FinishedRow>(
    `SELECT step_id, status, output, error FROM step_runs
      WHERE tenant_id = $1 AND run_id = $2 AND status IN ('succeeded', 'failed')
        AND step_id NOT LIKE '%@%' AND step_id NOT LIKE '%#%'`,
    [tenantId, runId],
  );
  const outcomes = new Map<string, StepOutcome>();
  for (const row of rows) {
    // Branch steps have plain ids too; only the top-level path matters here.
    if (getStep(definition, row.step_id).scope.kind !== 'root') continue;
    const outcome = outcomeOf(definition, row);
    if (outcome) outcomes.set(row.step_id, outcome);
  }
  return resumePoint(definition, outcomes);
}
