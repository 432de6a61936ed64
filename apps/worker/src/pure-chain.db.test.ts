import { randomUUID } from 'node:crypto';
import { getRun, startRun } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorkflow,
  installLedger,
  runReaching,
  seededRandom,
  testExecutors,
  waitFor,
} from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// Consecutive pure steps (transform, condition, succeed) run in memory and commit together, in
// order, in one transaction: each still records its step run, its audit event and its place in
// the timeline, and sees the outputs of the steps before it.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Chains');
const other = await createTenant(db.ownerPool, 'Chains B');
let worker: RunningWorkerPool;
const startWorker = () =>
  runWorkerPool({
    appUrl: db.appUrl,
    executors: testExecutors(db.appPool),
    concurrency: 4,
    sweepMs: 100,
    pollIntervalMs: 100,
  });

beforeAll(async () => {
  await installLedger(db.ownerPool);
  worker = await startWorker();
});
afterAll(async () => {
  await worker?.stop();
  await db.drop();
});

const settled = (runId: string) => runReaching(db.appPool, tenant.id, runId);

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

/** A run that waits for an hour: no worker touches it while a test drives its transitions. */
async function waitingRun(tenantId = tenant.id): Promise<{ runId: string; workflowId: string }> {
  const workflowId = await createWorkflow(db.ownerPool, tenantId, {
    start: 'hold',
    steps: { hold: { type: 'wait', duration: '1h', end: true } },
  });
  const { runId } = await startRun(db.appPool, tenantId, { workflowId });
  await waitFor(
    async () => (await getRun(db.appPool, tenantId, runId)).status === 'waiting',
    10_000,
    'the run to wait',
  );
  return { runId, workflowId };
}

/** One roster_engine_transitions statement, as a worker's TransitionBatcher sends it. */
const applyTransitions = async (specs: unknown[]): Promise<string[]> =>
  (
    await db.appPool.query('SELECT roster_engine_transitions($1::jsonb) AS r', [
      JSON.stringify(specs),
    ])
  ).rows[0].r;

describe('roster_engine_transitions with chained transitions', () => {
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
  const apply = applyTransitions;
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

describe('roster_engine_transitions ending runs together', () => {
  // The transitions of a batch that end their runs with a success are applied with one statement
  // per table (migration 0029); everything else one transition at a time. Both must leave the
  // same rows behind.

  /**
   * A running run that no worker touches (its step's timer fires in an hour), and a job standing
   * for the one that ran its step.
   */
  async function runningRun(
    tenantId: string,
  ): Promise<{ runId: string; workflowId: string; job: string }> {
    const { runId, workflowId } = await waitingRun(tenantId);
    await db.ownerPool.query(`UPDATE runs SET status = 'running' WHERE id = $1`, [runId]);
    const { rows } = await db.ownerPool.query(
      `SELECT (graphile_worker.add_job('roster_step', '{}'::json, run_at => now() + interval '1 hour')).id AS id`,
    );
    return { runId, workflowId, job: String(rows[0].id) };
  }

  /** The transitions of a chain of `steps` pure steps whose last ends the run. */
  const ending = (
    tenantId: string,
    run: { runId: string; job: string },
    steps: string[],
    runOutput: unknown,
  ) =>
    steps.map((step, i) => ({
      tenant: tenantId,
      run: run.runId,
      step,
      attempt: 1,
      generation: 0,
      stepStatus: 'succeeded',
      output: { step },
      runStatus: i === steps.length - 1 ? 'succeeded' : 'running',
      audit: [
        { kind: 'step.succeeded', data: { step, attempt: 1 } },
        ...(i === steps.length - 1 ? [{ kind: 'run.succeeded', data: {} }] : []),
      ],
      ...(i === 0 ? { job: run.job } : { after: true }),
      ...(i === steps.length - 1 ? { runOutput } : {}),
    }));

  /** The same transitions one at a time, as roster_engine_transition alone applies them. */
  const applyOneByOne = async (specs: Array<Record<string, unknown>>): Promise<string[]> => {
    const results: string[] = [];
    for (const { after: _after, ...spec } of specs) {
      const { rows } = await db.appPool.query('SELECT roster_engine_transition($1::jsonb) AS r', [
        JSON.stringify(spec),
      ]);
      results.push(rows[0].r);
    }
    return results;
  };

  /** What a run's reader sees of it, without its ids and times. */
  async function trace(runId: string) {
    const { rows: runs } = await db.ownerPool.query(
      `SELECT status, output, error, failed_step, finished_at IS NOT NULL AS finished
         FROM runs WHERE id = $1`,
      [runId],
    );
    const { rows: steps } = await db.ownerPool.query(
      `SELECT step_id, status, attempt, generation, output, error, attempts, wake_at,
              finished_at IS NOT NULL AS finished
         FROM step_runs WHERE run_id = $1 AND step_id <> 'hold' ORDER BY started_at, step_id`,
      [runId],
    );
    const { rows: audit } = await db.ownerPool.query(
      `SELECT kind, data FROM audit_events WHERE run_id = $1 AND kind NOT IN ('run.created', 'step.waiting')
        ORDER BY id`,
      [runId],
    );
    return { run: runs[0], steps, audit };
  }
  const jobsLeft = async (ids: string[]) =>
    (
      await db.ownerPool.query(
        'SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE id = ANY($1::bigint[])',
        [ids],
      )
    ).rows[0].n;

  it('ends the runs of two tenants in one statement, leaving what one transition at a time leaves', async () => {
    const shapes: Array<[string, string[], unknown]> = [
      [tenant.id, ['a', 'b', 'c'], { n: 1 }],
      [tenant.id, ['only'], null],
      [other.id, ['x', 'y'], [1, 2]],
    ];
    const batch: Array<Record<string, unknown>> = [];
    const pairs: Array<[string, string]> = [];
    const jobs: string[] = [];
    for (const [tenantId, steps, output] of shapes) {
      const together = await runningRun(tenantId);
      const alone = await runningRun(tenantId);
      batch.push(...ending(tenantId, together, steps, output));
      await applyOneByOne(ending(tenantId, alone, steps, output));
      pairs.push([together.runId, alone.runId]);
      jobs.push(together.job, alone.job);
    }
    const results = await applyTransitions(batch);
    expect(results).toEqual(batch.map(() => 'applied'));
    for (const [together, alone] of pairs) {
      const seen = await trace(together);
      expect(seen.run).toMatchObject({ status: 'succeeded', finished: true });
      expect(seen.steps.length).toBeGreaterThan(0);
      expect(seen).toEqual(await trace(alone));
    }
    expect((await trace(pairs[0]?.[0] as string)).run.output).toEqual({ n: 1 });
    expect(await jobsLeft(jobs)).toBe(0);
  });

  it('leaves a cancelled run, a recorded step and a waiting run to the transition one at a time', async () => {
    const ends = await runningRun(tenant.id);
    const cancelled = await runningRun(tenant.id);
    await db.ownerPool.query(`UPDATE runs SET status = 'cancelled' WHERE id = $1`, [
      cancelled.runId,
    ]);
    const recorded = await runningRun(tenant.id);
    await applyOneByOne([
      { ...ending(tenant.id, recorded, ['p'], null)[0], runStatus: 'running', audit: [] },
    ]);
    const waiting = await runningRun(tenant.id);
    await db.ownerPool.query(`UPDATE runs SET status = 'waiting' WHERE id = $1`, [waiting.runId]);
    const batch = [
      ...ending(tenant.id, ends, ['e1', 'e2'], 'done'),
      ...ending(tenant.id, cancelled, ['c1', 'c2'], 'never'),
      ...ending(tenant.id, recorded, ['p', 'q'], 'never'),
      ...ending(tenant.id, waiting, ['w1'], 'woken'),
    ];
    const results = await applyTransitions(batch);
    expect(results).toEqual([
      'applied',
      'applied',
      'stale',
      'stale',
      'duplicate',
      'stale',
      // A waiting run's step may end it: that is the transition one at a time, as before.
      'applied',
    ]);
    expect((await trace(ends.runId)).run).toMatchObject({ status: 'succeeded', output: 'done' });
    expect(await trace(cancelled.runId)).toMatchObject({ run: { status: 'cancelled' }, steps: [] });
    const stopped = await trace(recorded.runId);
    expect(stopped.run.status).toBe('running');
    expect(stopped.steps.map((s) => s.step_id)).toEqual(['p']);
    expect((await trace(waiting.runId)).run).toMatchObject({
      status: 'succeeded',
      output: 'woken',
    });
    // Every job that ran one of these steps is done, applied or not.
    expect(await jobsLeft([ends.job, cancelled.job, recorded.job, waiting.job])).toBe(0);
  });

  it('ends by address only the rows of the transaction’s tenant', async () => {
    // roster_engine_end_runs (migration 0041) runs as roster_engine_end, which reads runs by
    // address without the tenant's RLS condition: it checks the tenant itself.
    const mine = await runningRun(tenant.id);
    const theirs = await runningRun(other.id);
    const { rows } = await db.ownerPool.query(
      `SELECT id, ctid::text AS at FROM runs WHERE id = ANY ($1)`,
      [[mine.runId, theirs.runId]],
    );
    const at = new Map(rows.map((r) => [r.id as string, r.at as string]));
    const endAs = async (contextTenant: string, argTenant: string, runIds: string[]) => {
      const client = await db.appPool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [contextTenant]);
        await client.query('SELECT roster_engine_end_runs($1, $2::tid[], $3::jsonb[])', [
          argTenant,
          runIds.map((id) => at.get(id)),
          runIds.map(() => null),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
    };
    // Another tenant's row, among the caller's own: nothing ends.
    await expect(endAs(tenant.id, tenant.id, [mine.runId, theirs.runId])).rejects.toThrow(
      /of another tenant/,
    );
    // A tenant argument that is not the transaction's.
    await expect(endAs(tenant.id, other.id, [theirs.runId])).rejects.toThrow(
      /not the transaction's tenant/,
    );
    const status = async (runId: string) =>
      (await db.ownerPool.query('SELECT status FROM runs WHERE id = $1', [runId])).rows[0].status;
    expect([await status(mine.runId), await status(theirs.runId)]).toEqual(['running', 'running']);
    await endAs(tenant.id, tenant.id, [mine.runId]);
    expect(await status(mine.runId)).toBe('succeeded');
  });

  it('admits a queued run of the tenant for each run it ends', async () => {
    const third = await createTenant(db.ownerPool, 'Chains C');
    const first = await runningRun(third.id);
    const second = await runningRun(third.id);
    // The pool's admission sweep, whose run limit is the default, would admit the queued run too,
    // or hold it locked while the transitions pass it over: the pool stops until they are done.
    await worker.stop();
    try {
      const { runId: queued } = await startRun(
        db.appPool,
        third.id,
        { workflowId: first.workflowId },
        { maxRunsPerTenant: 2 },
      );
      expect((await getRun(db.appPool, third.id, queued)).status).toBe('queued');
      const results = await applyTransitions([
        ...ending(third.id, first, ['s'], null),
        ...ending(third.id, second, ['s'], null),
      ]);
      expect(results).toEqual(['applied', 'applied']);
      expect((await getRun(db.appPool, third.id, queued)).status).not.toBe('queued');
    } finally {
      worker = await startWorker();
    }
  });
});

describe('roster_engine_terminal_groups', () => {
  // The chains that roster_engine_transitions ends in one set-based pass, by the positions of
  // their first and last specs; every other spec goes through roster_engine_transition.
  const groups = async (specs: object[]) =>
    (
      await db.appPool.query(
        'SELECT firsts, lasts FROM roster_engine_terminal_groups($1::jsonb[])',
        [specs.map((s) => JSON.stringify(s))],
      )
    ).rows[0];
  const [a, b] = [randomUUID(), randomUUID()];
  const step = (run: string, name: string, extra: object = {}) => ({
    tenant: tenant.id,
    run,
    step: name,
    attempt: 1,
    generation: 0,
    stepStatus: 'succeeded',
    ...extra,
  });
  const ends = { runStatus: 'succeeded' };
  const after = { after: true };

  it('finds a run ended by one step, and a chain that ends its run', async () => {
    expect(await groups([step(a, 's', ends)])).toEqual({ firsts: [1], lasts: [1] });
    expect(
      await groups([step(a, 's1'), step(a, 's2', after), step(a, 's3', { ...after, ...ends })]),
    ).toEqual({ firsts: [1], lasts: [3] });
    expect(
      await groups([step(a, 's', ends), step(b, 's1'), step(b, 's2', { ...after, ...ends })]),
    ).toEqual({ firsts: [1, 2], lasts: [1, 3] });
  });

  it('leaves out chains that do not end their run plainly', async () => {
    const none = { firsts: [], lasts: [] };
    // Not ending the run, or ending it before the chain's last step.
    expect(await groups([step(a, 's1'), step(a, 's2', after)])).toEqual(none);
    expect(await groups([step(a, 's1', ends), step(a, 's2', { ...after, ...ends })])).toEqual(none);
    // A step that failed, queues jobs, or hands this worker an inline job.
    expect(await groups([step(a, 's', { ...ends, stepStatus: 'failed' })])).toEqual(none);
    expect(await groups([step(a, 's', { ...ends, jobs: [] })])).toEqual(none);
    expect(await groups([step(a, 's', { ...ends, inlineJob: {}, lockFor: 'pool' })])).toEqual(none);
    // A chain that changes run or generation midway, or has no first step.
    expect(await groups([step(a, 's1'), step(b, 's2', { ...after, ...ends })])).toEqual(none);
    expect(
      await groups([step(a, 's1'), step(a, 's2', { ...after, ...ends, generation: 1 })]),
    ).toEqual(none);
    expect(await groups([step(a, 's', { ...after, ...ends })])).toEqual(none);
  });

  it('leaves out a run that appears twice, and only that run', async () => {
    expect(await groups([step(a, 's1', ends), step(b, 's', ends), step(a, 's2', ends)])).toEqual({
      firsts: [2],
      lasts: [2],
    });
  });

  it('finds, in statements without chains, each spec that ends its run plainly (generated)', async () => {
    // Statements of one-step runs take their own path (migration 0048). Checked against the rule
    // itself on generated statements: mixed runs, tenants, statuses and extra keys.
    const random = seededRandom(48);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const runs = [a, b, randomUUID(), randomUUID(), randomUUID()];
    const tenants = [tenant.id, other.id];
    const excluded = [
      'jobs',
      'inlineJob',
      'lockFor',
      'review',
      'closeReview',
      'expectWaiting',
      'attemptError',
      'error',
      'notify',
      'wakeAt',
      'runError',
      'failedStep',
    ];
    // Half the specs carry none of these keys; the others one, which leaves them out.
    const extras = [
      ...excluded.map(() => ({})),
      ...excluded.map((k) => ({ [k]: k === 'jobs' ? [] : 'x' })),
    ];
    for (let n = 0; n < 300; n++) {
      const specs = Array.from({ length: 1 + Math.floor(random() * 8) }, () => {
        const spec: Record<string, unknown> = {
          tenant: pick(tenants),
          run: pick(runs),
          step: 's',
          stepStatus: pick(['succeeded', 'succeeded', 'failed', 'retrying']),
          ...pick(extras),
        };
        const runStatus = pick(['succeeded', 'succeeded', 'running', undefined]);
        if (runStatus) spec.runStatus = runStatus;
        if (random() < 0.05) delete spec.step;
        return spec;
      });
      const plain = (spec: Record<string, unknown>) =>
        spec.stepStatus === 'succeeded' &&
        spec.runStatus === 'succeeded' &&
        'step' in spec &&
        !excluded.some((k) => k in spec);
      const expected = specs.flatMap((spec, i) =>
        plain(spec) &&
        specs.filter((o) => o.run === spec.run && o.tenant === spec.tenant).length === 1
          ? [i + 1]
          : [],
      );
      expect(await groups(specs)).toEqual({ firsts: expected, lasts: expected });
    }
  });
});
