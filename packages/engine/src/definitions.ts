import { validateWorkflowDefinition, type WorkflowDefinition } from '@roster/core';
import type { PoolClient } from '@roster/db';
import { EngineError } from './errors.js';

/**
 * Workflow versions are immutable, so a parsed definition is cached per (tenant, workflow,
 * version) for the life of the process: the hot path reads no definition from Postgres.
 */
export class DefinitionCache {
  private readonly entries = new Map<string, WorkflowDefinition>();

  constructor(private readonly capacity = 1000) {}

  get(tenantId: string, workflowId: string, version: number): WorkflowDefinition | undefined {
    return this.entries.get(`${tenantId}/${workflowId}/${version}`);
  }

  set(tenantId: string, workflowId: string, version: number, def: WorkflowDefinition): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(`${tenantId}/${workflowId}/${version}`, def);
  }
}

export const sharedDefinitions = new DefinitionCache();

/** Parses a stored definition; a stored version that no longer validates is an internal error. */
export function parseStoredDefinition(raw: unknown, where: Record<string, unknown>) {
  const result = validateWorkflowDefinition(raw);
  if (!result.ok) {
    throw new EngineError(
      'DEFINITION_INVALID',
      `Stored workflow version does not validate (${result.problems[0]?.message ?? 'unknown problem'}); publish a fixed version.`,
      { ...where, problems: result.problems },
    );
  }
  return result.definition;
}

/**
 * The definition of a version, from the cache or (inside the caller's tenant transaction) from
 * workflow_versions. `version` undefined means the workflow's latest version.
 */
export async function loadDefinition(
  client: PoolClient,
  cache: DefinitionCache,
  tenantId: string,
  workflowId: string,
  version?: number,
): Promise<{ version: number; definition: WorkflowDefinition }> {
  if (version !== undefined) {
    const hit = cache.get(tenantId, workflowId, version);
    if (hit) return { version, definition: hit };
  }
  const { rows } = await client.query<{ version: number; definition: unknown }>(
    version === undefined
      ? `SELECT v.version, v.definition FROM workflows w
           JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id AND v.version = w.latest_version
          WHERE w.tenant_id = $1 AND w.id = $2`
      : 'SELECT version, definition FROM workflow_versions WHERE tenant_id = $1 AND workflow_id = $2 AND version = $3',
    version === undefined ? [tenantId, workflowId] : [tenantId, workflowId, version],
  );
  const row = rows[0];
  if (!row) {
    throw new EngineError(
      'NOT_FOUND',
      version === undefined
        ? `Workflow ${workflowId} has no published version in this tenant: publish one first.`
        : `Workflow ${workflowId} has no version ${version} in this tenant: pass an existing version.`,
      { workflowId, version },
    );
  }
  const definition = parseStoredDefinition(row.definition, { workflowId, version: row.version });
  cache.set(tenantId, workflowId, row.version, definition);
  return { version: row.version, definition };
}

/** The definition of the version a run runs, through the operator's cache (else the shared one). */
export async function runDefinition(
  client: PoolClient,
  cache: DefinitionCache | undefined,
  tenantId: string,
  run: { workflow_id: string; workflow_version: number },
): Promise<WorkflowDefinition> {
  const { definition } = await loadDefinition(
    client,
    cache ?? sharedDefinitions,
    tenantId,
    run.workflow_id,
    run.workflow_version,
  );
  return definition;
}
