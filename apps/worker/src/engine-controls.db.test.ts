import {
  completeReviewTask,
  ExecutorRegistry,
  getRun,
  retryRun,
  StepFailure,
  startRun,
  startRuns,
  sweepAdmissions,
  sweepDeadlines,
} from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkflow, openReviewTask, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// Engine controls: per-key concurrency and the fair-share priority of resumed runs.
const db = await createTestDatabase();
const workers: RunningWorkerPool[] = [];
afterAll(async () => {
  for (const w of workers) await w.stop();
  await db.drop();
});

/**
 * Runs a worker pool whose connector records, per key, how many calls are in flight at once. A
 * call lasts its input's `ms`, else `callMs`; with `failOnce`, a run's first call fails fatally.
 */
async function startWorker(inFlight: Map<string, number>, peak: Map<string, number>, callMs = 40) {
  const failed = new Set<string>();
  const executors = new ExecutorRegistry().registerConnector(async (call) => {
    const input = call.input as { key?: unknown; ms?: number; failOnce?: boolean } | undefined;
    if (input?.failOnce && !failed.has(call.runId)) {
      failed.add(call.runId);
      throw new StepFailure('BAD_USER_INPUT', 'refused once', { fatal: true });
    }
    const key = String(input?.key);
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    peak.set(key, Math.max(peak.get(key) ?? 0, inFlight.get(key) ?? 0));
    await new Promise((resolve) => setTimeout(resolve, input?.ms ?? callMs));
    inFlight.set(key, (inFlight.get(key) ?? 0) - 1);
    return { output: { ok: true } };
  });
  // No admission sweep during the test: queued runs must be admitted by the runs that end.
  const worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors,
    concurrency: 8,
    sweepMs: 60_000,
    pollIntervalMs: 100,
  });
  workers.push(worker);
  return worker;
}

async function statusesByKey(tenantId: string, workflowId: string) {
  const { rows } = await db.ownerPool.query(
    `SELECT concurrency_key AS key, status, count(*)::int AS n FROM runs
      WHERE tenant_id = $1 AND workflow_id = $2 GROUP BY 1, 2 ORDER BY 1, 2`,
    [tenantId, workflowId],
  );
  return rows as Array<{ key: string; status: string; n: number }>;
}

/** A tenant with a one-step workflow and no worker running: runs stay as admission leaves them. */
async function tenantWithoutWorkers(name: string, definition: Record<string, unknown> = {}) {
  const tenant = await createTenant(db.ownerPool, name);
  const workflowId = await createWorkflow(db.ownerPool, tenant.id, {
    start: 'a',
    steps: { a: { type: 'transform', value: '1', end: true } },
    ...definition,
  });
  for (const w of workers.splice(0)) await w.stop();
  return { tenant, workflowId };
}

/** Calls roster_engine_admit in an open transaction of its own, as a committing run end does. */
async function admitInOpenTransaction(tenantId: string, slots: number) {
  const client = await db.appPool.connect();
  await client.query('BEGIN');
  const { rows } = await client.query<{ n: number }>('SELECT roster_engine_admit($1, $2) AS n', [
    tenantId,
    slots,
  ]);
  return {
    admitted: rows[0]?.n,
    commit: async () => {
      await client.query('COMMIT');
      client.release();
    },
  };
}

describe('concurrency.key / maxRunsPerKey', () => {
  it('runs at most maxRunsPerKey runs per key at once, queues the rest, and finishes them all', async () => {
    const tenant = await createTenant(db.ownerPool, 'Keyed');
    const workflowId = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'call',
      concurrency: { key: 'input.customer', maxRunsPerKey: 2 },
      steps: {
        call: {
          type: 'connector',
          connector: 'test',
          action: 'record',
          input: '{ "key": input.customer }',
          end: true,
        },
      },
    });
    // 20 concurrent starts (20 transactions racing for the same two keys), before any worker.
    const started = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        startRun(db.appPool, tenant.id, {
          workflowId,
          input: { customer: n % 2 === 0 ? 'acme' : 'globex', n },
        }),
      ),
    );
    expect(await statusesByKey(tenant.id, workflowId)).toEqual([
      { key: '"acme"', status: 'queued', n: 8 },
      { key: '"acme"', status: 'running', n: 2 },
      { key: '"globex"', status: 'queued', n: 8 },
      { key: '"globex"', status: 'running', n: 2 },
    ]);

    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    // Calls long enough to overlap even on a loaded machine.
    await startWorker(inFlight, peak, 150);
    await waitFor(
      async () => {
        const rows = await statusesByKey(tenant.id, workflowId);
        return rows.length === 2 && rows.every((r) => r.status === 'succeeded');
      },
      30_000,
      'all 20 keyed runs to succeed',
    );
    // The worker could run 8 steps at once; each key used its 2 slots and never more.
    expect(Object.fromEntries(peak)).toEqual({ acme: 2, globex: 2 });
    const runs = await Promise.all(started.map((s) => getRun(db.appPool, tenant.id, s.runId)));
    expect(runs.map((r) => r.status)).toEqual(Array(20).fill('succeeded'));
  });
});

describe('maxRunsPerTenant', () => {
  it('starts runs at once while the tenant has room, queues the rest in order, and never runs more', async () => {
    const tenant = await createTenant(db.ownerPool, 'Limited');
    const workflowId = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'call',
      steps: {
        call: {
          type: 'connector',
          connector: 'test',
          action: 'record',
          input: '{ "key": "all", "ms": input.ms }',
          end: true,
        },
      },
    });
    const limit = { maxRunsPerTenant: 3 };
    // Only this test's worker may run these (the one before it is still running).
    for (const w of workers.splice(0)) await w.stop();
    // Room for the whole batch: all three start at once, each with its first step's job.
    // Their calls overlap (the peak of 3) and end 300 ms apart, so each end admits on its own.
    const first = await startRuns(
      db.appPool,
      tenant.id,
      [300, 600, 900].map((ms) => ({ workflowId, input: { ms } })),
      limit,
    );
    expect(first.map((r) => r.status)).toEqual(['running', 'running', 'running']);
    // No room: these wait, and a run started after them waits behind them.
    const waiting = await startRuns(db.appPool, tenant.id, [{ workflowId }, { workflowId }], limit);
    expect(waiting.map((r) => r.status)).toEqual(['queued', 'queued']);
    const last = await startRun(db.appPool, tenant.id, { workflowId }, limit);
    expect(last.status).toBe('queued');
    const { rows: jobs } = await db.ownerPool.query(
      `SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'t' = $1`,
      [tenant.id],
    );
    expect(jobs[0].n).toBe(3);

    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    await startWorker(inFlight, peak);
    const all = [...first, ...waiting, last];
    await waitFor(
      async () => {
        const runs = await Promise.all(all.map((r) => getRun(db.appPool, tenant.id, r.runId)));
        return runs.every((r) => r.status === 'succeeded');
      },
      30_000,
      'all six runs to succeed',
    );
    expect(peak.get('all')).toBe(3);
    // Each run that ended admitted the oldest waiting run: the last one started last.
    const { rows } = await db.ownerPool.query(
      `SELECT id, started_at FROM runs WHERE tenant_id = $1 ORDER BY started_at, created_at`,
      [tenant.id],
    );
    expect(rows.at(-1)?.id).toBe(last.runId);
  });

  it('starts and queues the runs of one startRuns call in the order of its inputs', async () => {
    const { tenant, workflowId } = await tenantWithoutWorkers('Ordered batch');
    const inputs = Array.from({ length: 40 }, (_, n) => ({ workflowId, input: { n } }));
    // Room for two: the first two inputs start, the other 38 wait in the order they were given.
    const started = await startRuns(db.appPool, tenant.id, inputs, { maxRunsPerTenant: 2 });
    expect(started.map((r) => r.status)).toEqual([
      'running',
      'running',
      ...Array.from({ length: 38 }, () => 'queued'),
    ]);
    const { rows } = await db.ownerPool.query<{ n: number }>(
      `SELECT (input->>'n')::int AS n FROM runs
        WHERE tenant_id = $1 AND status = 'queued' ORDER BY created_at, id`,
      [tenant.id],
    );
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 38 }, (_, i) => i + 2));
  });
});

describe('resumed runs', () => {
  it("give the next step the tenant's fair-share priority, as a fresh run gets", async () => {
    const tenant = await createTenant(db.ownerPool, 'Busy');
    const reviewed = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'check',
      steps: {
        check: { type: 'review', title: 'Check it', next: 'after' },
        after: { type: 'transform', value: 'steps.check.output', end: true },
      },
    });
    const busy = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'call',
      steps: {
        call: { type: 'connector', connector: 'test', action: 'record', input: '{}', end: true },
      },
    });
    await startWorker(new Map(), new Map());
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: reviewed });
    const task = await openReviewTask(db.ownerPool, runId);
    // No worker from here on (the previous test's included).
    for (const w of workers.splice(0)) await w.stop();

    // With no worker, three fresh runs stay running with their first job queued; the third
    // was admitted while two ran, so its job has priority 2.
    const fresh = [];
    for (let i = 0; i < 3; i++)
      fresh.push(await startRun(db.appPool, tenant.id, { workflowId: busy }));
    const priorityOf = async (id: string, step: string | null) => {
      const { rows } = await db.ownerPool.query(
        `SELECT j.priority, j.payload->>'p' AS p FROM graphile_worker._private_jobs j
          WHERE j.payload->>'r' = $1 AND (j.payload->>'s') IS NOT DISTINCT FROM $2`,
        [id, step],
      );
      return rows[0] as { priority: number; p: string | null } | undefined;
    };
    expect(await priorityOf(fresh[2]?.runId as string, null)).toEqual({ priority: 2, p: '2' });

    // Resuming the reviewed run: three runs of its tenant are running, so its next step's job
    // gets priority 3 (before, 0: it jumped ahead of every other tenant's fresh runs).
    expect(await completeReviewTask(db.appPool, tenant.id, task, { approved: true })).toBe(
      'applied',
    );
    expect(await priorityOf(runId, 'after')).toEqual({ priority: 3, p: '3' });
  });
});

describe('startRun', () => {
  it('starts the latest version even after a newer one is published between two starts', async () => {
    const tenant = await createTenant(db.ownerPool, 'Versions');
    const workflowId = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'a',
      steps: { a: { type: 'transform', value: '1', end: true } },
    });
    const first = await startRun(db.appPool, tenant.id, { workflowId });
    const again = await startRun(db.appPool, tenant.id, { workflowId });
    expect([first.version, again.version]).toEqual([1, 1]);
    await db.ownerPool.query(
      `INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 2, $3)`,
      [
        tenant.id,
        workflowId,
        { start: 'b', steps: { b: { type: 'transform', value: '2', end: true } } },
      ],
    );
    await db.ownerPool.query('UPDATE workflows SET latest_version = 2 WHERE id = $1', [workflowId]);
    const latest = await startRun(db.appPool, tenant.id, { workflowId });
    expect(latest.version).toBe(2);
    const run = await getRun(db.appPool, tenant.id, latest.runId);
    expect(run).toMatchObject({ version: 2, status: 'running' });
    const pinned = await startRun(db.appPool, tenant.id, { workflowId, version: 1 });
    expect(pinned.version).toBe(1);
  });
});

describe('admission while another run end is admitting', () => {
  const queueOrder = async (tenantId: string) => {
    const { rows } = await db.ownerPool.query<{ status: string }>(
      'SELECT status FROM runs WHERE tenant_id = $1 ORDER BY created_at, id',
      [tenantId],
    );
    return rows.map((r) => r.status);
  };

  it('takes the next queued run, not nothing, while the other holds the oldest', async () => {
    const { tenant, workflowId } = await tenantWithoutWorkers('Two lanes');
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push({ workflowId });
    // One runs; five wait, fewer than the sixteen candidates an admission used to lock.
    await startRuns(db.appPool, tenant.id, runs, { maxRunsPerTenant: 1 });
    expect(await queueOrder(tenant.id)).toEqual([
      'running',
      'queued',
      'queued',
      'queued',
      'queued',
      'queued',
    ]);

    // Two run ends admit at once, one slot each, on two connections.
    const first = await admitInOpenTransaction(tenant.id, 1);
    const second = await admitInOpenTransaction(tenant.id, 1);
    await Promise.all([first.commit(), second.commit()]);
    expect([first.admitted, second.admitted]).toEqual([1, 1]);
    // The queue's order holds: the two oldest waiting runs started, the newest three still wait.
    expect(await queueOrder(tenant.id)).toEqual([
      'running',
      'running',
      'running',
      'queued',
      'queued',
      'queued',
    ]);
  });

  it("passes over a run whose key the other holds, takes another key's, and keeps each key's limit", async () => {
    const { tenant, workflowId } = await tenantWithoutWorkers('Two lanes, keyed', {
      concurrency: { key: 'input.customer', maxRunsPerKey: 1 },
    });
    // Queued in this order (no room for any yet): acme, acme, globex, globex.
    for (const customer of ['acme', 'acme', 'globex', 'globex'])
      await startRun(
        db.appPool,
        tenant.id,
        { workflowId, input: { customer } },
        { maxRunsPerTenant: 0 },
      );
    expect(await queueOrder(tenant.id)).toEqual(['queued', 'queued', 'queued', 'queued']);

    // The first admission takes acme's oldest and holds acme's key; the second passes over
    // acme's next (its key is held) and takes globex's oldest. Neither waits for the other.
    const first = await admitInOpenTransaction(tenant.id, 1);
    const second = await admitInOpenTransaction(tenant.id, 1);
    await Promise.all([first.commit(), second.commit()]);
    expect([first.admitted, second.admitted]).toEqual([1, 1]);
    expect(await queueOrder(tenant.id)).toEqual(['running', 'queued', 'running', 'queued']);

    // Each key has its one run: a later admission with room admits neither waiting run.
    const third = await admitInOpenTransaction(tenant.id, 2);
    await third.commit();
    expect(third.admitted).toBe(0);
    expect(await queueOrder(tenant.id)).toEqual(['running', 'queued', 'running', 'queued']);
  });
});

describe('a retried run', () => {
  it('waits for a slot of its key like any run, then resumes at the step that failed', async () => {
    const tenant = await createTenant(db.ownerPool, 'Retry under limits');
    const workflowId = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'prepare',
      concurrency: { key: 'input.customer', maxRunsPerKey: 1 },
      steps: {
        prepare: { type: 'transform', value: 'input', next: 'call' },
        call: {
          type: 'connector',
          connector: 'test',
          action: 'record',
          input: '{ "key": input.customer, "ms": input.ms, "failOnce": input.failOnce }',
          end: true,
        },
      },
    });
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    await startWorker(inFlight, peak);
    const broken = await startRun(db.appPool, tenant.id, {
      workflowId,
      input: { customer: 'acme', failOnce: true },
    });
    const settledRun = (runId: string, status: string) =>
      waitFor(
        async () => (await getRun(db.appPool, tenant.id, runId)).status === status,
        20_000,
        `run ${runId} to be ${status}`,
      );
    await settledRun(broken.runId, 'failed');
    // Another run of the same customer now holds the key's only slot for a while.
    const busy = await startRun(db.appPool, tenant.id, {
      workflowId,
      input: { customer: 'acme', ms: 1500 },
    });
    await waitFor(async () => inFlight.get('acme') === 1, 10_000, 'the busy run to call');

    expect(await retryRun(db.appPool, tenant.id, broken.runId)).toMatchObject({
      status: 'queued',
      stepId: 'call',
    });
    expect(await getRun(db.appPool, tenant.id, broken.runId)).toMatchObject({
      status: 'queued',
      queuedFor: 'key',
    });
    await settledRun(busy.runId, 'succeeded');
    await settledRun(broken.runId, 'succeeded');
    expect(peak.get('acme')).toBe(1);
    // Resumed at `call`: `prepare` kept its first generation's row and did not run again.
    const { steps } = await getRun(db.appPool, tenant.id, broken.runId);
    expect(steps.map((s) => [s.stepId, s.status])).toEqual([
      ['prepare', 'succeeded'],
      ['call', 'succeeded'],
    ]);
    const { rows } = await db.ownerPool.query(
      'SELECT step_id, generation FROM step_runs WHERE run_id = $1 ORDER BY step_id',
      [broken.runId],
    );
    expect(rows).toEqual([
      { step_id: 'call', generation: 1 },
      { step_id: 'prepare', generation: 0 },
    ]);
  });
});

describe('a queued run past its deadline', () => {
  it('fails with no failed step (it never ran), and a retry starts it from the start', async () => {
    const { tenant, workflowId } = await tenantWithoutWorkers('Queued too long');
    const limit = { maxRunsPerTenant: 1 };
    await startRun(db.appPool, tenant.id, { workflowId }, limit);
    const queued = await startRun(db.appPool, tenant.id, { workflowId }, limit);
    expect(queued.status).toBe('queued');
    await db.ownerPool.query(
      `UPDATE runs SET deadline_at = now() - interval '1 second' WHERE id = $1`,
      [queued.runId],
    );
    expect(await sweepDeadlines(db.appPool)).toBeGreaterThanOrEqual(1);
    expect(await getRun(db.appPool, tenant.id, queued.runId)).toMatchObject({
      status: 'failed',
      failedStep: null,
      error: { code: 'DEADLINE_EXCEEDED' },
    });
    expect(await retryRun(db.appPool, tenant.id, queued.runId, limit)).toMatchObject({
      status: 'queued',
      stepId: 'a',
    });
  });
});

describe('a full workflow or key with a long queue', () => {
  /** One connector step recording its in-flight calls under `key`. */
  const recordStep = (key: string) => ({
    a: {
      type: 'connector' as const,
      connector: 'test',
      action: 'record',
      input: `{ "key": ${key} }`,
      end: true,
    },
  });
  const parkedOn = async (runId: string) => {
    const { rows } = await db.ownerPool.query<{ parked_on: string | null }>(
      'SELECT parked_on FROM runs WHERE id = $1',
      [runId],
    );
    return rows[0]?.parked_on;
  };

  it("does not hold back another key's run queued behind it, and runs the backlog in order", async () => {
    const { tenant, workflowId } = await tenantWithoutWorkers('Hot key', {
      concurrency: { key: 'input.customer', maxRunsPerKey: 1 },
      steps: recordStep('input.customer'),
    });
    const limit = { maxRunsPerTenant: 5 };
    // acme floods: one of its runs runs, 39 wait for acme's key.
    await startRuns(
      db.appPool,
      tenant.id,
      Array.from({ length: 40 }, () => ({ workflowId, input: { customer: 'acme' } })),
      limit,
    );
    // globex's run has its key free and the tenant has room: it starts at once.
    const globex = await startRun(
      db.appPool,
      tenant.id,
      { workflowId, input: { customer: 'globex' } },
      limit,
    );
    expect(globex.status).toBe('running');

    // With no sweep, each acme run that ends lets the next one in: all finish, one at a time,
    // in the order they were queued.
    const peak = new Map<string, number>();
    await startWorker(new Map(), peak);
    await waitFor(
      async () =>
        (await statusesByKey(tenant.id, workflowId)).every((r) => r.status === 'succeeded'),
      60_000,
      'all 41 runs to succeed',
    );
    expect(await statusesByKey(tenant.id, workflowId)).toEqual([
      { key: '"acme"', status: 'succeeded', n: 40 },
      { key: '"globex"', status: 'succeeded', n: 1 },
    ]);
    expect(peak.get('acme')).toBe(1);
    const { rows } = await db.ownerPool.query<{ in_order: boolean }>(
      `SELECT array_agg(id ORDER BY started_at, created_at, id) = array_agg(id ORDER BY created_at, id)
              AS in_order
         FROM runs WHERE tenant_id = $1 AND concurrency_key = '"acme"'`,
      [tenant.id],
    );
    expect(rows[0]?.in_order).toBe(true);
  });

  it("does not hold back another workflow's run queued behind it", async () => {
    const { tenant, workflowId: limited } = await tenantWithoutWorkers('Full workflow', {
      concurrency: { maxRuns: 1 },
      steps: recordStep('"limited"'),
    });
    const other = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'a',
      steps: recordStep('"other"'),
    });
    const limit = { maxRunsPerTenant: 5 };
    await startRuns(
      db.appPool,
      tenant.id,
      Array.from({ length: 40 }, () => ({ workflowId: limited })),
      limit,
    );
    const run = await startRun(db.appPool, tenant.id, { workflowId: other }, limit);
    expect(run.status).toBe('running');

    const peak = new Map<string, number>();
    await startWorker(new Map(), peak);
    await waitFor(
      async () => (await statusesByKey(tenant.id, limited)).every((r) => r.status === 'succeeded'),
      60_000,
      'the 40 runs of the limited workflow to succeed',
    );
    expect(await statusesByKey(tenant.id, limited)).toEqual([
      { key: null, status: 'succeeded', n: 40 },
    ]);
    expect(peak.get('limited')).toBe(1);
  });

  it('unparks a run that an admission parked while the running run of its key was ending', async () => {
    const { tenant, workflowId } = await tenantWithoutWorkers('Parking race', {
      concurrency: { key: 'input.customer', maxRunsPerKey: 1 },
    });
    const first = await startRun(db.appPool, tenant.id, {
      workflowId,
      input: { customer: 'acme' },
    });
    expect(first.status).toBe('running');
    // No room in the tenant: it is queued, not looked at, not parked.
    const next = await startRun(
      db.appPool,
      tenant.id,
      { workflowId, input: { customer: 'acme' } },
      { maxRunsPerTenant: 1 },
    );
    expect([next.status, await parkedOn(next.runId)]).toEqual(['queued', null]);

    // An admission finds acme's key full and parks the run, and has not committed yet ...
    const admission = await admitInOpenTransaction(tenant.id, 1);
    expect(admission.admitted).toBe(0);
    // ... when acme's running run ends on another connection. Its unparking waits for the
    // admission's commit, then sees the parked run.
    const ending = await db.appPool.connect();
    try {
      await ending.query('BEGIN');
      await ending.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant.id]);
      let ended = false;
      const end = ending
        .query(`UPDATE runs SET status = 'succeeded', finished_at = now() WHERE id = $1`, [
          first.runId,
        ])
        .then(() => {
          ended = true;
        });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(ended).toBe(false);
      await admission.commit();
      expect(await parkedOn(next.runId)).toBe('key');
      await end;
      await ending.query('COMMIT');
    } finally {
      ending.release();
    }
    expect(await parkedOn(next.runId)).toBeNull();
    // Back in the queue: the next admission starts it.
    const again = await admitInOpenTransaction(tenant.id, 1);
    await again.commit();
    expect(again.admitted).toBe(1);
  });

  it('unparks, on the next sweep, a run whose workflow was full of runs of a version without limits', async () => {
    // Version 1 has no limits: its running run fires no unparking when it ends.
    const { tenant, workflowId } = await tenantWithoutWorkers('New limit');
    const old = await startRun(db.appPool, tenant.id, { workflowId });
    expect(old.status).toBe('running');
    await db.ownerPool.query(
      `INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 2, $3)`,
      [
        tenant.id,
        workflowId,
        {
          start: 'a',
          concurrency: { maxRuns: 1 },
          steps: { a: { type: 'transform', value: '1', end: true } },
        },
      ],
    );
    await db.ownerPool.query('UPDATE workflows SET latest_version = 2 WHERE id = $1', [workflowId]);
    // Version 2 allows one run of the workflow at a time, and version 1's run is running.
    const limited = await startRun(db.appPool, tenant.id, { workflowId });
    expect([limited.status, await parkedOn(limited.runId)]).toEqual(['queued', 'workflow']);
    await db.ownerPool.query(`UPDATE runs SET status = 'succeeded' WHERE id = $1`, [old.runId]);
    expect(await parkedOn(limited.runId)).toBe('workflow');

    // The sweep finds the workflow with room and starts the parked run.
    expect(await sweepAdmissions(db.appPool)).toBeGreaterThanOrEqual(1);
    expect((await getRun(db.appPool, tenant.id, limited.runId)).status).toBe('running');
  });

  it('unparks, on the next sweep, a run of a key with room whose running run never ended', async () => {
    const { tenant, workflowId } = await tenantWithoutWorkers('Key with room', {
      concurrency: { key: 'input.customer', maxRunsPerKey: 1 },
    });
    const running = await startRun(db.appPool, tenant.id, {
      workflowId,
      input: { customer: 'acme' },
    });
    const parked = await startRun(db.appPool, tenant.id, {
      workflowId,
      input: { customer: 'acme' },
    });
    expect([parked.status, await parkedOn(parked.runId)]).toEqual(['queued', 'key']);
    // The running run goes without a status change (an operator deleted it): no trigger fires.
    await db.ownerPool.query('DELETE FROM runs WHERE id = $1', [running.runId]);
    expect(await parkedOn(parked.runId)).toBe('key');

    expect(await sweepAdmissions(db.appPool)).toBeGreaterThanOrEqual(1);
    expect((await getRun(db.appPool, tenant.id, parked.runId)).status).toBe('running');
  });
});
