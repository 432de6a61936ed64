import {
  createSchedule,
  getSchedule,
  nextFireAt,
  SCHEDULES_TICK_TASK,
  tickSchedules,
} from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, testExecutors, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Schedules');
const other = await createTenant(db.ownerPool, 'Other');
const workers: RunningWorkerPool[] = [];
const DEFINITION = {
  start: 'a',
  steps: { a: { type: 'transform' as const, value: 'input.n', end: true } },
};

beforeAll(async () => {
  // Three worker pools on one database, as three worker processes would be.
  for (let i = 0; i < 3; i++) {
    workers.push(
      await runWorkerPool({
        appUrl: db.appUrl,
        executors: testExecutors(db.appPool),
        concurrency: 4,
        pollIntervalMs: 50,
      }),
    );
  }
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await db.drop();
});

/**
 * Sets a schedule's next occurrence to `at`. Tests tick at minutes in 2099 so graphile-worker's
 * real once-a-minute tick (running in the pools) never fires them and the counts stay exact.
 */
async function dueAt(tenantId: string, scheduleId: string, at: Date) {
  await db.ownerPool.query(
    'UPDATE schedules SET next_fire_at = $3 WHERE tenant_id = $1 AND id = $2',
    [tenantId, scheduleId, at],
  );
}

async function firesOf(scheduleId: string) {
  const { rows } = await db.ownerPool.query<{ tick_at: Date; run_id: string | null }>(
    'SELECT tick_at, run_id FROM schedule_fires WHERE schedule_id = $1 ORDER BY tick_at',
    [scheduleId],
  );
  return rows;
}

async function runsOf(workflowId: string) {
  const { rows } = await db.ownerPool.query<{ id: string; input: unknown }>(
    'SELECT id, input FROM runs WHERE workflow_id = $1 ORDER BY created_at',
    [workflowId],
  );
  return rows;
}

describe('schedules', () => {
  it('fires a due schedule exactly once when three ticks run the same minute concurrently', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, DEFINITION);
    const schedule = await createSchedule(db.appPool, tenant.id, {
      workflowId: wf,
      name: 'every-minute',
      cron: '*/1 * * * *',
      input: { n: 7 },
      createdBy: null,
    });
    const minute = new Date('2099-01-01T00:00:00Z');
    await dueAt(tenant.id, schedule.id, minute);

    const results = await Promise.all([1, 2, 3].map(() => tickSchedules(db.appPool, minute)));
    expect(results.flatMap((r) => r.failed)).toEqual([]);
    const fires = await firesOf(schedule.id);
    expect(fires).toHaveLength(1);
    expect(fires[0]?.tick_at.getTime()).toBe(minute.getTime());
    const runs = await runsOf(wf);
    expect(runs).toEqual([{ id: fires[0]?.run_id, input: { n: 7 } }]);

    // The next occurrence moved to the following minute; the same tick again starts nothing.
    const after = await getSchedule(db.appPool, tenant.id, schedule.id);
    expect(after?.nextFireAt?.getTime()).toBe(minute.getTime() + 60_000);
    expect(after?.lastFiredAt?.getTime()).toBe(minute.getTime());
    await tickSchedules(db.appPool, minute);
    expect(await runsOf(wf)).toHaveLength(1);

    // The next minute fires once more.
    const next = new Date(minute.getTime() + 60_000);
    await Promise.all([1, 2, 3].map(() => tickSchedules(db.appPool, next)));
    expect(await firesOf(schedule.id)).toHaveLength(2);
    expect(await runsOf(wf)).toHaveLength(2);
  });

  it('starts one run per tick when three worker pools each get the tick job', async () => {
    const wf = await createWorkflow(db.ownerPool, other.id, DEFINITION);
    const schedule = await createSchedule(db.appPool, other.id, {
      workflowId: wf,
      name: 'pools',
      cron: '* * * * *',
      input: { n: 1 },
      createdBy: null,
    });
    const minute = new Date('2099-01-01T00:10:00Z');
    await dueAt(other.id, schedule.id, minute);
    // What three crontab runners would enqueue if graphile-worker did not dedupe the minute:
    // three tick jobs for the same minute, picked up by whichever pools are free.
    for (let i = 0; i < 3; i++) {
      await db.appPool.query('SELECT graphile_worker.add_job($1, $2::json)', [
        SCHEDULES_TICK_TASK,
        JSON.stringify({ _cron: { ts: minute.toISOString(), backfilled: false } }),
      ]);
    }
    await waitFor(
      async () => {
        const { rows } = await db.ownerPool.query(
          'SELECT 1 FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = $1',
          [SCHEDULES_TICK_TASK],
        );
        return rows.length === 0;
      },
      20_000,
      'the tick jobs to finish',
    );
    expect(await firesOf(schedule.id)).toHaveLength(1);
    const runs = await runsOf(wf);
    expect(runs).toHaveLength(1);
    // The run it started runs to the end on the same workers.
    await waitFor(
      async () => {
        const { rows } = await db.ownerPool.query('SELECT status FROM runs WHERE id = $1', [
          runs[0]?.id,
        ]);
        return rows[0]?.status === 'succeeded';
      },
      20_000,
      'the scheduled run to succeed',
    );
  });

  it('registers the once-a-minute tick with graphile-worker cron', async () => {
    const { rows } = await db.ownerPool.query(
      'SELECT identifier FROM graphile_worker._private_known_crontabs',
    );
    expect(rows.map((r) => r.identifier)).toContain(SCHEDULES_TICK_TASK);
  });

  it('reads cron expressions in the schedule time zone and refuses bad ones', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, DEFINITION);
    const now = new Date('2099-01-15T10:00:00Z');
    const berlin = await createSchedule(
      db.appPool,
      tenant.id,
      {
        workflowId: wf,
        name: 'berlin-nine',
        cron: '0 9 * * *',
        timezone: 'Europe/Berlin',
        createdBy: null,
      },
      now,
    );
    // 09:00 in Berlin in January is 08:00 UTC; today's has passed, so tomorrow's.
    expect(berlin.nextFireAt?.toISOString()).toBe('2099-01-16T08:00:00.000Z');
    expect(
      nextFireAt('0 9 * * *', 'Europe/Berlin', new Date('2026-07-15T00:00:00Z')).toISOString(),
    ).toBe('2026-07-15T07:00:00.000Z');
    for (const [cron, timezone] of [
      ['* * * * * *', 'UTC'],
      ['61 * * * *', 'UTC'],
      ['0 9 * * *', 'Mars/Olympus'],
    ] as const) {
      await expect(
        createSchedule(db.appPool, tenant.id, {
          workflowId: wf,
          name: `bad-${cron}-${timezone}`,
          cron,
          timezone,
          createdBy: null,
        }),
      ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    }
  });

  it('skips an occurrence whose workflow cannot start and keeps firing later ones', async () => {
    const { rows } = await db.ownerPool.query<{ id: string }>(
      `INSERT INTO workflows (tenant_id, name, latest_version) VALUES ($1, 'no-versions', 0) RETURNING id`,
      [tenant.id],
    );
    const wf = rows[0]?.id as string;
    const schedule = await createSchedule(db.appPool, tenant.id, {
      workflowId: wf,
      name: 'broken',
      cron: '* * * * *',
      createdBy: null,
    });
    const minute = new Date('2099-01-01T00:20:00Z');
    await dueAt(tenant.id, schedule.id, minute);
    const result = await tickSchedules(db.appPool, minute);
    expect(result.failed.map((f) => f.scheduleId)).toContain(schedule.id);
    expect(await firesOf(schedule.id)).toEqual([]);
    const after = await getSchedule(db.appPool, tenant.id, schedule.id);
    expect(after?.nextFireAt?.getTime()).toBe(minute.getTime() + 60_000);
  });
});
