import { randomUUID } from 'node:crypto';
import type { Pool } from '@roster/db';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { startRuns } from './start-run.js';
import type { TransitionSpec } from './transition.js';
import { TransitionBatcher } from './transition-batch.js';

// When a worker's lanes are all busy, its transitions wait in the batcher's queue. A lane must
// take the next of them as soon as its statement returns, not once this process has handed the
// returned results on (the callers plan further work, which takes time).
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Batcher');
afterAll(() => db.drop());

/** Running 1-step runs, started as a caller of startRuns starts them (no worker runs them). */
async function runningRuns(n: number): Promise<string[]> {
  const workflowId = randomUUID();
  await db.ownerPool.query(
    'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
    [tenant.id, workflowId, `wf-${workflowId.slice(0, 8)}`],
  );
  await db.ownerPool.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [
      tenant.id,
      workflowId,
      { start: 's1', steps: { s1: { type: 'transform', value: '1', end: true } } },
    ],
  );
  const started = await startRuns(
    db.appPool,
    tenant.id,
    Array.from({ length: n }, () => ({ workflowId, input: {} })),
    // All of them running, not queued behind the default run limit.
    { maxRunsPerTenant: 1_000 },
  );
  return started.map((s) => s.runId);
}

/** The run's one step succeeded, and with it the run (what a worker asks for). */
const succeeded = (run: string): TransitionSpec => ({
  tenant: tenant.id,
  run,
  step: 's1',
  attempt: 1,
  generation: 0,
  stepStatus: 'succeeded',
  output: 1,
  runStatus: 'succeeded',
  runOutput: 1,
  audit: [{ kind: 'step.succeeded', data: { step: 's1' } }, { kind: 'run.succeeded' }],
});

/** The app pool, recording in `log` when a statement is sent, and in `sent` its parameter. */
function recording(log: string[], sent: string[] = []): Pool {
  const pool = db.appPool;
  return new Proxy(pool, {
    get(target, key, receiver) {
      if (key === 'query') {
        return (...args: unknown[]) => {
          log.push('send');
          sent.push(String((args[0] as { values?: unknown[] }).values?.[0]));
          return (target.query as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

async function statuses(runs: string[]): Promise<string[]> {
  const { rows } = await db.ownerPool.query(
    'SELECT id, status FROM runs WHERE id = ANY ($1::uuid[])',
    [runs],
  );
  const byId = new Map(rows.map((r) => [r.id as string, r.status as string]));
  return runs.map((id) => byId.get(id) ?? 'missing');
}

describe('TransitionBatcher', () => {
  it('sends the next queued batch before the returned one is handed back', async () => {
    const runs = await runningRuns(6);
    const log: string[] = [];
    const batcher = new TransitionBatcher(recording(log), { maxBatch: 2, lanes: 1 });
    const results = await Promise.all(
      runs.map((run, i) =>
        batcher.apply(succeeded(run)).then((result) => {
          log.push(`done ${i}`);
          return result;
        }),
      ),
    );
    // The run ids sort the runs of a batch, and so the order in which their callers hear back.
    const done = (a: number, b: number) =>
      [`done ${a}`, `done ${b}`].sort((x, y) => log.indexOf(x) - log.indexOf(y));
    expect(log).toEqual(['send', 'send', ...done(0, 1), 'send', ...done(2, 3), ...done(4, 5)]);
    expect(results.every((r) => r.startsWith('applied'))).toBe(true);
    expect(await statuses(runs)).toEqual(Array(6).fill('succeeded'));
  });

  it('sends a full batch at once, without waiting for the turn of the event loop to end', async () => {
    const runs = await runningRuns(4);
    const log: string[] = [];
    const batcher = new TransitionBatcher(recording(log), { maxBatch: 3, lanes: 1 });
    const pending = runs.map((run) => batcher.apply(succeeded(run)));
    // Synchronously: the first three made a full batch, which is on its way; the fourth waits.
    expect(log).toEqual(['send']);
    const results = await Promise.all(pending);
    expect(log).toEqual(['send', 'send']);
    expect(results.every((r) => r.startsWith('applied'))).toBe(true);
    expect(await statuses(runs)).toEqual(Array(4).fill('succeeded'));
  });

  it('still gathers the transitions of one turn into one statement', async () => {
    const runs = await runningRuns(5);
    const log: string[] = [];
    const batcher = new TransitionBatcher(recording(log), { maxBatch: 100, lanes: 2 });
    const results = await Promise.all(runs.map((run) => batcher.apply(succeeded(run))));
    expect(log).toEqual(['send']);
    expect(results.every((r) => r.startsWith('applied'))).toBe(true);
  });

  it('puts up to 200 transitions in a statement by default', async () => {
    const runs = await runningRuns(250);
    const log: string[] = [];
    const batcher = new TransitionBatcher(recording(log));
    const results = await Promise.all(runs.map((run) => batcher.apply(succeeded(run))));
    // 200 go at once; the other 50, asked for in the same turn, in a second statement.
    expect(log).toEqual(['send', 'send']);
    expect(results.every((r) => r.startsWith('applied'))).toBe(true);
    expect(await statuses(runs)).toEqual(Array(250).fill('succeeded'));
  });

  it('records a first attempt and generation it was not sent, and later ones as sent', async () => {
    const [first, retried, rerun] = await runningRuns(3);
    await db.ownerPool.query('UPDATE runs SET generation = 1 WHERE id = $1', [rerun]);
    const sent: string[] = [];
    const batcher = new TransitionBatcher(recording([], sent), { maxBatch: 3, lanes: 1 });
    const results = await Promise.all([
      batcher.apply(succeeded(first as string)),
      batcher.apply({ ...succeeded(retried as string), attempt: 3 }),
      batcher.apply({ ...succeeded(rerun as string), generation: 1 }),
    ]);
    expect(results.every((r) => r.startsWith('applied'))).toBe(true);
    // One statement, whose specs leave out what Postgres reads when it is absent.
    expect(sent).toHaveLength(1);
    const specs = JSON.parse(sent[0] as string) as Array<Record<string, unknown>>;
    const byRun = new Map(specs.map((s) => [s.run, s]));
    expect(byRun.get(first)).not.toHaveProperty('attempt');
    expect(byRun.get(first)).not.toHaveProperty('generation');
    expect(byRun.get(retried)).toMatchObject({ attempt: 3 });
    expect(byRun.get(rerun)).toMatchObject({ generation: 1 });
    const { rows } = await db.ownerPool.query(
      'SELECT run_id, attempt, generation FROM step_runs WHERE run_id = ANY ($1::uuid[])',
      [[first, retried, rerun]],
    );
    const recorded = new Map(rows.map((r) => [r.run_id, [r.attempt, r.generation]]));
    expect([first, retried, rerun].map((run) => recorded.get(run))).toEqual([
      [1, 0],
      [3, 0],
      [1, 1],
    ]);
    const audit = await db.ownerPool.query(
      `SELECT data FROM audit_events WHERE run_id = $1 AND kind = 'run.succeeded'`,
      [first],
    );
    expect(audit.rows.map((r) => r.data)).toEqual([{}]);
  });
});
