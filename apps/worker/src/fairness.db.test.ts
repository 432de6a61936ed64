import { startRun, startRuns } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, expect, it } from 'vitest';
import { createWorkflow, testExecutors, waitFor } from '../test/fixtures.js';
import { runWorkerPool } from './worker-pool.js';

/** The bound we promise: B's one-step run ends within this long of startRun, whatever A queued. */
const BOUND_MS = 500;

const db = await createTestDatabase();
afterAll(() => db.drop());

it(`a tenant flooding 10,000 runs does not delay another tenant's run by more than ${BOUND_MS} ms`, {
  timeout: 120_000,
}, async () => {
  const a = await createTenant(db.ownerPool, 'Flood');
  const b = await createTenant(db.ownerPool, 'Quiet');
  const oneStep = {
    start: 'only',
    steps: { only: { type: 'transform', value: '1', end: true } },
  } as const;
  const wfA = await createWorkflow(db.ownerPool, a.id, oneStep);
  const wfB = await createWorkflow(db.ownerPool, b.id, oneStep);
  const worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: testExecutors(db.appPool),
    concurrency: 8,
  });
  try {
    const t0 = Date.now();
    for (let batch = 0; batch < 10; batch++) {
      await startRuns(
        db.appPool,
        a.id,
        Array.from({ length: 1000 }, (_, i) => ({
          workflowId: wfA,
          input: { i: batch * 1000 + i },
        })),
      );
    }
    const t1 = Date.now();
    const { runId } = await startRun(db.appPool, b.id, { workflowId: wfB });
    console.log(`flood inserted in ${t1 - t0} ms; B's startRun took ${Date.now() - t1} ms`);
    const done = await waitFor(
      async () => {
        const { rows } = await db.ownerPool.query(
          `SELECT extract(epoch FROM finished_at - created_at) * 1000 AS ms FROM runs WHERE id = $1 AND status = 'succeeded'`,
          [runId],
        );
        return rows[0] as { ms: number } | undefined;
      },
      10_000,
      "tenant B's run",
    );
    const pending = await db.ownerPool.query(
      `SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND status IN ('queued', 'running')`,
      [a.id],
    );
    console.log(
      `fairness: B's run took ${Math.round(done.ms)} ms with ${pending.rows[0].n} of A's runs still pending`,
    );
    expect(pending.rows[0].n).toBeGreaterThan(0);
    expect(done.ms).toBeLessThan(BOUND_MS);
  } finally {
    await worker.stop();
  }
});
