// SQL of the review product, one function per statement group; every function takes the
// transaction's client and the tenant (RLS holds the tenant too). Domain rules live in
// @roster/governance; these only read and write rows.

import { CoreError, getStep, type Step, type WorkflowDefinition } from '@roster/core';
import type { PoolClient } from '@roster/db';
import {
  type BusinessCalendar,
  DEFAULT_BUSINESS_CALENDAR,
  type Delegation,
  type ReviewTaskState,
} from '@roster/governance';

type Client = Pick<PoolClient, 'query'>;

export interface ReviewTaskRow extends ReviewTaskState {
  runId: string;
  stepId: string;
  title: string;
  data: Record<string, unknown>;
  role: string | null;
  result: unknown;
  slaDueAt: Date | null;
  escalationLevel: number;
  outcome: string | null;
  correctedOutput: Record<string, unknown> | null;
  decidedBy: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

export const TASK_COLUMNS = `t.id, t.run_id AS "runId", t.step_id AS "stepId", t.kind, t.title, t.data, t.labels,
  t.role, t.queue, t.status, t.result, t.assignee_id AS "assigneeId", t.claim_expires_at AS "claimExpiresAt",
  t.sla_due_at AS "slaDueAt", t.escalation_level AS "escalationLevel", t.outcome,
  t.corrected_output AS "correctedOutput", t.decided_by AS "decidedBy", t.created_at AS "createdAt",
  t.resolved_at AS "resolvedAt"`;

export async function lockTask(
  client: Client,
  tenantId: string,
  taskId: string,
): Promise<ReviewTaskRow | undefined> {
  const { rows } = await client.query<ReviewTaskRow>(
    `SELECT ${TASK_COLUMNS} FROM review_tasks t WHERE t.tenant_id = $1 AND t.id = $2 FOR UPDATE`,
    [tenantId, taskId],
  );
  return rows[0];
}

export interface ReviewSettingsRow {
  calendar: BusinessCalendar;
  claimMinutes: number;
  escalationWorkflowId: string | null;
}

export async function readSettings(client: Client, tenantId: string): Promise<ReviewSettingsRow> {
  const { rows } = await client.query(
    `SELECT time_zone, work_days, day_start, day_end, claim_minutes, escalation_workflow_id,
            ARRAY(SELECT to_char(d, 'YYYY-MM-DD') FROM unnest(holidays) d ORDER BY d) AS holidays
       FROM review_settings WHERE tenant_id = $1`,
    [tenantId],
  );
  const row = rows[0];
  if (!row) {
    return { calendar: DEFAULT_BUSINESS_CALENDAR, claimMinutes: 30, escalationWorkflowId: null };
  }
  return {
    calendar: {
      timeZone: row.time_zone,
      workDays: row.work_days,
      dayStart: row.day_start,
      dayEnd: row.day_end,
      holidays: row.holidays,
    },
    claimMinutes: row.claim_minutes,
    escalationWorkflowId: row.escalation_workflow_id,
  };
}

export interface ReviewQueueRow {
  name: string;
  slaMinutes: number | null;
  fourEyes: boolean;
  escalateTo: string | null;
  members: string[];
  createdAt: Date;
}

const QUEUE_COLUMNS = `q.name, q.sla_minutes AS "slaMinutes", q.four_eyes AS "fourEyes", q.escalate_to AS "escalateTo",
  q.created_at AS "createdAt",
  ARRAY(SELECT m.member_id FROM review_queue_members m WHERE m.tenant_id = q.tenant_id AND m.queue = q.name ORDER BY m.created_at) AS members`;

export async function readQueue(
  client: Client,
  tenantId: string,
  name: string,
): Promise<ReviewQueueRow | undefined> {
  const { rows } = await client.query<ReviewQueueRow>(
    `SELECT ${QUEUE_COLUMNS} FROM review_queues q WHERE q.tenant_id = $1 AND q.name = $2`,
    [tenantId, name],
  );
  return rows[0];
}

export async function listQueues(
  client: Client,
  tenantId: string,
  only: readonly string[] | null,
): Promise<ReviewQueueRow[]> {
  const { rows } = await client.query<ReviewQueueRow>(
    `SELECT ${QUEUE_COLUMNS} FROM review_queues q
      WHERE q.tenant_id = $1 AND ($2::text[] IS NULL OR q.name = ANY($2)) ORDER BY q.name`,
    [tenantId, only],
  );
  return rows;
}

/** The role of each member and the queues they serve: their memberships and their role's queue. */
export async function queuesOfMembers(
  client: Client,
  tenantId: string,
  memberIds: readonly string[],
): Promise<Map<string, { role: string; queues: Set<string> }>> {
  const { rows } = await client.query<{ member_id: string; role: string; queues: string[] }>(
    `SELECT m.user_id AS member_id, m.role,
            array_append(ARRAY(SELECT q.queue FROM review_queue_members q
                                WHERE q.tenant_id = m.tenant_id AND q.member_id = m.user_id), m.role) AS queues
       FROM memberships m WHERE m.tenant_id = $1 AND m.user_id = ANY($2::uuid[])`,
    [tenantId, memberIds],
  );
  return new Map(rows.map((r) => [r.member_id, { role: r.role, queues: new Set(r.queues) }]));
}

const DELEGATION_COLUMNS = `d.id, d.delegator_id AS "delegatorId", d.delegate_id AS "delegateId", d.task_id AS "taskId",
  d.starts_at AS "startsAt", d.ends_at AS "endsAt", d.revoked_at AS "revokedAt", d.created_at AS "createdAt"`;

export type DelegationRow = Delegation & { createdAt: Date };

/** Delegations to or from `memberId` that have not ended at `now`. */
export async function currentDelegations(
  client: Client,
  tenantId: string,
  memberId: string | null,
  now: Date,
): Promise<DelegationRow[]> {
  const { rows } = await client.query<DelegationRow>(
    `SELECT ${DELEGATION_COLUMNS} FROM review_delegations d
      WHERE d.tenant_id = $1 AND d.revoked_at IS NULL AND d.ends_at > $3
        AND ($2::uuid IS NULL OR d.delegate_id = $2 OR d.delegator_id = $2)
      ORDER BY d.created_at, d.id`,
    [tenantId, memberId, now],
  );
  return rows;
}

export async function readDelegation(
  client: Client,
  tenantId: string,
  id: string,
): Promise<DelegationRow | undefined> {
  const { rows } = await client.query<DelegationRow>(
    `SELECT ${DELEGATION_COLUMNS} FROM review_delegations d WHERE d.tenant_id = $1 AND d.id = $2 FOR UPDATE`,
    [tenantId, id],
  );
  return rows[0];
}

export async function insertDelegation(
  client: Client,
  tenantId: string,
  d: Omit<Delegation, 'id' | 'revokedAt'> & { createdBy: string },
): Promise<DelegationRow> {
  const { rows } = await client.query<DelegationRow>(
    `INSERT INTO review_delegations AS d (tenant_id, delegator_id, delegate_id, task_id, starts_at, ends_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${DELEGATION_COLUMNS}`,
    [tenantId, d.delegatorId, d.delegateId, d.taskId, d.startsAt, d.endsAt, d.createdBy],
  );
  return rows[0] as DelegationRow;
}

export async function isMember(client: Client, tenantId: string, userId: string): Promise<boolean> {
  const { rows } = await client.query(
    'SELECT 1 FROM memberships WHERE tenant_id = $1 AND user_id = $2',
    [tenantId, userId],
  );
  return rows.length > 0;
}

export interface ApprovalRow {
  memberId: string;
  onBehalfOf: string | null;
  createdAt: Date;
}

export async function approvalsOf(
  client: Client,
  tenantId: string,
  taskIds: readonly string[],
): Promise<Map<string, ApprovalRow[]>> {
  const { rows } = await client.query<ApprovalRow & { taskId: string }>(
    `SELECT task_id AS "taskId", member_id AS "memberId", on_behalf_of AS "onBehalfOf", created_at AS "createdAt"
       FROM review_approvals WHERE tenant_id = $1 AND task_id = ANY($2::uuid[]) ORDER BY created_at`,
    [tenantId, taskIds],
  );
  const map = new Map<string, ApprovalRow[]>();
  for (const r of rows) map.set(r.taskId, [...(map.get(r.taskId) ?? []), r]);
  return map;
}

/** What an approval step says about who approves (packages/core ApprovalStepSchema). */
export interface StepPolicy {
  minApprovals: number | null;
  initiatorId: string | null;
  /** An approval step's approvers: a role and/or member ids or e-mail addresses. */
  approvers: { role?: string; members?: string[] } | null;
}

/**
 * The step's policy and the run's initiator: minApprovals and approvers from the workflow
 * version (the step found anywhere in it, branches and iterations too), runs.created_by.
 */
export async function stepPolicy(
  client: Client,
  tenantId: string,
  task: { runId: string; stepId: string },
): Promise<StepPolicy> {
  // runs.created_by: the member accountable for the run (an API key's creator); null for triggers.
  const { rows } = await client.query<{
    definition: WorkflowDefinition | null;
    initiator: string | null;
  }>(
    `SELECT v.definition, r.created_by AS initiator
       FROM runs r JOIN workflow_versions v
         ON v.tenant_id = r.tenant_id AND v.workflow_id = r.workflow_id AND v.version = r.workflow_version
      WHERE r.tenant_id = $1 AND r.id = $2`,
    [tenantId, task.runId],
  );
  const step = rows[0]?.definition ? findStep(rows[0].definition, task.stepId) : null;
  const approval = step?.type === 'approval' ? step : null;
  return {
    minApprovals:
      approval && typeof approval.minApprovals === 'number' ? approval.minApprovals : null,
    initiatorId: rows[0]?.initiator ?? null,
    approvers: approval?.approvers ?? null,
  };
}

/** The step a task waits in; its step_id is a row key (`<step>@<iteration path>` in a map). */
function findStep(definition: WorkflowDefinition, rowKey: string): Step | null {
  const at = rowKey.indexOf('@');
  try {
    return getStep(definition, at < 0 ? rowKey : rowKey.slice(0, at)).step;
  } catch (error) {
    if (error instanceof CoreError) return null;
    throw error;
  }
}

/** A member's role and e-mail address, to match an approval step's approvers. */
export async function memberIdentity(
  client: Client,
  tenantId: string,
  memberId: string,
): Promise<{ memberId: string; role: string | null; email: string | null }> {
  const { rows } = await client.query<{ role: string; email: string }>(
    `SELECT m.role, u.email FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.tenant_id = $1 AND m.user_id = $2`,
    [tenantId, memberId],
  );
  return { memberId, role: rows[0]?.role ?? null, email: rows[0]?.email ?? null };
}

export async function addComment(
  client: Client,
  tenantId: string,
  c: { taskId: string; authorId: string; onBehalfOf: string | null; body: string },
): Promise<ReviewCommentRow> {
  const { rows } = await client.query<ReviewCommentRow>(
    `INSERT INTO review_comments (tenant_id, task_id, author_id, on_behalf_of, body) VALUES ($1, $2, $3, $4, $5)
     RETURNING id, task_id AS "taskId", author_id AS "authorId", on_behalf_of AS "onBehalfOf", body, created_at AS "createdAt"`,
    [tenantId, c.taskId, c.authorId, c.onBehalfOf, c.body],
  );
  return rows[0] as ReviewCommentRow;
}

export interface ReviewCommentRow {
  id: string;
  taskId: string;
  authorId: string;
  onBehalfOf: string | null;
  body: string;
  createdAt: Date;
}
