import { fileURLToPath } from 'node:url';
import { startRuns } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, expect, it } from 'vitest';
import { createWorkflow, installLedger, seededRandom, waitFor } from '../test/fixtures.js';
import { startWorkers } from './supervisor.js';

// Start batches (roster_steps jobs of up to 50 runs) while worker processes are SIGKILLed: a batch
// cut short runs again once the supervisor unlocks its job, and each run's steps, audit events and
// effects are written once (decision 0005, tenth session).
const WAVES = 12;
const RUNS_PER_WAVE = 150;
const KILLS = 8;
const SEED = 20_261_127;

const db = await createTestDatabase();
afterAll(async () => {
  await db.drop();
});

it(`start batch crash test: ${WAVES * RUNS_PER_WAVE} runs started in waves of ${RUNS_PER_WAVE} survive ${KILLS} SIGKILLs with one step, event and effect each`, {
  timeout: 180_000,
}, async () => {
  const runs = WAVES * RUNS_PER_WAVE;
  await installLedger(db.ownerPool);
  const tenant = await createTenant(db.ownerPool, 'BatchCrash');
  const wf = await createWorkflow(db.ownerPool, tenant.id, {
    start: 'shape',
    steps: {
      // Some work per run (a sum over a range), so that a batch takes tens of milliseconds to
      // plan and a kill can land in the middle of it.
      shape: {
        type: 'transform',
        value: '{ "n": input.n, "sum": $sum([1..3000]) }',
        next: 'check',
      },
      check: {
        type: 'condition',
        branches: [{ when: 'steps.shape.output.n >= 0', next: 'send' }],
        default: 'send',
      },
      send: {
        type: 'connector',
        connector: 'ledger',
        action: 'record',
        retry: { maxAttempts: 10, backoff: { initial: '50ms', max: '1s' } },
        next: 'done',
      },
      done: { type: 'transform', value: 'steps.shape.output.n', end: true },
    },
  });
  const random = seededRandom(SEED);
  const workers = startWorkers({
    count: 3,
    appUrl: db.appUrl,
    concurrency: 4,
    maxRunsPerTenant: runs,
    pollIntervalMs: 200,
    heartbeatMs: 1000,
    executorModule: fileURLToPath(new URL('../test/ledger-executors.ts', import.meta.url)),
  });
  const killed = new Set<number>();
  try {
    await workers.ready;
    // Waves of runs, each three start batches; after each of the first waves, a kill a few
    // milliseconds later, while its batches are being planned and committed.
    const kill = async () => {
      let pid = workers.kill(Math.floor(random() * 3), 'SIGKILL');
      while (pid === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        pid = workers.kill(Math.floor(random() * 3), 'SIGKILL');
      }
      killed.add(pid);
    };
    for (let w = 0; w < WAVES; w++) {
      await startRuns(
        db.appPool,
        tenant.id,
        Array.from({ length: RUNS_PER_WAVE }, (_, i) => ({
          workflowId: wf,
          input: { n: w * RUNS_PER_WAVE + i },
        })),
        { maxRunsPerTenant: runs },
      );
      if (w < KILLS) {
        await new Promise((resolve) => setTimeout(resolve, random() * 40));
        await kill();
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await waitFor(
      async () => {
        const { rows } = await db.ownerPool.query(
          `SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND status NOT IN ('queued', 'running', 'waiting')`,
          [tenant.id],
        );
        return rows[0].n === runs;
      },
      150_000,
      'every run to end',
    );
  } finally {
    await workers.stop();
  }
  expect(killed.size).toBe(KILLS);
  const { rows: ended } = await db.ownerPool.query(
    'SELECT status, output, input FROM runs WHERE tenant_id = $1',
    [tenant.id],
  );
  expect(ended.filter((r) => r.status !== 'succeeded')).toEqual([]);
  for (const run of ended) expect(run.output).toBe(run.input.n);
  const { rows } = await db.ownerPool.query(
    `SELECT (SELECT count(*)::int FROM ledger_effects) AS effects,
            (SELECT count(*)::int FROM ledger_calls) AS calls,
            (SELECT count(*)::int FROM step_runs WHERE tenant_id = $1) AS steps,
            (SELECT count(*)::int FROM audit_events
              WHERE tenant_id = $1 AND kind = 'step.succeeded') AS step_events,
            (SELECT count(*)::int FROM audit_events
              WHERE tenant_id = $1 AND kind = 'run.succeeded') AS run_events,
            (SELECT count(*)::int FROM graphile_worker._private_jobs j
               JOIN graphile_worker._private_tasks t ON t.id = j.task_id
              WHERE t.identifier IN ('roster_step', 'roster_steps')) AS jobs_left`,
    [tenant.id],
  );
  const s = rows[0];
  console.log(
    `start batch crash test: ${runs} runs; ${s.effects} effects, ${s.calls} connector calls (${s.calls - s.effects} re-executed with the same key); ${killed.size} processes SIGKILLed`,
  );
  // Each run's four steps and their events once, one effect per run, no job left behind.
  expect(s.steps).toBe(runs * 4);
  expect(s.step_events).toBe(runs * 4);
  expect(s.run_events).toBe(runs);
  expect(s.effects).toBe(runs);
  expect(s.calls).toBeGreaterThanOrEqual(runs);
  expect(s.jobs_left).toBe(0);
});
