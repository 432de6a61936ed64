import { cancelRun, getRun, type StartedRun, startRuns } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorkflow,
  installLedger,
  runReaching,
  testExecutors,
  waitFor,
} from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// Runs started together whose workflow starts with a pure step share start batch jobs
// (`roster_steps`, up to 50 runs each): a worker plans each run's first steps in memory and commits
// them together (decision 0005, tenth session). Each run still records its own steps and audit
// events; what is not pure goes to a job of its own.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Batches');
let worker: RunningWorkerPool | undefined;

beforeAll(async () => {
  await installLedger(db.ownerPool);
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});
afterAll(async () => {
  await db.drop();
});

/** A worker pool; tests start it once they have looked at the jobs their runs left queued. */
async function startWorker(): Promise<void> {
  worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: testExecutors(db.appPool),
    concurrency: 4,
    ...LIMITS,
    sweepMs: 100,
    pollIntervalMs: 100,
  });
}

/** The queued jobs that name any of `runIds`: each one's task and how many of the runs it holds. */
async function jobsOf(runIds: string[]): Promise<Array<{ task: string; runs: number }>> {
  const { rows } = await db.ownerPool.query(
    `SELECT t.identifier AS task,
            CASE WHEN t.identifier = 'roster_steps' THEN json_array_length(j.payload->'runs') ELSE 1 END AS runs
       FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE j.payload->>'r' = ANY ($1)
         OR EXISTS (SELECT 1 FROM json_array_elements(j.payload->'runs') e WHERE e->>'r' = ANY ($1))
      ORDER BY j.id`,
    [runIds],
  );
  return rows;
}

async function auditKinds(runId: string): Promise<string[]> {
  const { rows } = await db.ownerPool.query(
    `SELECT kind, data->>'step' AS step FROM audit_events WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
  return rows.map((r) => (r.step ? `${r.kind}:${r.step}` : r.kind));
}

// Room for every run of a call, so that they go straight to `running` (runs that queue are
// admitted later, a job each).
const LIMITS = { maxRunsPerTenant: 1000 };
const start = (inputs: Parameters<typeof startRuns>[2]) =>
  startRuns(db.appPool, tenant.id, inputs, LIMITS);

const ended = (runs: StartedRun[]) =>
  Promise.all(runs.map((r) => runReaching(db.appPool, tenant.id, r.runId)));

describe('start batches', () => {
  it('starts runs given together in shared jobs, each run with its own steps and output', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'double',
      steps: {
        double: { type: 'transform', value: 'input.n * 2', next: 'size' },
        size: {
          type: 'condition',
          branches: [{ when: 'steps.double.output >= 100', next: 'big' }],
          default: 'small',
        },
        big: { type: 'succeed', output: '"big " & $string(steps.double.output)' },
        small: { type: 'succeed', output: '"small " & $string(steps.double.output)' },
      },
    });
    const runs = await start(
      Array.from({ length: 120 }, (_, n) => ({ workflowId: wf, input: { n } })),
    );
    // Three jobs for 120 runs, in the inputs' order: 50, 50 and 20.
    expect(await jobsOf(runs.map((r) => r.runId))).toEqual([
      { task: 'roster_steps', runs: 50 },
      { task: 'roster_steps', runs: 50 },
      { task: 'roster_steps', runs: 20 },
    ]);
    await startWorker();
    const views = await ended(runs);
    for (const [n, run] of views.entries()) {
      expect(run.status).toBe('succeeded');
      expect(run.output).toBe(n >= 50 ? `big ${n * 2}` : `small ${n * 2}`);
      expect(run.steps.map((s) => s.stepId)).toEqual(['double', 'size', n >= 50 ? 'big' : 'small']);
    }
    expect(await auditKinds(runs[7]?.runId as string)).toEqual([
      'run.created',
      'step.succeeded:double',
      'step.succeeded:size',
      'step.succeeded:small',
      'run.succeeded',
    ]);
    expect(await jobsOf(runs.map((r) => r.runId))).toEqual([]);
  });

  it('gives a lone run, and runs whose first step is not pure, a job each', async () => {
    const pure = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'one',
      steps: { one: { type: 'transform', value: '1', end: true } },
    });
    const calls = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'call',
      steps: { call: { type: 'connector', connector: 'test', action: 'ledger', end: true } },
    });
    const lone = await start([{ workflowId: pure }]);
    const mixed = await start([
      { workflowId: calls },
      { workflowId: pure },
      { workflowId: calls },
      { workflowId: pure },
    ]);
    expect(await jobsOf(lone.map((r) => r.runId))).toEqual([{ task: 'roster_step', runs: 1 }]);
    expect(await jobsOf(mixed.map((r) => r.runId))).toEqual([
      { task: 'roster_step', runs: 1 },
      { task: 'roster_step', runs: 1 },
      { task: 'roster_steps', runs: 2 },
    ]);
    await startWorker();
    const views = await ended([...lone, ...mixed]);
    expect(views.map((v) => v.status)).toEqual(Array(5).fill('succeeded'));
  });

  it('commits the pure steps, then leaves the connector step to a job of its own', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'shape',
      steps: {
        shape: { type: 'transform', value: '{ "id": input.id }', next: 'send' },
        send: {
          type: 'connector',
          connector: 'test',
          action: 'ledger',
          input: 'steps.shape.output',
          end: true,
        },
      },
    });
    const runs = await start(
      Array.from({ length: 30 }, (_, id) => ({ workflowId: wf, input: { id } })),
    );
    expect(await jobsOf(runs.map((r) => r.runId))).toEqual([{ task: 'roster_steps', runs: 30 }]);
    await startWorker();
    const views = await ended(runs);
    for (const [id, run] of views.entries()) {
      expect(run.status).toBe('succeeded');
      expect(run.output).toEqual({ ok: true, step: 'send', input: { id } });
      const [shape, send] = run.steps;
      expect([shape?.stepId, send?.stepId]).toEqual(['shape', 'send']);
      // The transform committed with its batch, before the call ran.
      expect(shape?.finishedAt?.getTime()).toBeLessThan(send?.finishedAt?.getTime() as number);
    }
    const { rows } = await db.ownerPool.query(
      `SELECT run_id, key FROM ledger_calls WHERE run_id = ANY ($1)`,
      [runs.map((r) => r.runId)],
    );
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.key))).toEqual(new Set(runs.map((r) => `${r.runId}/send`)));
  });

  it('fails the runs whose expression fails, at that step, and the others go on', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'parse',
      steps: { parse: { type: 'transform', value: '$number(input.s)', end: true } },
    });
    const runs = await start(
      ['1', 'x', '3', 'y', '5'].map((s) => ({ workflowId: wf, input: { s } })),
    );
    expect(await jobsOf(runs.map((r) => r.runId))).toEqual([{ task: 'roster_steps', runs: 5 }]);
    await startWorker();
    const views = await ended(runs);
    expect(views.map((v) => [v.status, v.output ?? null])).toEqual([
      ['succeeded', 1],
      ['failed', null],
      ['succeeded', 3],
      ['failed', null],
      ['succeeded', 5],
    ]);
    expect(views[1]).toMatchObject({ failedStep: 'parse' });
    expect(views[1]?.steps.map((s) => [s.stepId, s.status])).toEqual([['parse', 'failed']]);
  });

  it('leaves a run cancelled before its batch ran as it is', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'one',
      steps: { one: { type: 'transform', value: 'input.n', end: true } },
    });
    const runs = await start([1, 2, 3].map((n) => ({ workflowId: wf, input: { n } })));
    expect(await jobsOf(runs.map((r) => r.runId))).toEqual([{ task: 'roster_steps', runs: 3 }]);
    await cancelRun(db.appPool, tenant.id, runs[1]?.runId as string);
    await startWorker();
    const views = await ended(runs);
    expect(views.map((v) => v.status)).toEqual(['succeeded', 'cancelled', 'succeeded']);
    expect(views[1]?.steps).toEqual([]);
    expect(await auditKinds(runs[1]?.runId as string)).not.toContain('step.succeeded:one');
  });

  it('queues the callback of each run a batch ends, as a run ended alone gets it', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'one',
      // A constant: the runs read nothing, so their ends reach the batcher together.
      steps: { one: { type: 'transform', value: '"done"', end: true } },
    });
    // Deliveries to this URL fail (nothing listens there, or the egress guard refuses it): the
    // test reads what was queued, not what arrived.
    await db.ownerPool.query(
      `INSERT INTO workflow_callbacks (tenant_id, workflow_id, url, secret)
       VALUES ($1, $2, 'http://127.0.0.1:9/hook', 'whsec')`,
      [tenant.id, wf],
    );
    const together = await start([1, 2, 3].map((n) => ({ workflowId: wf, input: { n } })));
    expect(await jobsOf(together.map((r) => r.runId))).toEqual([{ task: 'roster_steps', runs: 3 }]);
    await startWorker();
    await ended(together);
    // Started alone and after the others: its end is a transition of its own.
    const alone = await start([{ workflowId: wf, input: { n: 4 } }]);
    await ended(alone);
    const deliveries = async () =>
      (
        await db.ownerPool.query(
          `SELECT d.run_id, d.event_type, d.payload,
                  d.attempts > 0 OR EXISTS (SELECT 1 FROM graphile_worker._private_jobs j
                                             WHERE j.key = 'roster:callback:' || d.id) AS sent
             FROM callback_deliveries d WHERE d.workflow_id = $1`,
          [wf],
        )
      ).rows;
    const rows = await waitFor(
      async () => {
        const found = await deliveries();
        return found.length === 4 && found.every((d) => d.sent) ? found : undefined;
      },
      10_000,
      'a delivery, and its job, per run',
    );
    const byRun = new Map(rows.map((d) => [d.run_id as string, d]));
    const shape = (runId: string) => {
      const d = byRun.get(runId);
      return {
        eventType: d?.event_type,
        type: d?.payload.type,
        keys: Object.keys(d?.payload.data ?? {}).sort(),
        status: d?.payload.data.status,
        version: d?.payload.data.workflowVersion,
      };
    };
    for (const run of together) {
      expect(shape(run.runId)).toEqual(shape(alone[0]?.runId as string));
      expect(byRun.get(run.runId)?.payload.data.output).toBe('done');
    }
    expect(shape(alone[0]?.runId as string)).toMatchObject({
      eventType: 'run.succeeded',
      status: 'succeeded',
    });
  });

  it('changes nothing when a batch runs again after its runs committed', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'first',
      steps: {
        // A constant: the step reads nothing, so only its transition can tell it already ran.
        first: { type: 'transform', value: '1', next: 'send' },
        send: { type: 'connector', connector: 'test', action: 'ledger', end: true },
      },
    });
    const runs = await start([1, 2, 3, 4].map((n) => ({ workflowId: wf, input: { n } })));
    const ids = runs.map((r) => r.runId);
    // The batch's payload, as a worker that died after the commit would leave it to run again.
    const { rows: batch } = await db.ownerPool.query(
      `SELECT payload FROM graphile_worker._private_jobs j
         JOIN graphile_worker._private_tasks t ON t.id = j.task_id
        WHERE t.identifier = 'roster_steps' AND j.payload->'runs'->0->>'r' = $1`,
      [ids[0]],
    );
    expect(batch).toHaveLength(1);
    await startWorker();
    await ended(runs);
    const counts = async () =>
      (
        await db.ownerPool.query(
          `SELECT (SELECT count(*) FROM step_runs WHERE run_id = ANY ($1))::int AS steps,
                  (SELECT count(*) FROM audit_events WHERE run_id = ANY ($1))::int AS events,
                  (SELECT count(*) FROM ledger_calls WHERE run_id = ANY ($1))::int AS calls`,
          [ids],
        )
      ).rows[0];
    const before = await counts();
    expect(before).toEqual({ steps: 8, events: 16, calls: 4 });
    await db.ownerPool.query(
      `SELECT graphile_worker.add_job('roster_steps', $1::json, max_attempts => 1)`,
      [batch[0]?.payload],
    );
    await waitFor(async () => (await jobsOf(ids)).length === 0, 10_000, 'the batch to run again');
    expect(await counts()).toEqual(before);
    for (const id of ids) {
      expect((await getRun(db.appPool, tenant.id, id)).status).toBe('succeeded');
    }
  });
});
