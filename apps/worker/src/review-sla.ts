// The review SLA tick: stamps each new open task with its due time (its queue's SLA counted in
// the tenant's business hours), and escalates tasks past due: the task moves to its queue's next
// tier (unclaimed, due again by that tier's SLA), an outbox row records the escalation once per
// level, and the tenant's escalation workflow (a connector step posting to Slack or e-mail) is
// started in the same transaction, keyed by task and level so it starts once. Rows are taken with
// SKIP LOCKED, so concurrent ticks never escalate a task twice.

import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { completeReviewTask, type EngineOptions, startRunsInTransaction } from '@roster/engine';
import {
  type BusinessCalendar,
  DEFAULT_BUSINESS_CALENDAR,
  planEscalation,
  type QueueSla,
  slaDueAt,
} from '@roster/governance';
import { resolveDecisionReview } from '@roster/inference';

export const REVIEW_SLA_TASK = 'roster_review_sla_tick';
/** Once a minute across all workers (graphile-worker's crontab dedupes the minute by `id`). */
export const REVIEW_SLA_CRONTAB = `* * * * * ${REVIEW_SLA_TASK} ?max=1&id=${REVIEW_SLA_TASK}`;

const TENANTS_PER_TICK = 200;
const TASKS_PER_TENANT = 500;

export interface Escalation {
  tenantId: string;
  taskId: string;
  level: number;
  fromQueue: string;
  toQueue: string | null;
  /** The escalation workflow's run, when the tenant configured one. */
  notificationRunId: string | null;
}

export interface ReviewSlaResult {
  stamped: number;
  /** Answered tasks whose run this tick resumed (the answering process stopped before it could). */
  resumed: string[];
  escalated: Escalation[];
  failed: Array<{ tenantId: string; message: string }>;
}

type Client = Pick<PoolClient, 'query'>;

async function tenantReviewConfig(client: Client, tenantId: string) {
  const { rows } = await client.query(
    `SELECT time_zone, work_days, day_start, day_end, escalation_workflow_id,
            ARRAY(SELECT to_char(d, 'YYYY-MM-DD') FROM unnest(holidays) d ORDER BY d) AS holidays
       FROM review_settings WHERE tenant_id = $1`,
    [tenantId],
  );
  const s = rows[0];
  const calendar: BusinessCalendar = s
    ? {
        timeZone: s.time_zone,
        workDays: s.work_days,
        dayStart: s.day_start,
        dayEnd: s.day_end,
        holidays: s.holidays,
      }
    : DEFAULT_BUSINESS_CALENDAR;
  const queues = await client.query<{ name: string } & QueueSla>(
    `SELECT name, sla_minutes AS "slaMinutes", escalate_to AS "escalateTo" FROM review_queues WHERE tenant_id = $1`,
    [tenantId],
  );
  return {
    calendar,
    escalationWorkflowId: (s?.escalation_workflow_id as string | null) ?? null,
    queues: new Map(queues.rows.map((q) => [q.name, q])),
  };
}

/** One tenant's stamping and escalations, in one transaction. */
export async function tickTenantReviewSla(
  pool: Pool,
  tenantId: string,
  now: Date,
  options: EngineOptions = {},
): Promise<{ stamped: number; escalated: Escalation[] }> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const config = await tenantReviewConfig(client, tenantId);
    const fresh = await client.query<{ id: string; queue: string; since: Date }>(
      `SELECT id, queue, coalesce(escalated_at, created_at) AS since FROM review_tasks
        WHERE tenant_id = $1 AND status = 'open' AND NOT sla_stamped
        ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [tenantId, TASKS_PER_TENANT],
    );
    for (const t of fresh.rows) {
      const due = slaDueAt(t.since, config.queues.get(t.queue), config.calendar);
      await client.query(
        'UPDATE review_tasks SET sla_stamped = true, sla_due_at = $3 WHERE tenant_id = $1 AND id = $2',
        [tenantId, t.id, due],
      );
    }
    const breached = await client.query<{
      id: string;
      run_id: string;
      title: string;
      queue: string;
      escalation_level: number;
      sla_due_at: Date;
    }>(
      `SELECT id, run_id, title, queue, escalation_level, sla_due_at FROM review_tasks
        WHERE tenant_id = $1 AND status = 'open' AND sla_stamped AND sla_due_at <= $2
        ORDER BY sla_due_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [tenantId, now, TASKS_PER_TENANT],
    );
    const escalated: Escalation[] = [];
    for (const t of breached.rows) {
      const plan = planEscalation(
        { queue: t.queue, escalationLevel: t.escalation_level },
        config.queues.get(t.queue),
      );
      const queue = plan.toQueue ?? t.queue;
      // A moved task is due again by its new tier's SLA; one left at the last tier is not.
      const due = plan.toQueue ? slaDueAt(now, config.queues.get(queue), config.calendar) : null;
      await client.query(
        `UPDATE review_tasks SET queue = $3, escalation_level = $4, escalated_at = $5, sla_due_at = $6,
                assignee_id = CASE WHEN $7 THEN NULL ELSE assignee_id END,
                claim_expires_at = CASE WHEN $7 THEN NULL ELSE claim_expires_at END
          WHERE tenant_id = $1 AND id = $2`,
        [tenantId, t.id, queue, plan.level, now, due, plan.toQueue !== null],
      );
      // The task row is locked (SKIP LOCKED above): no other tick handles this level now, and
      // the run's idempotency key and the outbox's unique key make a repeat a no-op.
      const already = await client.query(
        `SELECT 1 FROM review_notifications WHERE tenant_id = $1 AND task_id = $2 AND kind = 'escalated' AND level = $3`,
        [tenantId, t.id, plan.level],
      );
      if (already.rows.length > 0) continue;
      let runId: string | null = null;
      if (config.escalationWorkflowId) {
        const [run] = await startRunsInTransaction(
          client as PoolClient,
          tenantId,
          [
            {
              workflowId: config.escalationWorkflowId,
              idempotencyKey: `review-escalation:${t.id}:${plan.level}`,
              input: {
                event: 'review.escalated',
                taskId: t.id,
                runId: t.run_id,
                title: t.title,
                level: plan.level,
                fromQueue: plan.fromQueue,
                toQueue: plan.toQueue,
                dueAt: t.sla_due_at.toISOString(),
              },
            },
          ],
          options,
        );
        runId = run?.runId ?? null;
      }
      await client.query(
        `INSERT INTO review_notifications (tenant_id, task_id, kind, level, from_queue, to_queue, run_id)
         VALUES ($1, $2, 'escalated', $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [tenantId, t.id, plan.level, plan.fromQueue, plan.toQueue, runId],
      );
      await client.query(
        `INSERT INTO audit_events (tenant_id, run_id, kind, data, actor_type, actor_id, subject_type, subject_id)
         VALUES ($1, $2, 'reviewTask.escalated', $3, 'system', 'review-sla', 'reviewTask', $4)`,
        [
          tenantId,
          t.run_id,
          {
            level: plan.level,
            fromQueue: plan.fromQueue,
            toQueue: plan.toQueue,
            dueAt: t.sla_due_at.toISOString(),
            notificationRunId: runId,
          },
          t.id,
        ],
      );
      escalated.push({ tenantId, taskId: t.id, ...plan, notificationRunId: runId });
    }
    return { stamped: fresh.rows.length, escalated };
  });
}

/** Every tenant with work for the tick at `now` (the injectable clock). */
export async function tickReviewSla(
  pool: Pool,
  now: Date,
  options: EngineOptions = {},
): Promise<ReviewSlaResult> {
  const { rows } = await pool.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM roster_engine_review_sla_tenants($1, $2)',
    [now, TENANTS_PER_TICK],
  );
  const result: ReviewSlaResult = { stamped: 0, resumed: [], escalated: [], failed: [] };
  for (const { tenant_id: tenantId } of rows) {
    try {
      const r = await tickTenantReviewSla(pool, tenantId, now, options);
      result.stamped += r.stamped;
      result.escalated.push(...r.escalated);
      result.resumed.push(...(await redriveAnswers(pool, tenantId, now, options)));
    } catch (error) {
      result.failed.push({ tenantId, message: (error as Error).message });
    }
  }
  return result;
}

/** How long an answer may wait for its resume before the tick re-drives it. */
const REDRIVE_AFTER_MS = 60_000;

/**
 * Resumes runs whose task was answered (outcome and resume payload committed) but not closed: the
 * answering process stopped between its commit and the engine's. A resume racing the original
 * one is refused by the engine (the step no longer waits), so at most one moves the run.
 */
export async function redriveAnswers(
  pool: Pool,
  tenantId: string,
  now: Date,
  options: EngineOptions = {},
): Promise<string[]> {
  const { rows } = await withTenant(pool, tenantId, ({ client }) =>
    client.query<{
      id: string;
      result: { decisionLabel?: string; output?: Record<string, unknown> } | null;
    }>(
      `SELECT id, result FROM review_tasks
        WHERE tenant_id = $1 AND status = 'open' AND outcome IS NOT NULL AND decided_at <= $2
        ORDER BY decided_at LIMIT 50`,
      [tenantId, new Date(now.getTime() - REDRIVE_AFTER_MS)],
    ),
  );
  const resumed: string[] = [];
  for (const task of rows) {
    if (task.result?.decisionLabel) {
      await resolveDecisionReview(pool, tenantId, task.id, { label: task.result.decisionLabel });
    } else if (task.result?.output) {
      await completeReviewTask(pool, tenantId, task.id, task.result.output, options);
    } else {
      continue;
    }
    resumed.push(task.id);
  }
  return resumed;
}
