// Review configuration and delegation writes: queues (SLA, four-eyes, next tier, members), the
// tenant's business calendar, and delegations. Each writes its AuditEvent in its transaction.

import { recordAudit } from '@roster/audit';
import { subjectRecord } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import { parseBusinessCalendar, validateDelegation } from '@roster/governance';
import { badInput, notFound } from '../errors.js';
import type { ReviewCaller } from './review-access.js';
import { reviewApiError } from './review-service.js';
import {
  type DelegationRow,
  insertDelegation,
  isMember,
  type ReviewQueueRow,
  type ReviewSettingsRow,
  readDelegation,
  readQueue,
  readSettings,
} from './review-store.js';

const QUEUE_NAME = /^[a-z0-9][a-z0-9:._-]{0,63}$/;

function queueName(name: string, field: string): string {
  if (!QUEUE_NAME.test(name)) {
    throw badInput(
      field,
      `"${name}" is not a queue name: 1-64 lower-case letters, digits and : . _ -`,
    );
  }
  return name;
}

export interface QueueInput {
  name: string;
  /** Business minutes a task may wait; null = no SLA. */
  slaMinutes: number | null;
  fourEyes: boolean;
  escalateTo: string | null;
  /** Who serves the queue (besides members whose role has its name). Replaces the list. */
  memberIds: string[];
}

export async function configureReviewQueue(
  pool: Pool,
  caller: ReviewCaller,
  input: QueueInput,
): Promise<ReviewQueueRow> {
  const name = queueName(input.name, 'input.name');
  if (input.escalateTo !== null) queueName(input.escalateTo, 'input.escalateTo');
  if (input.escalateTo === name)
    throw badInput('input.escalateTo', 'A queue cannot escalate to itself.');
  if (
    input.slaMinutes !== null &&
    (!Number.isInteger(input.slaMinutes) || input.slaMinutes < 1 || input.slaMinutes > 525_600)
  ) {
    throw badInput(
      'input.slaMinutes',
      'slaMinutes is a whole number of business minutes from 1 to 525600, or null.',
    );
  }
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    for (const [i, id] of input.memberIds.entries()) {
      if (!(await isMember(client, caller.tenantId, id))) {
        throw badInput(`input.memberIds.${i}`, 'That person is not a member of this tenant.');
      }
    }
    const before = await readQueue(client, caller.tenantId, name);
    await client.query(
      `INSERT INTO review_queues (tenant_id, name, sla_minutes, four_eyes, escalate_to) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, name) DO UPDATE SET sla_minutes = EXCLUDED.sla_minutes,
         four_eyes = EXCLUDED.four_eyes, escalate_to = EXCLUDED.escalate_to, updated_at = now()`,
      [caller.tenantId, name, input.slaMinutes, input.fourEyes, input.escalateTo],
    );
    await client.query('DELETE FROM review_queue_members WHERE tenant_id = $1 AND queue = $2', [
      caller.tenantId,
      name,
    ]);
    await client.query(
      `INSERT INTO review_queue_members (tenant_id, queue, member_id)
       SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING`,
      [caller.tenantId, name, [...new Set(input.memberIds)]],
    );
    // Open tasks of the queue get their due time again from the new SLA (next SLA tick).
    await client.query(
      `UPDATE review_tasks SET sla_stamped = false, sla_due_at = NULL
        WHERE tenant_id = $1 AND queue = $2 AND status = 'open'`,
      [caller.tenantId, name],
    );
    const after = (await readQueue(client, caller.tenantId, name)) as ReviewQueueRow;
    const shape = (q: ReviewQueueRow | undefined) =>
      q
        ? {
            slaMinutes: q.slaMinutes,
            fourEyes: q.fourEyes,
            escalateTo: q.escalateTo,
            members: q.members,
          }
        : null;
    await recordAudit(client, caller.tenantId, caller.audit, {
      action: 'reviewQueue.configured',
      subject: { type: 'reviewQueue', id: name },
      before: shape(before),
      after: shape(after),
    });
    return after;
  });
}

export interface SettingsInput {
  timeZone: string;
  workDays: number[];
  dayStart: string;
  dayEnd: string;
  holidays: string[];
  claimMinutes: number;
  escalationWorkflowId: string | null;
}

export async function updateReviewSettings(
  pool: Pool,
  caller: ReviewCaller,
  input: SettingsInput,
): Promise<ReviewSettingsRow> {
  let calendar: ReturnType<typeof parseBusinessCalendar>;
  try {
    calendar = parseBusinessCalendar(input);
  } catch (error) {
    const e = reviewApiError(error) as { details?: { field?: string } };
    if (e.details?.field) e.details.field = `input.${e.details.field}`;
    throw e;
  }
  if (
    !Number.isInteger(input.claimMinutes) ||
    input.claimMinutes < 1 ||
    input.claimMinutes > 1440
  ) {
    throw badInput(
      'input.claimMinutes',
      'claimMinutes is a whole number of minutes from 1 to 1440.',
    );
  }
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    if (input.escalationWorkflowId) {
      const { rows } = await client.query(
        'SELECT 1 FROM workflows WHERE tenant_id = $1 AND id = $2',
        [caller.tenantId, input.escalationWorkflowId],
      );
      if (rows.length === 0) throw notFound('That escalation workflow');
    }
    const before = await readSettings(client, caller.tenantId);
    await client.query(
      `INSERT INTO review_settings (tenant_id, time_zone, work_days, day_start, day_end, holidays, claim_minutes, escalation_workflow_id)
       VALUES ($1, $2, $3, $4, $5, $6::date[], $7, $8)
       ON CONFLICT (tenant_id) DO UPDATE SET time_zone = EXCLUDED.time_zone, work_days = EXCLUDED.work_days,
         day_start = EXCLUDED.day_start, day_end = EXCLUDED.day_end, holidays = EXCLUDED.holidays,
         claim_minutes = EXCLUDED.claim_minutes, escalation_workflow_id = EXCLUDED.escalation_workflow_id, updated_at = now()`,
      [
        caller.tenantId,
        calendar.timeZone,
        calendar.workDays,
        calendar.dayStart,
        calendar.dayEnd,
        calendar.holidays,
        input.claimMinutes,
        input.escalationWorkflowId,
      ],
    );
    const after = await readSettings(client, caller.tenantId);
    await recordAudit(client, caller.tenantId, caller.audit, {
      action: 'reviewSettings.updated',
      subject: { type: 'reviewSettings', id: caller.tenantId },
      before: before as never,
      after: after as never,
    });
    return after;
  });
}

export interface DelegationInput {
  /** Whose tasks; default the caller. Another member's needs `update` on review tasks. */
  delegatorId: string | null;
  delegateId: string;
  taskId: string | null;
  startsAt: Date | null;
  endsAt: Date;
}

export async function createReviewDelegation(
  pool: Pool,
  caller: ReviewCaller,
  input: DelegationInput,
  now = new Date(),
): Promise<DelegationRow> {
  const delegatorId = input.delegatorId ?? caller.userId;
  const startsAt = input.startsAt ?? now;
  try {
    validateDelegation(
      { delegatorId, delegateId: input.delegateId, startsAt, endsAt: input.endsAt },
      now,
    );
  } catch (error) {
    throw reviewApiError(error);
  }
  if (delegatorId !== caller.userId) {
    caller.ability.assert('update', subjectRecord('ReviewTask', { tenantId: caller.tenantId }));
  }
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    if (!(await isMember(client, caller.tenantId, input.delegateId))) {
      throw badInput('input.delegateId', 'The delegate is not a member of this tenant.');
    }
    if (!(await isMember(client, caller.tenantId, delegatorId))) {
      throw badInput('input.delegatorId', 'The delegator is not a member of this tenant.');
    }
    if (input.taskId) {
      const { rows } = await client.query(
        'SELECT 1 FROM review_tasks WHERE tenant_id = $1 AND id = $2',
        [caller.tenantId, input.taskId],
      );
      if (rows.length === 0) throw notFound('That review task');
    }
    const row = await insertDelegation(client, caller.tenantId, {
      delegatorId,
      delegateId: input.delegateId,
      taskId: input.taskId,
      startsAt,
      endsAt: input.endsAt,
      createdBy: caller.userId,
    });
    await recordAudit(client, caller.tenantId, caller.audit, {
      action: 'reviewDelegation.created',
      subject: { type: 'reviewDelegation', id: row.id },
      after: {
        delegatorId,
        delegateId: input.delegateId,
        taskId: input.taskId,
        startsAt: startsAt.toISOString(),
        endsAt: input.endsAt.toISOString(),
      },
    });
    return row;
  });
}

/** Ends a delegation now: by its delegator, its delegate, or whoever may update review tasks. */
export async function revokeReviewDelegation(
  pool: Pool,
  caller: ReviewCaller,
  id: string,
  now = new Date(),
): Promise<DelegationRow> {
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    const row = await readDelegation(client, caller.tenantId, id);
    if (!row) throw notFound('That delegation');
    if (row.delegatorId !== caller.userId && row.delegateId !== caller.userId) {
      caller.ability.assert('update', subjectRecord('ReviewTask', { tenantId: caller.tenantId }));
    }
    await client.query(
      'UPDATE review_delegations SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2',
      [caller.tenantId, id, now],
    );
    await recordAudit(client, caller.tenantId, caller.audit, {
      action: 'reviewDelegation.revoked',
      subject: { type: 'reviewDelegation', id },
      before: {
        delegatorId: row.delegatorId,
        delegateId: row.delegateId,
        endsAt: row.endsAt.toISOString(),
      },
    });
    return { ...row, revokedAt: now };
  });
}
