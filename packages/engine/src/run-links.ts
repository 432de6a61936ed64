import { type Pool, withTenant } from '@roster/db';
import { EngineError } from './errors.js';

/** Where a run sits among callWorkflow runs. */
export interface RunLinks {
  /** The run whose callWorkflow step started this one; null for a top-level run. */
  parentRunId: string | null;
  /** That step's instance (`<step>`, or `<step>@<iteration path>` inside a map). */
  parentStep: string | null;
  /** Runs this run's callWorkflow steps started, oldest first. */
  childRunIds: string[];
}

export async function getRunLinks(pool: Pool, tenantId: string, runId: string): Promise<RunLinks> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      parent_run_id: string | null;
      parent_step: string | null;
      children: string[];
    }>(
      `SELECT r.parent_run_id, r.parent_step,
              coalesce((SELECT array_agg(c.id ORDER BY c.created_at, c.id) FROM runs c
                         WHERE c.tenant_id = r.tenant_id AND c.parent_run_id = r.id), '{}') AS children
         FROM runs r WHERE r.tenant_id = $1 AND r.id = $2`,
      [tenantId, runId],
    );
    const row = rows[0];
    if (!row) {
      throw new EngineError('NOT_FOUND', `Run ${runId} does not exist in this tenant.`, { runId });
    }
    return {
      parentRunId: row.parent_run_id,
      parentStep: row.parent_step,
      childRunIds: row.children,
    };
  });
}
