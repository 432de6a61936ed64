// Review reads: a queue's tasks and "my tasks" as keyset pages, one task, its comments, queues,
// settings and delegations. Lists are filtered in SQL by the caller's review rights
// (accessibleSqlCondition: no rule, no rows).

import { accessibleSqlCondition, subjectRecord } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import { isDelegationActive } from '@roster/governance';
import { notFound } from '../errors.js';
import { type PageRequest, toPage } from '../graphql/pagination.js';
import { type ReviewCaller, reviewAccess, reviewActorFor, taskSubject } from './review-access.js';
import {
  type ApprovalRow,
  approvalsOf,
  currentDelegations,
  type DelegationRow,
  listQueues,
  type ReviewCommentRow,
  type ReviewQueueRow,
  type ReviewSettingsRow,
  type ReviewTaskRow,
  readSettings,
  TASK_COLUMNS,
} from './review-store.js';

export interface ReviewTaskView extends ReviewTaskRow {
  approvals: ApprovalRow[];
}

export interface ReviewQueueFilter {
  /** Default open. */
  status: string | null;
  /** unclaimed: no live claim; mine: claimed by the caller. */
  claim: 'unclaimed' | 'mine' | null;
  /** Only tasks past their SLA due time. */
  overdue: boolean;
}

const COLUMN_MAP = { tenantId: 't.tenant_id', queue: 't.queue', assigneeId: 't.assignee_id' };

async function withApprovals(
  client: Parameters<typeof approvalsOf>[0],
  tenantId: string,
  rows: ReviewTaskRow[],
) {
  const approvals = await approvalsOf(
    client,
    tenantId,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, approvals: approvals.get(r.id) ?? [] }));
}

/** Tasks of `queue` the caller may read (their queues, or every queue for those who read all). */
export async function reviewQueueTasks(
  pool: Pool,
  caller: ReviewCaller,
  queue: string,
  filter: ReviewQueueFilter,
  page: PageRequest,
  now = new Date(),
) {
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    const access = await reviewAccess(client, caller, now);
    // A queue the caller may not read is FORBIDDEN, not silently empty.
    access.ability.assert(
      'read',
      taskSubject(caller.tenantId, { queue }, null, {
        memberId: access.memberId,
        onBehalfOf: null,
      }),
    );
    const allowed = accessibleSqlCondition(access.ability, 'read', 'ReviewTask', COLUMN_MAP, {
      firstParam: 9,
    });
    if (!allowed) return toPage([], page.limit);
    const { rows } = await client.query<ReviewTaskRow>(
      `SELECT ${TASK_COLUMNS} FROM review_tasks t
        WHERE t.tenant_id = $1 AND t.queue = $2 AND t.status = $3
          AND ($4::text IS NULL OR ($4 = 'unclaimed' AND (t.assignee_id IS NULL OR t.claim_expires_at <= $5))
                                OR ($4 = 'mine' AND t.assignee_id = $6 AND t.claim_expires_at > $5))
          AND (NOT $7::boolean OR t.sla_due_at <= $5)
          AND ($8::timestamptz IS NULL OR (t.created_at, t.id) > ($8, $${9 + allowed.params.length}::uuid))
          AND (${allowed.sql})
        ORDER BY t.created_at, t.id LIMIT $${10 + allowed.params.length}`,
      [
        caller.tenantId,
        queue,
        filter.status ?? 'open',
        filter.claim,
        now,
        access.memberId,
        filter.overdue,
        page.after?.createdAt ?? null,
        ...allowed.params,
        page.after?.id ?? null,
        page.limit + 1,
      ],
    );
    const result = toPage(rows, page.limit);
    return { ...result, nodes: await withApprovals(client, caller.tenantId, result.nodes) };
  });
}

/**
 * The caller's open tasks: claimed by them, claimed by a member who delegated to them, or
 * delegated to them one by one. Oldest first.
 */
export async function myReviewTasks(
  pool: Pool,
  caller: ReviewCaller,
  page: PageRequest,
  now = new Date(),
) {
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    const access = await reviewAccess(client, caller, now);
    const active = access.delegations.filter(
      (d) => d.delegateId === access.memberId && isDelegationActive(d, now),
    );
    const holders = [
      access.memberId,
      ...active.filter((d) => d.taskId === null).map((d) => d.delegatorId),
    ];
    const taskIds = active.flatMap((d) => (d.taskId ? [d.taskId] : []));
    const { rows } = await client.query<ReviewTaskRow>(
      `SELECT ${TASK_COLUMNS} FROM review_tasks t
        WHERE t.tenant_id = $1 AND t.status = 'open'
          AND ((t.assignee_id = ANY($2::uuid[]) AND t.claim_expires_at > $3) OR t.id = ANY($4::uuid[]))
          AND ($5::timestamptz IS NULL OR (t.created_at, t.id) > ($5, $6::uuid))
        ORDER BY t.created_at, t.id LIMIT $7`,
      [
        caller.tenantId,
        holders,
        now,
        taskIds,
        page.after?.createdAt ?? null,
        page.after?.id ?? null,
        page.limit + 1,
      ],
    );
    const result = toPage(rows, page.limit);
    return { ...result, nodes: await withApprovals(client, caller.tenantId, result.nodes) };
  });
}

export async function reviewTask(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  now = new Date(),
) {
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    const { rows } = await client.query<ReviewTaskRow>(
      `SELECT ${TASK_COLUMNS} FROM review_tasks t WHERE t.tenant_id = $1 AND t.id = $2`,
      [caller.tenantId, taskId],
    );
    const task = rows[0];
    if (!task) throw notFound('That review task');
    const access = await reviewAccess(client, caller, now);
    const who = reviewActorFor(access, task, now);
    access.abilityFor(who).assert('read', taskSubject(caller.tenantId, task, task.assigneeId, who));
    return (await withApprovals(client, caller.tenantId, [task]))[0] as ReviewTaskView;
  });
}

export async function reviewComments(
  pool: Pool,
  caller: ReviewCaller,
  taskId: string,
  now = new Date(),
) {
  await reviewTask(pool, caller, taskId, now);
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    const { rows } = await client.query<ReviewCommentRow>(
      `SELECT id, task_id AS "taskId", author_id AS "authorId", on_behalf_of AS "onBehalfOf", body, created_at AS "createdAt"
         FROM review_comments WHERE tenant_id = $1 AND task_id = $2 ORDER BY created_at, id`,
      [caller.tenantId, taskId],
    );
    return rows;
  });
}

/** Queues the caller serves (or every configured queue for those who read every task). */
export async function reviewQueues(
  pool: Pool,
  caller: ReviewCaller,
  now = new Date(),
): Promise<ReviewQueueRow[]> {
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    const access = await reviewAccess(client, caller, now);
    // Whoever may read a task in a queue nobody serves reads every queue (owners, compliance).
    const readsAll = access.ability.can(
      'read',
      subjectRecord('ReviewTask', { tenantId: caller.tenantId, queue: '\u0000', assigneeId: null }),
    );
    const mine = new Set(access.ownQueues);
    for (const d of access.delegations) {
      if (d.delegateId === access.memberId && d.taskId === null && isDelegationActive(d, now)) {
        for (const q of access.queuesOf(d.delegatorId)) mine.add(q);
      }
    }
    return listQueues(client, caller.tenantId, readsAll ? null : [...mine]);
  });
}

export async function reviewSettings(pool: Pool, tenantId: string): Promise<ReviewSettingsRow> {
  return withTenant(pool, tenantId, ({ client }) => readSettings(client, tenantId));
}

/** Current delegations to or from the caller; every current one for those who may update tasks. */
export async function reviewDelegations(
  pool: Pool,
  caller: ReviewCaller,
  now = new Date(),
): Promise<DelegationRow[]> {
  return withTenant(pool, caller.tenantId, async ({ client }) => {
    const everyone = caller.ability.can('update', 'ReviewTask');
    return currentDelegations(client, caller.tenantId, everyone ? null : caller.userId, now);
  });
}
