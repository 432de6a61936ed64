import type { WorkflowDefinitionInput } from '@roster/core';
import {
  cancelRun,
  ExecutorRegistry,
  getRun,
  markStepRunning,
  StepFailure,
  startRun,
  WorkerStopping,
} from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, runReaching, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// A run that stops while one of its connector calls is in flight aborts that call: the executor's
// signal fires and the worker's slot serves the next run at once, where it used to wait for the
// call to return or time out.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Aborts');

interface Call {
  attempt: number;
  idempotencyKey: string;
  startedAt: number;
  abortedAt?: number;
  reason?: unknown;
}
/** The `hang` calls by run: each waits for its signal (or 30 s) and records how it ended. */
const calls = new Map<string, Call>();
const failedOnce = new Set<string>();
/** The calls of `hangOnce` steps after their first, by run. */
const again = new Map<string, { attempt: number; idempotencyKey: string }>();
const executors = new ExecutorRegistry().registerConnector(async (call) => {
  // `flaky`: the first attempt fails at once (retryable), the next ones hang.
  if (call.step.action === 'flaky' && !failedOnce.has(call.runId)) {
    failedOnce.add(call.runId);
    throw new StepFailure('RATE_LIMITED', 'try again');
  }
  // `hangOnce`: the first call of a run hangs, the next ones return (see `again`).
  if (call.step.action === 'hangOnce' && calls.has(call.runId)) {
    again.set(call.runId, { attempt: call.attempt, idempotencyKey: call.idempotencyKey });
    return { output: { ok: true } };
  }
  if (!['hang', 'flaky', 'hangOnce'].includes(call.step.action)) return { output: { ok: true } };
  const entry: Call = {
    attempt: call.attempt,
    idempotencyKey: call.idempotencyKey,
    startedAt: Date.now(),
  };
  calls.set(call.runId, entry);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    call.signal.addEventListener('abort', () => {
      entry.abortedAt = Date.now();
      entry.reason = call.signal.reason;
      clearTimeout(timer);
      resolve();
    });
  });
  if (call.signal.aborted) throw call.signal.reason;
  return { output: { ok: true } };
});

let worker: RunningWorkerPool;
beforeAll(async () => {
  // Two slots: each test holds them with hanging calls to show a stop gives one back.
  worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors,
    concurrency: 2,
    pollIntervalMs: 100,
    // The last test stops this pool with a call in flight.
    stopGraceMs: 500,
  });
});
afterAll(async () => {
  await worker?.stop();
  await db.drop();
});

const hang = { type: 'connector', connector: 'test', action: 'hang', timeout: '30s' } as const;
/** A workflow of one connector step `call` running `action` (step and workflow fields added). */
const oneCall = (
  action: string,
  step: Record<string, unknown> = {},
  definition: Record<string, unknown> = {},
) =>
  createWorkflow(db.ownerPool, tenant.id, {
    start: 'call',
    steps: { call: { ...hang, action, ...step, end: true } },
    ...definition,
  });
const hanging = (definition: Record<string, unknown> = {}) => oneCall('hang', {}, definition);
/**
 * A parallel step `fork` whose branch `slow` hangs in its call while branch `other` waits 300 ms
 * and then runs `then`; `fork` gets the fields in `fork` (default: it ends the run).
 */
const forkWithSlowBranch = (
  then: WorkflowDefinitionInput['steps'][string],
  fork: Record<string, unknown> = { end: true },
  steps: Record<string, unknown> = {},
) =>
  createWorkflow(db.ownerPool, tenant.id, {
    start: 'fork',
    steps: {
      fork: {
        type: 'parallel',
        branches: {
          slow: { start: 'call', steps: { call: { ...hang, end: true } } },
          other: {
            start: 'pause',
            steps: { pause: { type: 'wait', duration: '300ms', next: 'then' }, then },
          },
        },
        ...fork,
      },
      ...steps,
    },
  });

/** `forkWithSlowBranch` with `join: any`: the other branch ends first and cuts the slow one. */
const joinAnyWithSlowBranch = () =>
  forkWithSlowBranch(
    { type: 'transform', value: '"fast"', end: true },
    { join: 'any', next: 'after' },
    { after: { type: 'transform', value: '"after"', end: true } },
  );
/** The backends LISTENing for stops: the worker pool's listener connection. */
const listenerPids = async () =>
  (
    await db.ownerPool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN roster_run_stopped'`,
    )
  ).rows.map((r) => r.pid);
const callStarted = (runId: string) =>
  waitFor(async () => calls.get(runId), 10_000, `the call of run ${runId} to start`);
const callAborted = (runId: string, timeoutMs = 3_000) =>
  waitFor(
    async () => (calls.get(runId)?.abortedAt ? calls.get(runId) : undefined),
    timeoutMs,
    `the call of run ${runId} to be aborted`,
  );
const settled = (runId: string, timeoutMs = 10_000) =>
  runReaching(db.appPool, tenant.id, runId, { timeoutMs });
const jobsOf = async (runId: string) =>
  (
    await db.ownerPool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'r' = $1`,
      [runId],
    )
  ).rows[0]?.n;

/** Starts runs until both slots hold a hanging call; returns their run ids. */
async function fillSlots(): Promise<string[]> {
  const wf = await hanging();
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    await callStarted(runId);
    runs.push(runId);
  }
  return runs;
}

describe('calls in flight when their run stops', () => {
  it('aborts the call of a cancelled run and gives its slot to the next run', async () => {
    const [cancelled, held] = (await fillSlots()) as [string, string];
    const { runId: next } = await startRun(db.appPool, tenant.id, {
      workflowId: await oneCall('quick'),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Both slots are held: the next run waits.
    expect((await getRun(db.appPool, tenant.id, next)).status).toBe('running');

    await cancelRun(db.appPool, tenant.id, cancelled);
    const call = await callAborted(cancelled);
    expect(call.reason).toMatchObject({ code: 'RUN_ENDED' });
    expect(call.reason).toBeInstanceOf(StepFailure);
    expect(await settled(next, 3_000)).toMatchObject({ status: 'succeeded' });
    expect(await getRun(db.appPool, tenant.id, cancelled)).toMatchObject({ status: 'cancelled' });
    expect(await jobsOf(cancelled)).toBe(0);
    // The other run's call was not touched.
    expect(calls.get(held)?.abortedAt).toBeUndefined();
    await cancelRun(db.appPool, tenant.id, held);
    await callAborted(held);
  });

  it("aborts a call at the run's deadline, not at the step's timeout", async () => {
    const wf = await hanging({ deadline: '1500ms' });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const call = await callAborted(runId, 5_000);
    expect(call.reason).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    // The step's timeout is 30 s: the deadline, 1.5 s after the start, stopped the call.
    expect((call.abortedAt ?? 0) - call.startedAt).toBeLessThan(2_500);
    const run = await settled(runId);
    expect(run).toMatchObject({
      status: 'failed',
      failedStep: 'call',
      error: { code: 'DEADLINE_EXCEEDED' },
    });
    // The step that was calling shows on the timeline, failed by the deadline.
    expect(run.steps.map((s) => [s.stepId, s.status, s.error?.code])).toEqual([
      ['call', 'failed', 'DEADLINE_EXCEEDED'],
    ]);
    expect(await jobsOf(runId)).toBe(0);
  });

  it('shows a call that takes a while as running on the timeline, until its run stops', async () => {
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: await hanging() });
    const started = await callStarted(runId);
    const shown = await waitFor(
      async () => {
        const run = await getRun(db.appPool, tenant.id, runId);
        return run.steps.length > 0 ? run.steps : undefined;
      },
      3_000,
      'the call on the timeline',
    );
    expect(shown).toMatchObject([
      { stepId: 'call', status: 'running', attempt: 1, finishedAt: null },
    ]);
    expect(Math.abs((shown[0]?.startedAt.getTime() ?? 0) - started.startedAt)).toBeLessThan(500);
    await cancelRun(db.appPool, tenant.id, runId);
    await callAborted(runId);
    const run = await settled(runId);
    expect(run.steps).toMatchObject([{ stepId: 'call', status: 'cancelled' }]);
    expect(run.steps[0]?.finishedAt).not.toBeNull();
  });

  it('shows the attempt in flight after a failed one, with the failed one in its history', async () => {
    const wf = await oneCall('flaky', {
      retry: { maxAttempts: 3, backoff: { initial: '50ms', jitter: 'none' } },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const shown = await waitFor(
      async () => {
        const run = await getRun(db.appPool, tenant.id, runId);
        return run.steps[0]?.status === 'running' ? run.steps : undefined;
      },
      5_000,
      'the second attempt on the timeline',
    );
    expect(shown).toMatchObject([
      { stepId: 'call', status: 'running', attempt: 2, attempts: [{ code: 'RATE_LIMITED' }] },
    ]);
    await cancelRun(db.appPool, tenant.id, runId);
    await callAborted(runId);
  });

  it('aborts the call of one branch when another branch fails the run', async () => {
    const wf = await forkWithSlowBranch({ type: 'fail', error: 'BRANCH_BROKE' });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const call = await callAborted(runId, 5_000);
    expect(call.reason).toMatchObject({ code: 'RUN_ENDED' });
    expect(await settled(runId)).toMatchObject({ status: 'dead_lettered' });
  });

  it('aborts the calls of the branches a parallel step leaves behind, and the run goes on', async () => {
    const wf = await joinAnyWithSlowBranch();
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    await callStarted(runId);
    const call = await callAborted(runId, 5_000);
    expect(call.reason).toMatchObject({ code: 'BRANCH_ENDED' });
    expect(await settled(runId)).toMatchObject({ status: 'succeeded', output: 'after' });
  });

  it('announces nothing when every branch of a parallel step ended by itself', async () => {
    const listener = await db.appPool.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query('LISTEN roster_run_stopped');
    try {
      const wf = await createWorkflow(db.ownerPool, tenant.id, {
        start: 'fork',
        steps: {
          fork: {
            type: 'parallel',
            branches: {
              a: { start: 'a1', steps: { a1: { type: 'transform', value: '1', end: true } } },
              b: {
                start: 'b1',
                steps: { b1: { type: 'connector', connector: 'test', action: 'quick', end: true } },
              },
            },
            end: true,
          },
        },
      });
      const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
      expect(await settled(runId)).toMatchObject({ status: 'succeeded' });
      // A notification would have arrived with the commit that settled the step.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard.filter((payload) => payload.includes(runId))).toEqual([]);
    } finally {
      await listener.query('UNLISTEN roster_run_stopped');
      listener.release();
    }
  });

  it('stops calls of runs cancelled while its connection was down, once it reconnects', async () => {
    const [first] = await listenerPids();
    expect(first).toBeDefined();
    const [cancelled, held] = (await fillSlots()) as [string, string];

    // The listener's connection goes; the run is cancelled before it is back, so the
    // notification is lost. The listener checks its runs when it reconnects (about 1 s later).
    await db.ownerPool.query('SELECT pg_terminate_backend($1)', [first]);
    await cancelRun(db.appPool, tenant.id, cancelled);
    const call = await callAborted(cancelled, 5_000);
    expect(call.reason).toMatchObject({ code: 'RUN_ENDED' });
    const again = await waitFor(async () => {
      const pids = await listenerPids();
      return pids.length === 1 && pids[0] !== first ? pids : undefined;
    });
    expect(again).toHaveLength(1);

    // And it hears the next stop as before.
    await cancelRun(db.appPool, tenant.id, held);
    expect((await callAborted(held)).reason).toMatchObject({ code: 'RUN_ENDED' });
  });

  it('stops the call of a branch cut while its connection was down, once it reconnects', async () => {
    const [first] = await waitFor(async () => {
      const pids = await listenerPids();
      return pids.length === 1 ? pids : undefined;
    });
    const wf = await joinAnyWithSlowBranch();
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    await callStarted(runId);
    // Gone before the other branch ends (300 ms in) and cuts this one; back about 1 s later.
    await db.ownerPool.query('SELECT pg_terminate_backend($1)', [first]);
    const call = await callAborted(runId, 5_000);
    expect(call.reason).toMatchObject({ code: 'BRANCH_ENDED' });
    expect(await settled(runId)).toMatchObject({ status: 'succeeded', output: 'after' });
    const [now] = await listenerPids();
    expect(now).not.toBe(first);
  });
  it("marks a step running only over an earlier attempt's or generation's row, and only while its run runs", async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'pause',
      steps: { pause: { type: 'wait', duration: '1h', end: true } },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    await runReaching(db.appPool, tenant.id, runId, { statuses: ['waiting'] });
    const mark = (stepKey: string, attempt: number, generation = 0) =>
      markStepRunning(db.appPool, {
        tenantId: tenant.id,
        runId,
        stepKey,
        attempt,
        generation,
        startedAt: new Date(),
      });
    const row = async (stepKey: string) =>
      (
        await db.ownerPool.query(
          'SELECT status, attempt, generation, output, attempts FROM step_runs WHERE run_id = $1 AND step_id = $2',
          [runId, stepKey],
        )
      ).rows[0];
    const put = (stepKey: string, status: string, attempt: number, output: unknown = null) =>
      db.ownerPool.query(
        `INSERT INTO step_runs (tenant_id, run_id, step_id, status, attempt, generation, output, attempts)
         VALUES ($1, $2, $3, $4, $5, 0, $6, '[{"attempt":1,"code":"RATE_LIMITED"}]')`,
        [tenant.id, runId, stepKey, status, attempt, JSON.stringify(output)],
      );

    // What the step's own transition recorded for this attempt stays: a mark that lost the race.
    expect(await mark('pause', 1)).toBe(false);
    expect(await row('pause')).toMatchObject({ status: 'waiting', attempt: 1 });
    await put('done', 'succeeded', 1, { ok: true });
    expect(await mark('done', 1)).toBe(false);
    expect(await row('done')).toMatchObject({ status: 'succeeded', output: { ok: true } });
    // A later attempt after a retryable failure: running, with the failure kept in its history.
    await put('flaky', 'retrying', 1);
    expect(await mark('flaky', 2)).toBe(true);
    expect(await row('flaky')).toMatchObject({
      status: 'running',
      attempt: 2,
      attempts: [{ code: 'RATE_LIMITED' }],
    });
    // A step of a retried run (a later generation) over its failed row; not the same generation.
    await put('retried', 'failed', 1, { stale: true });
    expect(await mark('retried', 1)).toBe(false);
    await db.ownerPool.query('UPDATE runs SET generation = 1 WHERE id = $1', [runId]);
    expect(await mark('retried', 1, 1)).toBe(true);
    expect(await row('retried')).toMatchObject({ status: 'running', generation: 1, output: null });
    // A run that has ended gets no running step.
    await cancelRun(db.appPool, tenant.id, runId);
    expect(await mark('late', 1, 1)).toBe(false);
    expect(await row('late')).toBeUndefined();
  });

  // Last: it stops the shared worker pool.
  it('a worker that stops aborts its calls after the grace period, and another runs them again', async () => {
    const wf = await oneCall('hangOnce');
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const first = await callStarted(runId);
    const stopAt = Date.now();
    await worker.stop();
    // The call held the stop for the 500 ms grace period only, not for its 30 s.
    expect(Date.now() - stopAt).toBeLessThan(5_000);
    expect(first.abortedAt).toBeDefined();
    expect(first.reason).toBeInstanceOf(WorkerStopping);
    // The stop is not the step's failure: the run still runs, with no attempt recorded.
    const meanwhile = await getRun(db.appPool, tenant.id, runId);
    expect(meanwhile.status).toBe('running');
    expect(meanwhile.steps.flatMap((s) => s.attempts)).toEqual([]);

    const next = await runWorkerPool({ appUrl: db.appUrl, executors, pollIntervalMs: 100 });
    try {
      expect(await settled(runId, 15_000)).toMatchObject({ status: 'succeeded' });
      // The same attempt, with the same idempotency key, as after a crash.
      expect(again.get(runId)).toEqual({
        attempt: first.attempt,
        idempotencyKey: first.idempotencyKey,
      });
    } finally {
      await next.stop();
    }
  });
});
