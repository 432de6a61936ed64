import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkflow, testExecutors } from '../test/fixtures.js';
import { REVIEW_SLA_TASK, tickReviewSla } from './review-sla.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// The SLA tick against a controlled clock: times are in January 2099 so the real once-a-minute
// tick of the worker pool below never reaches them.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Review SLA');
afterAll(async () => {
  await db.drop();
});

const REVIEW = {
  start: 'check',
  steps: {
    check: { type: 'review' as const, title: 'Check', role: 'tier1', timeout: '30d', end: true },
  },
};
const NOTIFY = {
  start: 'notify',
  steps: { notify: { type: 'transform' as const, value: 'input', end: true } },
};

async function openTask(tenantId: string, workflowId: string, createdAt: string) {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    `INSERT INTO runs (tenant_id, workflow_id, workflow_version, status, deadline_at)
     VALUES ($1, $2, 1, 'waiting', '2100-01-01') RETURNING id`,
    [tenantId, workflowId],
  );
  const runId = rows[0]!.id;
  await db.ownerPool.query(
    `INSERT INTO step_runs (tenant_id, run_id, step_id, status, attempt) VALUES ($1, $2, 'check', 'waiting', 1)`,
    [tenantId, runId],
  );
  // As the engine opens it: role from the step, no queue (the trigger files it under the role).
  const task = await db.ownerPool.query<{ id: string; queue: string }>(
    `INSERT INTO review_tasks (tenant_id, run_id, step_id, kind, title, role, created_at)
     VALUES ($1, $2, 'check', 'review', 'Check', 'tier1', $3) RETURNING id, queue`,
    [tenantId, runId, createdAt],
  );
  return { runId, ...task.rows[0]! };
}

async function taskRow(id: string) {
  const { rows } = await db.ownerPool.query(
    'SELECT queue, sla_due_at, escalation_level, assignee_id FROM review_tasks WHERE id = $1',
    [id],
  );
  return rows[0];
}

describe('review SLA tick', () => {
  it('stamps business-hours due times and escalates on time, once per level, to the next tier', async () => {
    const notifyWorkflow = await createWorkflow(db.ownerPool, tenant.id, NOTIFY);
    const reviewWorkflow = await createWorkflow(db.ownerPool, tenant.id, REVIEW);
    await db.ownerPool.query(
      `INSERT INTO review_settings (tenant_id, time_zone, work_days, day_start, day_end, escalation_workflow_id)
       VALUES ($1, 'Europe/Paris', '{1,2,3,4,5}', '09:00', '17:00', $2)`,
      [tenant.id, notifyWorkflow],
    );
    await db.ownerPool.query(
      `INSERT INTO review_queues (tenant_id, name, sla_minutes, escalate_to) VALUES
         ($1, 'tier1', 120, 'tier2'), ($1, 'tier2', 60, NULL)`,
      [tenant.id],
    );
    // Friday 2 January 2099, 16:30 in Paris (UTC+1).
    const task = await openTask(tenant.id, reviewWorkflow, '2099-01-02T15:30:00Z');
    expect(task.queue).toBe('tier1');
    await db.ownerPool.query(
      `UPDATE review_tasks SET assignee_id = gen_random_uuid(), claim_expires_at = '2099-01-05T10:00:00Z' WHERE id = $1`,
      [task.id],
    );

    const first = await tickReviewSla(db.appPool, new Date('2099-01-02T15:31:00Z'));
    expect(first).toMatchObject({ stamped: 1, escalated: [], failed: [] });
    // Two business hours: 30 minutes on Friday, 90 on Monday -> Monday 10:30 Paris.
    expect((await taskRow(task.id)).sla_due_at).toEqual(new Date('2099-01-05T09:30:00Z'));

    // The weekend passes without an escalation; a minute before due, still none.
    for (const at of ['2099-01-03T12:00:00Z', '2099-01-05T09:29:00Z']) {
      expect((await tickReviewSla(db.appPool, new Date(at))).escalated).toEqual([]);
    }

    const due = await tickReviewSla(db.appPool, new Date('2099-01-05T09:30:00Z'));
    expect(due.failed).toEqual([]);
    expect(due.escalated).toEqual([
      expect.objectContaining({ taskId: task.id, level: 1, fromQueue: 'tier1', toQueue: 'tier2' }),
    ]);
    // Moved to tier 2, unclaimed, due again after tier 2's hour (10:30 -> 11:30 Paris).
    expect(await taskRow(task.id)).toEqual({
      queue: 'tier2',
      escalation_level: 1,
      assignee_id: null,
      sla_due_at: new Date('2099-01-05T10:30:00Z'),
    });
    const runId = due.escalated[0]?.notificationRunId;
    const { rows: runs } = await db.ownerPool.query(
      'SELECT workflow_id, input FROM runs WHERE id = $1',
      [runId],
    );
    expect(runs[0]).toMatchObject({
      workflow_id: notifyWorkflow,
      input: {
        event: 'review.escalated',
        taskId: task.id,
        level: 1,
        fromQueue: 'tier1',
        toQueue: 'tier2',
      },
    });

    // Three ticks at once past tier 2's due time: one escalation, one notification, one run.
    const at = new Date('2099-01-05T10:31:00Z');
    const results = await Promise.all([1, 2, 3].map(() => tickReviewSla(db.appPool, at)));
    expect(results.flatMap((r) => r.escalated)).toEqual([
      expect.objectContaining({ taskId: task.id, level: 2, fromQueue: 'tier2', toQueue: null }),
    ]);
    expect((await tickReviewSla(db.appPool, new Date('2099-01-06T10:00:00Z'))).escalated).toEqual(
      [],
    );
    const { rows: notes } = await db.ownerPool.query(
      'SELECT level, from_queue, to_queue, run_id IS NOT NULL AS notified FROM review_notifications WHERE task_id = $1 ORDER BY level',
      [task.id],
    );
    expect(notes).toEqual([
      { level: 1, from_queue: 'tier1', to_queue: 'tier2', notified: true },
      { level: 2, from_queue: 'tier2', to_queue: null, notified: true },
    ]);
    const { rows: audit } = await db.ownerPool.query(
      `SELECT actor_type, data->>'toQueue' AS to_queue FROM audit_events
        WHERE tenant_id = $1 AND kind = 'reviewTask.escalated' AND subject_id = $2 ORDER BY id`,
      [tenant.id, task.id],
    );
    expect(audit).toEqual([
      { actor_type: 'system', to_queue: 'tier2' },
      { actor_type: 'system', to_queue: null },
    ]);
  });

  it('leaves tasks of queues without an SLA alone, and registers the once-a-minute cron', async () => {
    const other = await createTenant(db.ownerPool, 'No SLA');
    const wf = await createWorkflow(db.ownerPool, other.id, REVIEW);
    const task = await openTask(other.id, wf, '2099-01-02T15:30:00Z');
    const result = await tickReviewSla(db.appPool, new Date('2099-02-01T00:00:00Z'));
    expect(result.escalated.filter((e) => e.tenantId === other.id)).toEqual([]);
    expect(await taskRow(task.id)).toMatchObject({
      queue: 'tier1',
      sla_due_at: null,
      escalation_level: 0,
    });

    const pool: RunningWorkerPool = await runWorkerPool({
      appUrl: db.appUrl,
      executors: testExecutors(db.appPool),
      concurrency: 1,
    });
    try {
      const { rows } = await db.ownerPool.query(
        'SELECT identifier FROM graphile_worker._private_known_crontabs WHERE identifier = $1',
        [REVIEW_SLA_TASK],
      );
      expect(rows).toEqual([{ identifier: REVIEW_SLA_TASK }]);
    } finally {
      await pool.stop();
    }
  });

  it('resumes a run whose answer committed but whose resume never happened, after a minute', async () => {
    const t = await createTenant(db.ownerPool, 'Redrive');
    const wf = await createWorkflow(db.ownerPool, t.id, REVIEW);
    const stuck = await openTask(t.id, wf, '2099-01-02T15:30:00Z');
    const fresh = await openTask(t.id, wf, '2099-01-02T15:30:00Z');
    const answer = { output: { outcome: 'approved', approvers: ['someone'] } };
    for (const [task, decidedAt] of [
      [stuck, '2099-01-02T15:40:00Z'],
      [fresh, '2099-01-02T15:41:30Z'],
    ] as const) {
      await db.ownerPool.query(
        `UPDATE review_tasks SET outcome = 'approved', decided_at = $2, result = $3 WHERE id = $1`,
        [task.id, decidedAt, answer],
      );
    }
    const result = await tickReviewSla(db.appPool, new Date('2099-01-02T15:42:00Z'));
    expect(result.failed).toEqual([]);
    expect(result.resumed).toEqual([stuck.id]);
    const { rows } = await db.ownerPool.query(
      `SELECT r.id, r.status, s.output, t.status AS task_status FROM runs r
         JOIN step_runs s ON s.tenant_id = r.tenant_id AND s.run_id = r.id
         JOIN review_tasks t ON t.tenant_id = r.tenant_id AND t.run_id = r.id
        WHERE r.id = ANY($1) ORDER BY r.id = $2 DESC`,
      [[stuck.runId, fresh.runId], stuck.runId],
    );
    expect(rows).toEqual([
      { id: stuck.runId, status: 'succeeded', output: answer.output, task_status: 'resolved' },
      { id: fresh.runId, status: 'waiting', output: null, task_status: 'open' },
    ]);
  });
});
