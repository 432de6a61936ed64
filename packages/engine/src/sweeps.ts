import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { runDefinition } from './definitions.js';
import { DEFAULT_MAX_RUNS_PER_TENANT, type EngineOptions } from './engine-options.js';
import { admit } from './start-run.js';
import { stoppedAt } from './stopped-at.js';

interface OverdueRun {
  status: string;
  workflow_id: string;
  workflow_version: number;
}

/** The step an overdue run stopped at; none for a run that never left the queue. */
async function overdueStep(
  client: PoolClient,
  tenantId: string,
  runId: string,
  run: OverdueRun,
  options: Pick<EngineOptions, 'definitions'>,
): Promise<string | undefined> {
  if (run.status === 'queued') return undefined;
  const definition = await runDefinition(client, options.definitions, tenantId, run);
  return stoppedAt(client, tenantId, runId, definition);
}

/**
 * Fails active runs past their deadline (waiting runs hold no job, so nothing else would notice).
 * The step the run stopped at (waiting, or with its call in flight) becomes its failed step, where
 * retryRun resumes; the runs_ended trigger closes the open steps and expires the open review tasks
 * (db/migrations 0039). Returns how many it failed.
 */
export async function sweepDeadlines(
  pool: Pool,
  limit = 500,
  options: Pick<EngineOptions, 'definitions'> = {},
): Promise<number> {
  const { rows } = await pool.query<{ tenant_id: string; run_id: string }>(
    'SELECT tenant_id, run_id FROM roster_engine_overdue_runs($1)',
    [limit],
  );
  let failed = 0;
  for (const { tenant_id, run_id } of rows) {
    failed += await withTenant(pool, tenant_id, async ({ client }) => {
      const overdue = await client.query<OverdueRun>(
        `SELECT status, workflow_id, workflow_version FROM runs
          WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running', 'waiting')
            AND deadline_at < now()
            FOR UPDATE`,
        [tenant_id, run_id],
      );
      const run = overdue.rows[0];
      if (!run) return 0;
      const step = await overdueStep(client, tenant_id, run_id, run, options);
      await client.query(
        `UPDATE runs SET status = 'failed', finished_at = now(), updated_at = now(), failed_step = $3,
                error = jsonb_build_object('code', 'DEADLINE_EXCEEDED', 'message',
                  'The run passed its deadline; raise the workflow''s deadline or make its steps faster.')
          WHERE tenant_id = $1 AND id = $2`,
        [tenant_id, run_id, step ?? null],
      );
      await client.query(
        `INSERT INTO audit_events (tenant_id, run_id, kind, data) VALUES ($1, $2, 'run.failed', '{"code":"DEADLINE_EXCEEDED"}')`,
        [tenant_id, run_id],
      );
      return 1;
    });
  }
  return failed;
}

/**
 * Admits queued runs into free slots for every tenant that has some: covers the race where a
 * run was queued while the last running run of its tenant was ending. First it unparks the runs
 * of full groups that have room again without a run of theirs ending (roster_engine_unpark_due,
 * db/migrations 0035).
 */
export async function sweepAdmissions(pool: Pool, options: EngineOptions = {}): Promise<number> {
  const limit = options.maxRunsPerTenant ?? DEFAULT_MAX_RUNS_PER_TENANT;
  const { rows } = await pool.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM roster_engine_queued_tenants()',
  );
  let admitted = 0;
  for (const { tenant_id } of rows) {
    admitted += await withTenant(pool, tenant_id, async ({ client }) => {
      await client.query('SELECT roster_engine_unpark_due($1)', [tenant_id]);
      return admit(client, tenant_id, limit);
    });
  }
  return admitted;
}
