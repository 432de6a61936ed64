import { randomUUID } from 'node:crypto';
import { markStepRunning, startRun } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, runReaching, testExecutors } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// step_runs has no foreign key to runs (migration 0046): the engine writes a step run only for a
// run it has locked and found running, and a trigger deletes the step runs of deleted runs.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Steps of runs');
const other = await createTenant(db.ownerPool, 'Steps of runs B');
let worker: RunningWorkerPool;

beforeAll(async () => {
  worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: testExecutors(db.appPool),
    concurrency: 4,
    sweepMs: 100,
    pollIntervalMs: 100,
  });
});
afterAll(async () => {
  await worker?.stop();
  await db.drop();
});

const twoSteps = {
  start: 'a',
  steps: {
    a: { type: 'transform', value: '1', next: 'b' },
    b: { type: 'transform', value: '2', end: true },
  },
} as const;

/** A run of `tenantId` that has ended with its two step runs. */
async function endedRun(tenantId: string): Promise<string> {
  const workflowId = await createWorkflow(db.ownerPool, tenantId, twoSteps);
  const { runId } = await startRun(db.appPool, tenantId, { workflowId, input: {} });
  expect((await runReaching(db.appPool, tenantId, runId)).status).toBe('succeeded');
  return runId;
}

async function stepRunCount(runId: string): Promise<number> {
  const { rows } = await db.ownerPool.query(
    'SELECT count(*)::int AS n FROM step_runs WHERE run_id = $1',
    [runId],
  );
  return rows[0].n;
}

/**
 * Deletes runs in one transaction of the owner's, as `role` when given, with `tenantId` as the
 * transaction's tenant: the runs deleted, and the tenant setting once they are.
 */
async function deleteRuns(runIds: string[], tenantId: string, role?: string) {
  const client = await db.ownerPool.connect();
  try {
    await client.query('BEGIN');
    if (role) await client.query(`SET LOCAL ROLE ${role}`);
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    const { rowCount } = await client.query('DELETE FROM runs WHERE id = ANY ($1::uuid[])', [
      runIds,
    ]);
    const { rows } = await client.query(`SELECT current_setting('app.tenant_id') AS t`);
    await client.query('COMMIT');
    return { deleted: rowCount ?? 0, tenantSetting: rows[0].t as string };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/** The transition that would record step `step` of `runId` and end the run. */
const ending = (tenantId: string, runId: string, step: string) => ({
  tenant: tenantId,
  run: runId,
  step,
  attempt: 1,
  generation: 0,
  stepStatus: 'succeeded',
  output: 1,
  runStatus: 'succeeded',
  audit: [{ kind: 'step.succeeded', data: { step, attempt: 1 } }],
  runOutput: 1,
});

describe('step runs without a foreign key to runs', () => {
  it('records no step run for a run that does not exist, alone or in a batch', async () => {
    const missing = randomUUID();
    const { rows: batch } = await db.appPool.query(
      'SELECT roster_engine_transitions($1::jsonb) AS r',
      [JSON.stringify([ending(tenant.id, missing, 'a')])],
    );
    expect(batch[0].r).toHaveLength(1);
    expect(batch[0].r[0]).not.toBe('applied');
    const { rows: alone } = await db.appPool.query(
      'SELECT roster_engine_transition($1::jsonb) AS r',
      [JSON.stringify(ending(tenant.id, missing, 'a'))],
    );
    expect(alone[0].r).not.toBe('applied');
    const marked = await markStepRunning(db.appPool, {
      tenantId: tenant.id,
      runId: missing,
      stepKey: 'a',
      attempt: 1,
      generation: 0,
      startedAt: new Date(),
    });
    expect(marked).toBe(false);
    expect(await stepRunCount(missing)).toBe(0);
  });

  it("records no step run for another tenant's run", async () => {
    const runId = await endedRun(other.id);
    await db.ownerPool.query(`UPDATE runs SET status = 'running' WHERE id = $1`, [runId]);
    const { rows } = await db.appPool.query('SELECT roster_engine_transitions($1::jsonb) AS r', [
      JSON.stringify([ending(tenant.id, runId, 'c')]),
    ]);
    expect(rows[0].r[0]).not.toBe('applied');
    const { rows: steps } = await db.ownerPool.query(
      'SELECT step_id, tenant_id FROM step_runs WHERE run_id = $1 ORDER BY step_id',
      [runId],
    );
    expect(steps).toEqual([
      { step_id: 'a', tenant_id: other.id },
      { step_id: 'b', tenant_id: other.id },
    ]);
  });

  it('deletes the step runs of deleted runs, and only theirs', async () => {
    const [gone, gone2, kept] = [
      await endedRun(tenant.id),
      await endedRun(other.id),
      await endedRun(tenant.id),
    ];
    expect(await stepRunCount(gone)).toBe(2);
    expect(await stepRunCount(gone2)).toBe(2);
    // The deleting transaction's own tenant setting (another tenant's) is given back.
    const callerTenant = randomUUID();
    const { tenantSetting } = await deleteRuns([gone, gone2], callerTenant);
    expect(tenantSetting).toBe(callerTenant);
    expect(await stepRunCount(gone)).toBe(0);
    expect(await stepRunCount(gone2)).toBe(0);
    expect(await stepRunCount(kept)).toBe(2);
  });

  it("deletes under the deleting role's row security", async () => {
    // A role that row security applies to (the test owner is a superuser, which bypasses it).
    const role = `roster_cleanup_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    await db.ownerPool.query(`CREATE ROLE ${role} NOLOGIN NOBYPASSRLS`);
    try {
      await db.ownerPool.query(
        `GRANT USAGE ON SCHEMA public TO ${role};
         GRANT SELECT, DELETE ON runs, step_runs TO ${role};
         GRANT EXECUTE ON FUNCTION roster_current_tenant() TO ${role}`,
      );
      const mine = await endedRun(tenant.id);
      const theirs = await endedRun(other.id);
      // Row security lets it delete its tenant's run only.
      const { deleted } = await deleteRuns([mine, theirs], tenant.id, role);
      expect(deleted).toBe(1);
      expect(await stepRunCount(mine)).toBe(0);
      expect(await stepRunCount(theirs)).toBe(2);
    } finally {
      await db.ownerPool.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  });
});
