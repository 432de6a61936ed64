import { recordAudit } from '@roster/audit';
import { subjectRecord } from '@roster/authz';
import { validateWorkflowDefinition } from '@roster/core';
import { type Pool, withTenant } from '@roster/db';
import { ApiError, badInput, conflict, notFound } from '../errors.js';
import type { WorkflowRow } from '../graphql/types/workflow.js';
import type { ServiceActor } from './service-actor.js';
import { checkName } from './text-input.js';

const COLUMNS = `id, name, description, status, latest_version AS "latestVersion", created_by AS "createdBy",
                 created_at AS "createdAt", updated_at AS "updatedAt"`;

export type WorkflowActor = ServiceActor;

const checkWorkflowName = (name: string) => checkName(name, 'input.name');

/** The definition must fit the size limit and pass the DSL's validation (all problems listed). */
function checkDefinition(definition: unknown, maxBytes: number): Record<string, unknown> {
  const bytes = Buffer.byteLength(JSON.stringify(definition ?? null));
  if (bytes > maxBytes) {
    throw badInput(
      'input.definition',
      `input.definition is ${bytes} bytes; the limit is ${maxBytes}.`,
    );
  }
  const result = validateWorkflowDefinition(definition);
  if (!result.ok) {
    throw new ApiError(
      'BAD_USER_INPUT',
      `input.definition has ${result.problems.length} problem(s); see extensions.problems.`,
      {
        field: 'input.definition',
        problems: result.problems.map((p) => ({ path: p.path, code: p.code, message: p.message })),
      },
    );
  }
  return definition as Record<string, unknown>;
}

function nameTaken(err: unknown): boolean {
  return (err as { constraint?: string }).constraint === 'workflows_tenant_name_key';
}

export async function createWorkflow(
  appPool: Pool,
  actor: WorkflowActor,
  input: { name: string; description?: string | null },
): Promise<WorkflowRow> {
  const name = checkWorkflowName(input.name);
  const description = (input.description ?? '').slice(0, 2000);
  try {
    return await withTenant(appPool, actor.tenantId, async ({ client }) => {
      const { rows } = await client.query(
        `INSERT INTO workflows (tenant_id, name, description, created_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [actor.tenantId, name, description, actor.userId],
      );
      const row = rows[0] as WorkflowRow;
      await recordAudit(client, actor.tenantId, actor.audit, {
        action: 'workflow.created',
        subject: { type: 'workflow', id: row.id },
        after: { name: row.name, description: row.description, status: row.status },
      });
      return row;
    });
  } catch (err) {
    if (nameTaken(err))
      throw conflict(`A workflow named ${JSON.stringify(name)} exists already.`, {
        field: 'input.name',
      });
    throw err;
  }
}

/** Loads the row, checks the actor's ability on THAT row (ownership conditions), then applies `change`. */
async function changeWorkflow(
  appPool: Pool,
  actor: WorkflowActor,
  workflowId: string,
  action: 'update' | 'archive',
  change: (client: import('@roster/db').PoolClient, before: WorkflowRow) => Promise<WorkflowRow>,
): Promise<WorkflowRow> {
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT ${COLUMNS} FROM workflows WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [actor.tenantId, workflowId],
    );
    const row = rows[0] as WorkflowRow | undefined;
    if (!row) throw notFound('That workflow');
    actor.ability.assert(action, subjectRecord('Workflow', { ...row, tenantId: actor.tenantId }));
    return change(client, row);
  });
}

export async function renameWorkflow(
  appPool: Pool,
  actor: WorkflowActor,
  workflowId: string,
  newName: string,
): Promise<WorkflowRow> {
  const name = checkWorkflowName(newName);
  try {
    return await changeWorkflow(appPool, actor, workflowId, 'update', async (client, before) => {
      const { rows } = await client.query(
        `UPDATE workflows SET name = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [actor.tenantId, workflowId, name],
      );
      await recordAudit(client, actor.tenantId, actor.audit, {
        action: 'workflow.renamed',
        subject: { type: 'workflow', id: workflowId },
        before: { name: before.name },
        after: { name },
      });
      return rows[0] as WorkflowRow;
    });
  } catch (err) {
    if (nameTaken(err))
      throw conflict(`A workflow named ${JSON.stringify(name)} exists already.`, {
        field: 'input.name',
      });
    throw err;
  }
}

export async function archiveWorkflow(
  appPool: Pool,
  actor: WorkflowActor,
  workflowId: string,
): Promise<WorkflowRow> {
  return changeWorkflow(appPool, actor, workflowId, 'archive', async (client, before) => {
    const { rows } = await client.query(
      `UPDATE workflows SET status = 'archived', updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [actor.tenantId, workflowId],
    );
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'workflow.archived',
      subject: { type: 'workflow', id: workflowId },
      before: { status: before.status },
      after: { status: 'archived' },
    });
    return rows[0] as WorkflowRow;
  });
}

/** Adds the next immutable version. Versions of an archived workflow are refused. */
export async function createWorkflowVersion(
  appPool: Pool,
  actor: WorkflowActor,
  workflowId: string,
  definition: unknown,
  maxBytes: number,
): Promise<{ workflowId: string; version: number; definition: unknown; createdAt: Date }> {
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT ${COLUMNS} FROM workflows WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [actor.tenantId, workflowId],
    );
    const row = rows[0] as WorkflowRow | undefined;
    if (!row) throw notFound('That workflow');
    actor.ability.assert(
      'create',
      subjectRecord('WorkflowVersion', { tenantId: actor.tenantId, createdBy: row.createdBy }),
    );
    // Validated only once the caller may add a version: no free DSL checks for the unauthorised.
    const checked = checkDefinition(definition, maxBytes);
    if (row.status === 'archived')
      throw conflict('That workflow is archived; versions can no longer be added.');
    const version = row.latestVersion + 1;
    const inserted = await client.query(
      `INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition, created_by)
       VALUES ($1, $2, $3, $4, $5) RETURNING created_at AS "createdAt"`,
      [actor.tenantId, workflowId, version, JSON.stringify(checked), actor.userId],
    );
    await client.query(
      'UPDATE workflows SET latest_version = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2',
      [actor.tenantId, workflowId, version],
    );
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'workflowVersion.created',
      subject: { type: 'workflowVersion', id: `${workflowId}/${version}` },
      data: { workflowId, version },
    });
    return {
      workflowId,
      version,
      definition: checked,
      createdAt: inserted.rows[0].createdAt as Date,
    };
  });
}
