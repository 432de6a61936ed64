import { fileURLToPath } from 'node:url';
import { startRuns } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, expect, it } from 'vitest';
import { createWorkflow, installLedger, seededRandom, waitFor } from '../test/fixtures.js';
import { startWorkers } from './supervisor.js';

const RUNS = 40;
const ITEMS = 8;
const KILLS = 10;
const SEED = 20_261_128;

const db = await createTestDatabase();
afterAll(async () => {
  await db.drop();
});

const record = (next?: string) => ({
  type: 'connector' as const,
  connector: 'ledger',
  action: 'record',
  retry: { maxAttempts: 10, backoff: { initial: '50ms', max: '1s' } },
  ...(next ? { next } : { end: true }),
});

it(`flow crash test: ${RUNS} runs fanning out over ${ITEMS} items and 2 branches survive ${KILLS} SIGKILLs with one effect per step instance`, {
  timeout: 240_000,
}, async () => {
  await installLedger(db.ownerPool);
  const tenant = await createTenant(db.ownerPool, 'FlowCrash');
  const wf = await createWorkflow(db.ownerPool, tenant.id, {
    start: 'each',
    steps: {
      each: {
        type: 'map',
        items: 'input.items',
        concurrency: 3,
        iterator: {
          start: 'work',
          steps: {
            work: record('tag'),
            tag: { type: 'transform', value: 'item * 10', end: true },
          },
        },
        next: 'fork',
      },
      fork: {
        type: 'parallel',
        branches: {
          a: { start: 'a1', steps: { a1: record() } },
          b: { start: 'b1', steps: { b1: record() } },
        },
        next: 'done',
      },
      done: { type: 'transform', value: 'steps.each.output', end: true },
    },
  });
  const items = Array.from({ length: ITEMS }, (_, i) => i + 1);
  await startRuns(
    db.appPool,
    tenant.id,
    Array.from({ length: RUNS }, () => ({ workflowId: wf, input: { items } })),
    { maxRunsPerTenant: RUNS },
  );
  const random = seededRandom(SEED);
  let started = Date.now();
  let elapsed = 0;
  const workers = startWorkers({
    count: 3,
    appUrl: db.appUrl,
    concurrency: 8,
    maxRunsPerTenant: RUNS,
    pollIntervalMs: 200,
    heartbeatMs: 1000,
    executorModule: fileURLToPath(new URL('../test/ledger-executors.ts', import.meta.url)),
  });
  try {
    await workers.ready;
    started = Date.now();
    const killed = new Set<number>();
    for (let k = 1; k <= KILLS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 200 + random() * 700));
      let pid = workers.kill(Math.floor(random() * 3), 'SIGKILL');
      while (pid === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        pid = workers.kill(Math.floor(random() * 3), 'SIGKILL');
      }
      killed.add(pid);
    }
    expect(killed.size).toBe(KILLS);
    await waitFor(
      async () => {
        const { rows } = await db.ownerPool.query(
          `SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND status NOT IN ('queued', 'running', 'waiting')`,
          [tenant.id],
        );
        return rows[0].n === RUNS;
      },
      180_000,
      'every run to end',
    );
    elapsed = Date.now() - started;
  } finally {
    await workers.stop();
  }
  const { rows: runs } = await db.ownerPool.query(
    'SELECT id, status, output FROM runs WHERE tenant_id = $1',
    [tenant.id],
  );
  expect(runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
  for (const run of runs) expect(run.output).toEqual(items.map((i) => i * 10));
  const { rows } = await db.ownerPool.query(`
    SELECT (SELECT count(*)::int FROM ledger_effects) AS effects,
           (SELECT count(*)::int FROM ledger_effects
             WHERE key NOT IN (SELECT run_id::text || '/' || s FROM unnest(ARRAY['a1', 'b1']) s)
               AND key !~ '/work@[0-9]+$') AS foreign_keys,
           (SELECT count(*)::int FROM ledger_calls) AS calls,
           (SELECT count(*)::int FROM audit_events WHERE kind = 'step.fanned_out') AS fan_outs,
           (SELECT count(*)::int FROM audit_events
             WHERE kind = 'step.succeeded' AND data->>'step' IN ('each', 'fork')) AS joins,
           (SELECT count(*)::int FROM step_runs WHERE step_id ~ '^each#' AND status = 'succeeded') AS iterations`);
  const s = rows[0];
  console.log(
    `flow crash test: ${RUNS} runs in ${elapsed} ms after the workers were ready; ${s.effects} effects, ${s.calls} connector calls (${s.calls - s.effects} re-executed with the same key)`,
  );
  // One effect per iteration step and per branch step; keys distinct per iteration.
  expect(s.effects).toBe(RUNS * (ITEMS + 2));
  expect(s.foreign_keys).toBe(0);
  expect(s.calls).toBeGreaterThanOrEqual(s.effects);
  // Each fan-out committed once, each join once, no iteration lost or doubled.
  expect(s.fan_outs).toBe(RUNS * 2);
  expect(s.joins).toBe(RUNS * 2);
  expect(s.iterations).toBe(RUNS * ITEMS);
});
