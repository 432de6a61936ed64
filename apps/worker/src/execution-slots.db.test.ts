import { ExecutorRegistry, getRun, startRun } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkflow, runReaching, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool, type WorkerPoolOptions } from './worker-pool.js';

// A worker's `concurrency` bounds the steps executing at once, not the jobs it holds: a step whose
// transition waits for its commit hands its slot to the next job (ExecutionSlots).
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Slots');

let executing = 0;
let mostExecuting = 0;
/** The runs whose call has started, in order. */
const called: string[] = [];
const executors = new ExecutorRegistry().registerConnector(async (call) => {
  called.push(call.runId);
  executing++;
  mostExecuting = Math.max(mostExecuting, executing);
  try {
    const ms = (call.input as { ms?: number } | null)?.ms ?? 0;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { output: { ok: true } };
  } finally {
    executing--;
  }
});
const oneCall = (ms: number) =>
  createWorkflow(db.ownerPool, tenant.id, {
    start: 'call',
    steps: {
      call: {
        type: 'connector',
        connector: 'test',
        action: 'sleep',
        input: `{"ms": ${ms}}`,
        end: true,
      },
    },
  });

const pools: RunningWorkerPool[] = [];
const startPool = async (options: Partial<WorkerPoolOptions>) => {
  const pool = await runWorkerPool({
    appUrl: db.appUrl,
    executors,
    pollIntervalMs: 100,
    ...options,
  });
  pools.push(pool);
  return pool;
};
afterAll(async () => {
  await Promise.all(pools.map((p) => p.stop()));
  await db.drop();
});

describe('execution slots', () => {
  it('runs at most `concurrency` calls at once, though the pool holds more jobs', async () => {
    const wf = await oneCall(300);
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => startRun(db.appPool, tenant.id, { workflowId: wf })),
    );
    mostExecuting = 0;
    const pool = await startPool({ concurrency: 2 });
    for (const { runId } of runs) {
      expect((await runReaching(db.appPool, tenant.id, runId)).status).toBe('succeeded');
    }
    expect(mostExecuting).toBe(2);
    await pool.stop();
  });

  it('leaves new jobs to another pool while its slots are busy', async () => {
    const slow = await oneCall(4000);
    const quick = await oneCall(0);
    // One slot, and a local queue of two: graphile-worker's local queue fetches up to its size
    // ahead of the pool's workers, and holds those jobs until a worker is free.
    const busyPool = await startPool({ concurrency: 1, localQueueSize: 2 });
    try {
      const { runId: slowRun } = await startRun(db.appPool, tenant.id, { workflowId: slow });
      await waitFor(async () => called.includes(slowRun), 10_000, 'the slow call to start');
      const quickRuns = await Promise.all(
        Array.from({ length: 6 }, () => startRun(db.appPool, tenant.id, { workflowId: quick })),
      );
      // The busy pool has had time to fetch them all, had its free queue workers asked for them.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const idlePool = await startPool({ concurrency: 2 });
      try {
        // All but the two in the busy pool's local queue run on the idle pool, while the slow
        // call still holds the busy pool's one slot.
        const ended = async () => {
          const runs = await Promise.all(
            quickRuns.map(({ runId }) => getRun(db.appPool, tenant.id, runId)),
          );
          return runs.filter((r) => r.status === 'succeeded').length;
        };
        await waitFor(async () => (await ended()) >= 4, 3_000, 'four quick runs to succeed');
        expect((await getRun(db.appPool, tenant.id, slowRun)).status).toBe('running');
        expect((await runReaching(db.appPool, tenant.id, slowRun)).status).toBe('succeeded');
        await waitFor(async () => (await ended()) === 6, 5_000, 'every quick run to succeed');
      } finally {
        await idlePool.stop();
      }
    } finally {
      await busyPool.stop();
    }
  });

  it("executes another run's step while a run's commit waits, with one slot", async () => {
    const wf = await oneCall(0);
    const pool = await startPool({ concurrency: 1 });
    // Run `blocked` ends in a transition that must lock its run, which this transaction holds, as
    // a slow commit or a cancellation in progress would.
    const { runId: blocked } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const holder = await db.ownerPool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [blocked]);
      await waitFor(async () => called.includes(blocked), 10_000, 'the blocked run to call');
      // The blocked run's job waits for its commit, and the one slot serves the next run.
      const { runId: next } = await startRun(db.appPool, tenant.id, { workflowId: wf });
      expect((await runReaching(db.appPool, tenant.id, next, { timeoutMs: 10_000 })).status).toBe(
        'succeeded',
      );
      expect(
        (await runReaching(db.appPool, tenant.id, blocked, { statuses: ['running'] })).status,
      ).toBe('running');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await runReaching(db.appPool, tenant.id, blocked)).status).toBe('succeeded');
    await pool.stop();
  });
});
