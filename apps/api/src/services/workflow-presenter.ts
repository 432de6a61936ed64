import { accessibleSqlCondition, type RosterAbility } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import { type PageRequest, toPage } from '../graphql/pagination.js';
import type { WorkflowRow } from '../graphql/types/workflow.js';

const COLUMNS = `id, name, description, status, latest_version AS "latestVersion", created_by AS "createdBy",
                 created_at AS "createdAt", updated_at AS "updatedAt"`;
const COLUMN_MAP = {
  tenantId: 'tenant_id',
  id: 'id',
  createdBy: 'created_by',
  status: 'status',
  name: 'name',
};

/**
 * A page of the tenant's workflows the actor may read: RLS limits rows to the tenant, and the
 * actor's CASL conditions become SQL (a role with no read rule gets nothing, never everything).
 */
export async function listWorkflows(
  appPool: Pool,
  tenantId: string,
  ability: RosterAbility,
  page: PageRequest,
  status: 'active' | 'archived' | null,
) {
  const allowed = accessibleSqlCondition(ability, 'read', 'Workflow', COLUMN_MAP, {
    firstParam: 6,
  });
  if (!allowed) return toPage([] as WorkflowRow[], page.limit);
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT ${COLUMNS} FROM workflows
        WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
          AND (${allowed.sql})
        ORDER BY created_at, id LIMIT $5`,
      [
        tenantId,
        status,
        page.after?.createdAt ?? null,
        page.after?.id ?? null,
        page.limit + 1,
        ...allowed.params,
      ],
    );
    return toPage(rows as WorkflowRow[], page.limit);
  });
}

export async function getWorkflow(
  appPool: Pool,
  tenantId: string,
  workflowId: string,
): Promise<WorkflowRow | null> {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT ${COLUMNS} FROM workflows WHERE tenant_id = $1 AND id = $2`,
      [tenantId, workflowId],
    );
    return (rows[0] as WorkflowRow | undefined) ?? null;
  });
}

export async function listWorkflowVersions(
  appPool: Pool,
  tenantId: string,
  workflowId: string,
  limit: number,
) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT workflow_id AS "workflowId", version, definition, created_at AS "createdAt"
         FROM workflow_versions WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY version DESC LIMIT $3`,
      [tenantId, workflowId, limit],
    );
    return rows as { workflowId: string; version: number; definition: unknown; createdAt: Date }[];
  });
}
