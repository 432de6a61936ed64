import type { WorkflowDefinitionInput } from '@roster/core';
import type { Pool } from '@roster/db';
import {
  cancelRun,
  completeReviewTask,
  ExecutorRegistry,
  getRun,
  replayStep,
  StepFailure,
  startRun,
} from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, ENDED, openReviewTask, runReaching, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Flow');
/** Item values whose `work` calls fail (retryable ITEM_BAD) while listed. */
const broken = new Set<unknown>();
/** Branches of one run that wait for each other, so they complete at the same moment. */
const barriers = new Map<string, { arrived: number; release: () => void; done: Promise<void> }>();
const workers: RunningWorkerPool[] = [];

/**
 * `record`: records the call with start and end times (sleeping input.ms); `fail`: fails fatally;
 * `barrier`: returns only once input.parties calls of the same run arrived.
 */
function flowExecutors(pool: Pool) {
  return new ExecutorRegistry().registerConnector(async (call) => {
    const input = (call.input ?? {}) as { ms?: number; v?: unknown; parties?: number };
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO flow_calls (key, run_id, step_id, input, started_at)
       VALUES ($1, $2, $3, $4, clock_timestamp()) RETURNING id`,
      [call.idempotencyKey, call.runId, call.stepId, JSON.stringify(call.input ?? null)],
    );
    if (input.ms) await new Promise((resolve) => setTimeout(resolve, input.ms));
    if (call.step.action === 'barrier') {
      let barrier = barriers.get(call.runId);
      if (!barrier) {
        let release = () => {};
        const done = new Promise<void>((resolve) => {
          release = resolve;
        });
        barrier = { arrived: 0, release, done };
        barriers.set(call.runId, barrier);
      }
      barrier.arrived += 1;
      if (barrier.arrived >= (input.parties ?? 2)) barrier.release();
      await barrier.done;
    }
    await pool.query('UPDATE flow_calls SET ended_at = clock_timestamp() WHERE id = $1', [
      rows[0]?.id,
    ]);
    if (call.step.action === 'fail') throw new StepFailure('CHILD_BROKE', 'no', { fatal: true });
    if (broken.has(input.v)) throw new StepFailure('ITEM_BAD', `item ${String(input.v)} is bad`);
    return { output: { input: call.input ?? null } };
  });
}

beforeAll(async () => {
  await db.ownerPool.query(`
    CREATE TABLE flow_calls (id bigserial PRIMARY KEY, key text NOT NULL, run_id uuid NOT NULL,
      step_id text NOT NULL, input jsonb, started_at timestamptz NOT NULL, ended_at timestamptz);
    GRANT SELECT, INSERT, UPDATE ON flow_calls TO roster_app;
    GRANT USAGE ON SEQUENCE flow_calls_id_seq TO roster_app;
  `);
  // Two worker pools, as two processes would be: branches of one run end on either.
  for (let i = 0; i < 2; i++) {
    workers.push(
      await runWorkerPool({
        appUrl: db.appUrl,
        executors: flowExecutors(db.appPool),
        concurrency: 6,
        sweepMs: 100,
        pollIntervalMs: 100,
      }),
    );
  }
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await db.drop();
});

const settled = (runId: string, statuses = ENDED) =>
  runReaching(db.appPool, tenant.id, runId, { statuses, timeoutMs: 30_000 });

async function publish(definition: WorkflowDefinitionInput): Promise<{ id: string; name: string }> {
  const id = await createWorkflow(db.ownerPool, tenant.id, definition);
  const { rows } = await db.ownerPool.query('SELECT name FROM workflows WHERE id = $1', [id]);
  return { id, name: rows[0].name };
}

async function calls(runId: string, stepId?: string) {
  const { rows } = await db.ownerPool.query(
    `SELECT key, step_id, input, started_at, ended_at FROM flow_calls
      WHERE run_id = $1 AND ($2::text IS NULL OR step_id = $2) ORDER BY id`,
    [runId, stepId ?? null],
  );
  return rows as Array<{
    key: string;
    step_id: string;
    input: { v?: unknown; i?: number };
    started_at: Date;
    ended_at: Date | null;
  }>;
}

/** A parallel branch that fails with BRANCH_BROKE 300 ms in. */
const failingBranch = {
  start: 'wait',
  steps: {
    wait: { type: 'wait' as const, duration: '300ms', next: 'x1' },
    x1: { type: 'fail' as const, error: 'BRANCH_BROKE' },
  },
};

const record = (input: string, next?: string) => ({
  type: 'connector' as const,
  connector: 'test',
  action: 'record',
  input,
  ...(next ? { next } : { end: true }),
});

describe('parallel', () => {
  it('runs the branches and the join sees each branch’s outputs', async () => {
    const wf = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          branches: {
            left: {
              start: 'l1',
              steps: {
                l1: record('{ "n": input.n }', 'l2'),
                l2: { type: 'transform', value: 'steps.l1.output.input.n + 1', end: true },
              },
            },
            right: {
              start: 'r1',
              steps: { r1: { type: 'transform', value: 'input.n * 10', end: true } },
            },
          },
          next: 'join',
        },
        join: {
          type: 'transform',
          value: '{ "l": steps.l2.output, "r": steps.r1.output, "fork": steps.fork.output }',
          end: true,
        },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf.id, input: { n: 4 } });
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ l: 5, r: 40, fork: { left: 5, right: 40 } });
    expect((await calls(runId)).map((c) => c.key)).toEqual([`${runId}/l1`]);
  });

  it('joins exactly once when the branches end at the same moment on two workers', async () => {
    const wf = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          branches: {
            a: { start: 'a1', steps: { a1: { ...record('{ "side": "a" }'), action: 'barrier' } } },
            b: { start: 'b1', steps: { b1: { ...record('{ "side": "b" }'), action: 'barrier' } } },
          },
          next: 'after',
        },
        after: record('steps.fork.output'),
      },
    });
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => startRun(db.appPool, tenant.id, { workflowId: wf.id })),
    );
    for (const { runId } of runs) {
      const run = await settled(runId);
      expect(run.status).toBe('succeeded');
      const after = await calls(runId, 'after');
      expect(after).toHaveLength(1);
      expect(after[0]?.input).toEqual({
        a: { input: { side: 'a' } },
        b: { input: { side: 'b' } },
      });
      const audit = await db.ownerPool.query(
        `SELECT count(*)::int AS n FROM audit_events
          WHERE run_id = $1 AND kind = 'step.succeeded' AND data->>'step' = 'fork'`,
        [runId],
      );
      expect(audit.rows[0].n).toBe(1);
    }
  });

  it('a failing branch fails the parallel step, which its catch routes', async () => {
    const wf = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          branches: {
            ok: { start: 'o1', steps: { o1: record('{ "ms": 300 }') } },
            bad: { start: 'x1', steps: { x1: { type: 'fail', error: 'BRANCH_BROKE' } } },
          },
          catch: [{ errors: ['BRANCH_BROKE'], next: 'rescue' }],
          next: 'after',
        },
        after: { type: 'transform', value: '"joined"', end: true },
        rescue: { type: 'transform', value: '"rescued"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf.id });
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', output: 'rescued' });
    const fork = run.steps.find((s) => s.stepId === 'fork');
    expect(fork).toMatchObject({ status: 'failed', error: { code: 'BRANCH_BROKE' } });
    expect(run.steps.find((s) => s.stepId === 'fork#ok')?.status).toBe('cancelled');
  });
  const taskStatus = async (taskId: string) =>
    (await db.ownerPool.query('SELECT status FROM review_tasks WHERE id = $1', [taskId])).rows[0]
      ?.status;

  /** A branch waiting for a review, and one that fails 300 ms in. */
  const reviewBesideFailure = {
    asking: {
      start: 'ask',
      steps: { ask: { type: 'review' as const, title: 'Check', labels: ['ok'], end: true } },
    },
    failing: failingBranch,
  };

  it('a branch cut short by a failing sibling closes its review and task, and the run goes on', async () => {
    const wf = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          branches: reviewBesideFailure,
          catch: [{ errors: ['BRANCH_BROKE'], next: 'rescue' }],
          end: true,
        },
        rescue: { type: 'transform', value: '"rescued"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf.id });
    const task = await openReviewTask(db.ownerPool, runId);
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', output: 'rescued' });
    expect(run.steps.find((s) => s.stepId === 'ask')?.status).toBe('cancelled');
    expect(await taskStatus(task)).toBe('cancelled');
  });

  it('a failing branch that dead-letters the run closes the review still waiting in the other branch', async () => {
    const wf = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          branches: reviewBesideFailure,
          end: true,
        },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf.id });
    const task = await openReviewTask(db.ownerPool, runId);
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'dead_lettered', error: { code: 'BRANCH_BROKE' } });
    // Nothing of the dead-lettered run is left open: not the review step, and not its task.
    const open = ['running', 'waiting', 'retrying', 'pending'];
    expect(run.steps.filter((s) => open.includes(s.status))).toEqual([]);
    expect(run.steps.find((s) => s.stepId === 'ask')).toMatchObject({
      status: 'cancelled',
      error: { code: 'RUN_ENDED' },
    });
    expect(await taskStatus(task)).toBe('cancelled');
  });

  it('a declared timeout fails the parallel step with TIMEOUT and cancels its branches', async () => {
    const wf = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          timeout: '300ms',
          retry: { maxAttempts: 1 },
          branches: {
            slow: { start: 's1', steps: { s1: { type: 'wait', duration: '1h', end: true } } },
            quick: { start: 'q1', steps: { q1: { type: 'transform', value: '1', end: true } } },
          },
          catch: [{ errors: ['TIMEOUT'], next: 'rescue' }],
          next: 'after',
        },
        after: { type: 'transform', value: '"joined"', end: true },
        rescue: { type: 'transform', value: '"timed out"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf.id });
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', output: 'timed out' });
    expect(run.steps.find((s) => s.stepId === 'fork')).toMatchObject({
      status: 'failed',
      error: { code: 'TIMEOUT' },
    });
    expect(run.steps.find((s) => s.stepId === 'fork#slow')?.status).toBe('cancelled');
    // The branch's wait is closed too: the run went on without it.
    expect(run.steps.find((s) => s.stepId === 's1')?.status).toBe('cancelled');
    expect(run.steps.find((s) => s.stepId === 'fork#quick')?.status).toBe('succeeded');
  });
});

describe('map', () => {
  it('fans out over 50 items, never more than `concurrency` at once, in item order', async () => {
    const wf = await publish({
      start: 'each',
      steps: {
        each: {
          type: 'map',
          items: 'input.items',
          concurrency: 5,
          iterator: {
            start: 'work',
            steps: {
              work: record('{ "v": item, "i": index, "ms": 40 }', 'double'),
              double: { type: 'transform', value: 'steps.work.output.input.v * 2', end: true },
            },
          },
          end: true,
        },
      },
    });
    const items = Array.from({ length: 50 }, (_, i) => 100 + i);
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf.id,
      input: { items },
    });
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual(items.map((v) => v * 2));
    const made = await calls(runId, 'work');
    expect(made).toHaveLength(50);
    // Stable and distinct per iteration; each iteration saw its own item and index.
    expect(new Set(made.map((c) => c.key)).size).toBe(50);
    for (const c of made) {
      expect(c.key).toBe(`${runId}/work@${c.input.i}`);
      expect(c.input.v).toBe(items[c.input.i as number]);
    }
    const events = made.flatMap((c) => [
      { at: c.started_at.getTime(), d: 1 },
      { at: (c.ended_at as Date).getTime(), d: -1 },
    ]);
    events.sort((x, y) => x.at - y.at || x.d - y.d);
    let inFlight = 0;
    let most = 0;
    for (const e of events) {
      inFlight += e.d;
      most = Math.max(most, inFlight);
    }
    expect(most).toBeLessThanOrEqual(5);
    expect(most).toBeGreaterThan(1);
  });

  it('queues no more than `concurrency` iteration jobs for a map over 1,000 items', async () => {
    const wf = await publish({
      start: 'each',
      steps: {
        each: {
          type: 'map',
          items: 'input.items',
          concurrency: 5,
          iterator: { start: 'work', steps: { work: record('{ "v": item, "ms": 1500 }') } },
          end: true,
        },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf.id,
      input: { items: Array.from({ length: 1000 }, (_, i) => i) },
    });
    const markers = await waitFor(async () => {
      const { rows } = await db.ownerPool.query(
        `SELECT status, count(*)::int AS n FROM step_runs
          WHERE run_id = $1 AND step_id LIKE 'each#%' GROUP BY status ORDER BY status`,
        [runId],
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(markers).toEqual([
      { status: 'pending', n: 995 },
      { status: 'running', n: 5 },
    ]);
    const jobs = await db.ownerPool.query(
      `SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'r' = $1`,
      [runId],
    );
    expect(jobs.rows[0].n).toBeLessThanOrEqual(5);
    await cancelRun(db.appPool, tenant.id, runId);
    const after = await db.ownerPool.query(
      `SELECT count(*)::int AS n FROM step_runs WHERE run_id = $1 AND status IN ('pending', 'running')`,
      [runId],
    );
    expect(after.rows[0].n).toBe(0);
  });

  it('completes with [] over no items', async () => {
    const wf = await publish({
      start: 'each',
      steps: {
        each: {
          type: 'map',
          items: 'input.items',
          iterator: { start: 'work', steps: { work: record('item') } },
          next: 'after',
        },
        after: { type: 'transform', value: '{ "out": steps.each.output }', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf.id,
      input: { items: [] },
    });
    expect(await settled(runId)).toMatchObject({ status: 'succeeded', output: { out: [] } });
  });

  const failingMap = (toleratedFailures: number) => ({
    start: 'each',
    steps: {
      each: {
        type: 'map' as const,
        items: 'input.items',
        concurrency: 2,
        toleratedFailures,
        iterator: {
          start: 'work',
          steps: { work: { ...record('{ "v": item }'), retry: { maxAttempts: 1 } } },
        },
        end: true,
      },
    },
  });

  it('dead-letters on a failing item, and replayStep runs the map again to success', async () => {
    const wf = await publish(failingMap(0));
    broken.add('bad-1');
    const items = ['a', 'b', 'bad-1', 'c', 'd'];
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf.id,
      input: { items },
    });
    const dead = await settled(runId);
    expect(dead).toMatchObject({
      status: 'dead_lettered',
      failedStep: 'each',
      error: { code: 'ITEM_BAD' },
    });
    broken.delete('bad-1');
    // An iteration's step alone cannot be replayed: the map around it is.
    await expect(replayStep(db.appPool, tenant.id, runId, 'work')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    await replayStep(db.appPool, tenant.id, runId, 'each');
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual(items.map((v) => ({ input: { v } })));
  });

  it('honours toleratedFailures: a failed iteration gives null in its place', async () => {
    const wf = await publish(failingMap(1));
    broken.add('bad-2');
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf.id,
      input: { items: ['a', 'bad-2', 'b'] },
    });
    const run = await settled(runId);
    expect(run).toMatchObject({
      status: 'succeeded',
      output: [{ input: { v: 'a' } }, null, { input: { v: 'b' } }],
    });
  });
});

describe('nesting', () => {
  it('runs a parallel inside each map iteration, seeing that iteration’s item and outputs', async () => {
    const wf = await publish({
      start: 'each',
      steps: {
        each: {
          type: 'map',
          items: 'input.items',
          concurrency: 3,
          iterator: {
            start: 'both',
            steps: {
              both: {
                type: 'parallel',
                branches: {
                  up: {
                    start: 'u',
                    steps: { u: { type: 'transform', value: 'item + 1', end: true } },
                  },
                  down: {
                    start: 'd',
                    steps: { d: { type: 'transform', value: 'item - 1', end: true } },
                  },
                },
                next: 'sum',
              },
              sum: {
                type: 'transform',
                value: 'steps.u.output + steps.d.output + index',
                end: true,
              },
            },
          },
          end: true,
        },
      },
    });
    const items = [10, 20, 30, 40, 50, 60, 70];
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf.id,
      input: { items },
    });
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual(items.map((v, i) => 2 * v + i));
  });

  it('waits for a review inside a map iteration and resumes that iteration', async () => {
    const wf = await publish({
      start: 'each',
      steps: {
        each: {
          type: 'map',
          items: 'input.items',
          iterator: {
            start: 'ask',
            steps: { ask: { type: 'review', title: 'Check', data: '{ "item": item }', end: true } },
          },
          end: true,
        },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf.id,
      input: { items: ['a', 'b'] },
    });
    const tasks = await waitFor(async () => {
      const { rows } = await db.ownerPool.query(
        `SELECT id, step_id, data FROM review_tasks WHERE run_id = $1 AND status = 'open' ORDER BY step_id`,
        [runId],
      );
      return rows.length === 2 ? rows : undefined;
    });
    expect(tasks.map((t) => [t.step_id, t.data])).toEqual([
      ['ask@0', { item: 'a' }],
      ['ask@1', { item: 'b' }],
    ]);
    for (const task of tasks.reverse()) {
      await completeReviewTask(db.appPool, tenant.id, task.id, { label: `${task.data.item}!` });
    }
    expect(await settled(runId)).toMatchObject({
      status: 'succeeded',
      output: [{ label: 'a!' }, { label: 'b!' }],
    });
  });
});

describe('callWorkflow', () => {
  async function parentRow(runId: string) {
    const { rows } = await db.ownerPool.query(
      `SELECT parent_run_id, parent_step, status, deadline_at, started_by_kind, started_by_id
         FROM runs WHERE id = $1`,
      [runId],
    );
    return rows[0];
  }
  async function childOf(runId: string) {
    return waitFor(async () => {
      const { rows } = await db.ownerPool.query('SELECT id FROM runs WHERE parent_run_id = $1', [
        runId,
      ]);
      return rows[0]?.id as string | undefined;
    });
  }

  it('runs a child and continues with its output; the child records its parent', async () => {
    const child = await publish({
      start: 'shout',
      steps: { shout: { type: 'transform', value: '$uppercase(input.word)', end: true } },
    });
    const parent = await publish({
      start: 'call',
      deadline: '1h',
      steps: {
        call: {
          type: 'callWorkflow',
          workflow: child.name,
          input: '{ "word": input.word }',
          next: 'after',
        },
        after: { type: 'transform', value: '{ "got": steps.call.output }', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: parent.id,
      input: { word: 'hi' },
    });
    expect(await settled(runId)).toMatchObject({ status: 'succeeded', output: { got: 'HI' } });
    const childId = await childOf(runId);
    const row = await parentRow(childId);
    expect(row).toMatchObject({
      parent_run_id: runId,
      parent_step: 'call',
      status: 'succeeded',
      started_by_kind: 'run',
      started_by_id: runId,
    });
    const parentRun = await getRun(db.appPool, tenant.id, runId);
    expect(row.deadline_at.getTime()).toBeLessThanOrEqual(parentRun.deadlineAt.getTime());
  });

  it('fails the step with the child’s error', async () => {
    const child = await publish({
      start: 'boom',
      steps: { boom: { ...record('{}'), action: 'fail' } },
    });
    const parent = await publish({
      start: 'call',
      steps: {
        call: { type: 'callWorkflow', workflow: child.name, retry: { maxAttempts: 1 }, end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: parent.id });
    const run = await settled(runId);
    expect(run).toMatchObject({ failedStep: 'call', error: { code: 'CHILD_BROKE' } });
    expect(['failed', 'dead_lettered']).toContain(run.status);
    const { rows } = await db.ownerPool.query(
      'SELECT count(*)::int AS n FROM runs WHERE parent_run_id = $1',
      [runId],
    );
    expect(rows[0].n).toBe(1);
  });

  it('a declared timeout fails the step with TIMEOUT and stops the child; its catch goes on', async () => {
    const child = await publish({
      start: 'pause',
      steps: { pause: { type: 'wait', duration: '1h', end: true } },
    });
    const parent = await publish({
      start: 'call',
      steps: {
        call: {
          type: 'callWorkflow',
          workflow: child.name,
          timeout: '300ms',
          retry: { maxAttempts: 1 },
          catch: [{ errors: ['TIMEOUT'], next: 'fallback' }],
          next: 'after',
        },
        after: { type: 'transform', value: '"child answered"', end: true },
        fallback: { type: 'transform', value: '"gave up waiting"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: parent.id });
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', output: 'gave up waiting' });
    expect(run.steps.find((s) => s.stepId === 'call')).toMatchObject({
      status: 'failed',
      error: { code: 'TIMEOUT' },
    });
    const childId = await childOf(runId);
    expect((await parentRow(childId)).status).toBe('cancelled');
  });

  it('cancelling the parent cancels the child', async () => {
    const child = await publish({
      start: 'pause',
      steps: { pause: { type: 'wait', duration: '1h', end: true } },
    });
    const parent = await publish({
      start: 'call',
      steps: { call: { type: 'callWorkflow', workflow: child.name, end: true } },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: parent.id });
    const childId = await childOf(runId);
    await settled(childId, ['waiting']);
    await settled(runId, ['waiting']);
    await cancelRun(db.appPool, tenant.id, runId);
    const cancelled = await getRun(db.appPool, tenant.id, childId);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.steps.find((s) => s.stepId === 'pause')?.status).toBe('cancelled');
  });

  it('a branch cut short by a failing sibling cancels the child run its step started', async () => {
    const child = await publish({
      start: 'pause',
      steps: { pause: { type: 'wait', duration: '1h', end: true } },
    });
    const parent = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          branches: {
            calling: {
              start: 'call',
              steps: { call: { type: 'callWorkflow', workflow: child.name, end: true } },
            },
            failing: failingBranch,
          },
          catch: [{ errors: ['BRANCH_BROKE'], next: 'rescue' }],
          end: true,
        },
        rescue: { type: 'transform', value: '"rescued"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: parent.id });
    const childId = await childOf(runId);
    expect(await settled(runId)).toMatchObject({ status: 'succeeded', output: 'rescued' });
    expect(await getRun(db.appPool, tenant.id, childId)).toMatchObject({
      status: 'cancelled',
      error: { code: 'PARENT_STEP_ENDED' },
    });
  });

  it('a parent that is dead-lettered while its child still waits cancels the child', async () => {
    const child = await publish({
      start: 'pause',
      steps: { pause: { type: 'wait', duration: '1h', end: true } },
    });
    const parent = await publish({
      start: 'fork',
      steps: {
        fork: {
          type: 'parallel',
          branches: {
            kid: {
              start: 'call',
              steps: { call: { type: 'callWorkflow', workflow: child.name, end: true } },
            },
            // Fails only once a reviewer answers, after the child is waiting.
            bad: {
              start: 'ask',
              steps: {
                ask: { type: 'review', title: 'Stop the run?', next: 'boom' },
                boom: { type: 'fail', error: 'BRANCH_BROKE' },
              },
            },
          },
          end: true,
        },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: parent.id });
    const childId = await childOf(runId);
    await settled(childId, ['waiting']);
    const task = await openReviewTask(db.ownerPool, runId);
    await completeReviewTask(db.appPool, tenant.id, task, { approved: true });
    expect(await settled(runId)).toMatchObject({ status: 'dead_lettered' });
    const stopped = await settled(childId, ['cancelled']);
    expect(stopped.error).toMatchObject({ code: 'PARENT_ENDED' });
  });

  it('waits for a review inside the child and resumes with the reviewer’s outcome', async () => {
    const child = await publish({
      start: 'ask',
      steps: {
        ask: { type: 'review', title: 'Approve?', labels: ['yes', 'no'], data: 'input', end: true },
      },
    });
    const parent = await publish({
      start: 'call',
      steps: {
        call: { type: 'callWorkflow', workflow: child.name, input: 'input', next: 'after' },
        after: { type: 'transform', value: '{ "decided": steps.call.output.label }', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: parent.id,
      input: { invoice: 7 },
    });
    const childId = await childOf(runId);
    await settled(childId, ['waiting']);
    const { rows } = await db.ownerPool.query(
      'SELECT id, data FROM review_tasks WHERE run_id = $1',
      [childId],
    );
    expect(rows[0].data).toEqual({ invoice: 7 });
    expect((await getRun(db.appPool, tenant.id, runId)).status).toBe('waiting');
    await completeReviewTask(db.appPool, tenant.id, rows[0].id, { label: 'yes' });
    expect(await settled(runId)).toMatchObject({
      status: 'succeeded',
      output: { decided: 'yes' },
    });
  });
});
