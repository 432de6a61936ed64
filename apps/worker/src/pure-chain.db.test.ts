import { randomUUID } from 'node:crypto';
import { getRun, startRun } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, installLedger, testExecutors, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// Consecutive pure steps (transform, condition, succeed) run in memory and commit together, in
// order, in one transaction: each still records its step run, its audit event and its place in
// the timeline, and sees the outputs of the steps before it.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Chains');
let worker: RunningWorkerPool;

beforeAll(async () => {
  await installLedger(db.ownerPool);
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

const settled = (runId: string) =>
  waitFor(
    async () => {
      const run = await getRun(db.appPool, tenant.id, runId);
      return ['succeeded', 'failed', 'dead_lettered', 'cancelled'].includes(run.status)
        ? run
        : undefined;
    },
    20_000,
    `run ${runId} to end`,
  );

async function auditKinds(runId: string): Promise<string[]> {
  const { rows } = await db.ownerPool.query(
    `SELECT kind, data->>'step' AS step FROM audit_events WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
  return rows.map((r) => (r.step ? `${r.kind}:${r.step}` : r.kind));
}

describe('chains of pure steps', () => {
  it('runs transforms and a condition in one commit, each seeing the outputs before it', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'plus',
      steps: {
        plus: { type: 'transform', value: 'input.n + 1', next: 'times' },
        times: { type: 'transform', value: 'steps.plus.output * 10', next: 'size' },
        size: {
          type: 'condition',
          branches: [{ when: 'steps.times.output > 100', next: 'big' }],
          default: 'small',
        },
        big: { type: 'transform', value: '"big"', next: 'send' },
        small: { type: 'transform', value: '"small"', next: 'send' },
        send: {
          type: 'connector',
          connector: 'test',
          action: 'ledger',
          input: '{ "size": steps.big.output, "n": steps.times.output }',
          next: 'after',
        },
        after: { type: 'transform', value: 'steps.send.output.input.n + 1', end: true },
      },
      output: '{ "size": steps.big.output, "after": steps.after.output }',
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf, input: { n: 11 } });
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ size: 'big', after: 121 });
    const byId = new Map(run.steps.map((s) => [s.stepId, s]));
    expect([...byId.keys()]).toEqual(['plus', 'times', 'size', 'big', 'send', 'after']);
    expect(byId.get('times')?.output).toBe(120);
    expect(byId.get('size')?.output).toEqual({ branch: 0 });
    // The four pure steps committed in one transaction (Postgres' now() is the transaction's
    // start); the connector step and the run's last step each in their own.
    const chained = ['plus', 'times', 'size', 'big'].map((id) =>
      byId.get(id)?.finishedAt?.getTime(),
    );
    expect(new Set(chained).size).toBe(1);
    expect(byId.get('send')?.finishedAt?.getTime()).not.toBe(chained[0]);
    const { rows: calls } = await db.ownerPool.query(
      'SELECT step_id FROM ledger_calls WHERE run_id = $1',
      [runId],
    );
    expect(calls).toEqual([{ step_id: 'send' }]);
    expect(await auditKinds(runId)).toEqual([
      'run.created',
      'step.succeeded:plus',
      'step.succeeded:times',
      'step.succeeded:size',
      'step.succeeded:big',
      'step.succeeded:send',
      'step.succeeded:after',
      'run.succeeded',
    ]);
    // No job of the run is left behind, locked or not.
    const { rows: jobs } = await db.ownerPool.query(
      `SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'r' = $1`,
      [runId],
    );
    expect(jobs[0].n).toBe(0);
  });

  it('commits the steps before a failing expression, then fails the run at that step', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'one',
      steps: {
        one: { type: 'transform', value: '1', next: 'two' },
        two: { type: 'transform', value: 'steps.one.output + 1', next: 'broken' },
        broken: { type: 'transform', value: '$number("not a number")', next: 'never' },
        never: { type: 'transform', value: '3', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'failed', failedStep: 'broken' });
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['one', 'succeeded'],
      ['two', 'succeeded'],
      ['broken', 'failed'],
    ]);
    expect(run.steps[1]?.output).toBe(2);
  });

  it('ends the run in the chain when the run has no output expression', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'a',
      steps: {
        a: { type: 'transform', value: '{ "x": input.x }', next: 'b' },
        b: { type: 'succeed', output: 'steps.a.output.x & "!"' },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf,
      input: { x: 'done' },
    });
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', output: 'done!' });
    expect(new Set(run.steps.map((s) => s.finishedAt?.getTime())).size).toBe(1);
  });
});

describe('roster_engine_transitions with chained transitions', () => {
  // A run that waits for an hour: no worker touches it while the test drives its transitions.
  async function waitingRun(): Promise<{ runId: string; workflowId: string }> {
    const workflowId = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'hold',
      steps: { hold: { type: 'wait', duration: '1h', end: true } },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId });
    await waitFor(
      async () => (await getRun(db.appPool, tenant.id, runId)).status === 'waiting',
      10_000,
      'the run to wait',
    );
    return { runId, workflowId };
  }
  const spec = (runId: string, workflowId: string, step: string, extra = {}) => ({
    tenant: tenant.id,
    run: runId,
    step,
    attempt: 1,
    generation: 0,
    stepStatus: 'succeeded',
    output: step,
    audit: [{ kind: 'step.succeeded', data: { step } }],
    inlineJob: {
      identifier: 'roster_step',
      payload: { t: tenant.id, r: runId, w: workflowId, v: 1, g: 0, a: 1, s: `${step}-next` },
    },
    lockFor: `test-pool-${randomUUID()}`,
    ...extra,
  });
  const apply = async (specs: unknown[]): Promise<string[]> =>
    (
      await db.appPool.query('SELECT roster_engine_transitions($1::jsonb) AS r', [
        JSON.stringify(specs),
      ])
    ).rows[0].r;
  const stepRows = async (runId: string) =>
    (
      await db.ownerPool.query(
        `SELECT step_id FROM step_runs WHERE run_id = $1 AND step_id <> 'hold' ORDER BY step_id`,
        [runId],
      )
    ).rows.map((r) => r.step_id);
  const lockedJobs = async (runId: string) =>
    (
      await db.ownerPool.query(
        `SELECT payload->>'s' AS s FROM graphile_worker._private_jobs
          WHERE payload->>'r' = $1 AND locked_by LIKE 'test-pool-%'`,
        [runId],
      )
    ).rows.map((r) => r.s);

  it('applies a chain in order and hands the worker only the last step’s successor', async () => {
    const { runId, workflowId } = await waitingRun();
    const results = await apply([
      spec(runId, workflowId, 'x'),
      spec(runId, workflowId, 'y', { after: true }),
    ]);
    expect(results[0]).toBe('applied');
    expect(results[1]).toMatch(/^applied:\d+$/);
    expect(await stepRows(runId)).toEqual(['x', 'y']);
    expect(await lockedJobs(runId)).toEqual(['y-next']);
  });

  it('hands the next step the run as the transition left it, in the job that ran the step', async () => {
    const { runId, workflowId } = await waitingRun();
    const [job] = (
      await db.ownerPool.query(
        `SELECT (graphile_worker.add_job('roster_step', '{}'::json, job_key => $1,
          run_at => now() + interval '1 hour')).id AS id`,
        [`test-key-${runId}`],
      )
    ).rows as Array<{ id: string }>;
    const results = await apply([
      spec(runId, workflowId, 'x', { job: job?.id, inlineContext: 'steps' }),
    ]);
    const [, jobId, ...context] = (results[0] as string).split(':');
    // The same job row, now the next step's, locked for the worker and without its old key.
    expect(jobId).toBe(String(job?.id));
    const { rows } = await db.ownerPool.query(
      `SELECT payload->>'s' AS s, key, locked_by, attempts FROM graphile_worker._private_jobs WHERE id = $1`,
      [jobId],
    );
    expect(rows[0]).toMatchObject({ s: 'x-next', key: null, attempts: 1 });
    expect(rows[0].locked_by).toMatch(/^test-pool-/);
    expect(JSON.parse(context.join(':'))).toMatchObject({
      status: 'waiting',
      generation: 0,
      steps: { x: { output: 'x' } },
    });
  });

  it('applies nothing after a transition that did not apply', async () => {
    const { runId, workflowId } = await waitingRun();
    await apply([spec(runId, workflowId, 'x')]);
    await db.ownerPool.query('DELETE FROM graphile_worker._private_jobs WHERE payload->>$1 = $2', [
      'r',
      runId,
    ]);
    // x again: a duplicate of the attempt already recorded, so y must not apply either.
    const results = await apply([
      spec(runId, workflowId, 'x'),
      spec(runId, workflowId, 'y', { after: true }),
      spec(runId, workflowId, 'z', { after: true }),
    ]);
    expect(results).toEqual(['duplicate', 'stale', 'stale']);
    expect(await stepRows(runId)).toEqual(['x']);
    expect(await lockedJobs(runId)).toEqual([]);
  });

  it('stops a chain at a step already recorded, in its middle as at its head', async () => {
    const { runId, workflowId } = await waitingRun();
    await apply([spec(runId, workflowId, 'x')]);
    const results = await apply([
      spec(runId, workflowId, 'w'),
      spec(runId, workflowId, 'x', { after: true }),
      spec(runId, workflowId, 'y', { after: true }),
      spec(runId, workflowId, 'z', { after: true }),
    ]);
    expect(results).toEqual(['applied', 'duplicate', 'stale', 'stale']);
    expect(await stepRows(runId)).toEqual(['w', 'x']);
    const { rows } = await db.ownerPool.query(
      `SELECT data->>'step' AS step FROM audit_events WHERE run_id = $1 AND kind = 'step.succeeded' ORDER BY id`,
      [runId],
    );
    expect(rows.map((r) => r.step)).toEqual(['x', 'w']);
  });

  it('changes nothing in a cancelled run', async () => {
    const { runId, workflowId } = await waitingRun();
    await db.ownerPool.query(`UPDATE runs SET status = 'cancelled' WHERE id = $1`, [runId]);
    const results = await apply([
      spec(runId, workflowId, 'x'),
      spec(runId, workflowId, 'y', { after: true }),
    ]);
    expect(results).toEqual(['stale', 'stale']);
    expect(await stepRows(runId)).toEqual([]);
  });
});
