import { type Pool, withTenant } from '@roster/db';
import { concurrencyKeyValue, queueReason } from '@roster/engine';
import { type PageRequest, toPage } from '../graphql/pagination.js';
import type { RunRow } from '../graphql/types/run.js';

export interface RunFilter {
  status?: string | null;
  workflowId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** The columns of a RunRow, read from `runs` (parked_on and concurrency_key as stored). */
const RUN_COLUMNS = `runs.id, workflow_id AS "workflowId", workflow_version AS version, status, input, output, error,
       failed_step AS "failedStep", idempotency_key AS "idempotencyKey", deadline_at AS "deadlineAt",
       created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt",
       json_build_object('kind', started_by_kind, 'id', started_by_id, 'memberId', created_by) AS "startedBy",
       parked_on AS "parkedOn", concurrency_key AS "storedKey"`;

type StoredRun = Omit<RunRow, 'queuedFor' | 'concurrencyKey'> & {
  id: string;
  createdAt: Date;
  parkedOn: string | null;
  storedKey: string | null;
};

function toRunRow({
  parkedOn,
  storedKey,
  ...row
}: StoredRun): RunRow & { id: string; createdAt: Date } {
  return {
    ...row,
    queuedFor: queueReason(row.status, parkedOn),
    concurrencyKey: concurrencyKeyValue(storedKey),
  };
}

/** A page of the tenant's runs, newest last in (created_at, id) order, with filters. */
export async function listRuns(
  appPool: Pool,
  tenantId: string,
  filter: RunFilter,
  page: PageRequest,
) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<StoredRun>(
      `SELECT ${RUN_COLUMNS}
         FROM runs
        WHERE tenant_id = $1
          AND ($2::text IS NULL OR status = $2)
          AND ($3::uuid IS NULL OR workflow_id = $3)
          AND ($4::timestamptz IS NULL OR created_at >= $4)
          AND ($5::timestamptz IS NULL OR created_at < $5)
          AND ($6::timestamptz IS NULL OR (created_at, id) > ($6, $7::uuid))
        ORDER BY created_at, id LIMIT $8`,
      [
        tenantId,
        filter.status ?? null,
        filter.workflowId ?? null,
        filter.createdAfter ?? null,
        filter.createdBefore ?? null,
        page.after?.createdAt ?? null,
        page.after?.id ?? null,
        page.limit + 1,
      ],
    );
    return toPage(rows.map(toRunRow), page.limit);
  });
}

/** These runs of the tenant, in the order of `ids` (one key probe each). */
export async function runsByIds(appPool: Pool, tenantId: string, ids: string[]) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<StoredRun>(
      `SELECT ${RUN_COLUMNS}
         FROM unnest($2::uuid[]) WITH ORDINALITY AS n(run_id, ord)
         CROSS JOIN LATERAL (SELECT * FROM runs WHERE tenant_id = $1 AND id = n.run_id LIMIT 1) runs
        ORDER BY n.ord`,
      [tenantId, ids],
    );
    return rows.map(toRunRow);
  });
}

/** The member who started a run, while they are still a member of the tenant. */
export async function initiatorMember(appPool: Pool, tenantId: string, userId: string) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT m.user_id AS "userId", u.email, u.name, m.role, m.created_at AS "createdAt"
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND m.user_id = $2`,
      [tenantId, userId],
    );
    return rows[0] as
      | { userId: string; email: string; name: string; role: string; createdAt: Date }
      | undefined;
  });
}
