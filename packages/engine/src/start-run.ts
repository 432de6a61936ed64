import { randomUUID } from 'node:crypto';
import { runDeadlineMs } from '@roster/core';
import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { loadDefinition, sharedDefinitions } from './definitions.js';
import {
  DEFAULT_MAX_RUNS_PER_TENANT,
  type EngineOptions,
  MAX_RUNS_PER_CALL,
} from './engine-options.js';
import { EngineError } from './errors.js';
import { inputHash } from './input-hash.js';

export interface StartRunInput {
  workflowId: string;
  /** Default: the workflow's latest version. */
  version?: number;
  input?: unknown;
  /** A repeat with the same key returns the same run (CONFLICT when the input differs). */
  idempotencyKey?: string;
}

export interface StartedRun {
  runId: string;
  /** False when the idempotency key matched an existing run. */
  created: boolean;
  status: string;
  workflowId: string;
  version: number;
}

/** Starts one run: see startRuns. */
export async function startRun(
  pool: Pool,
  tenantId: string,
  input: StartRunInput,
  options: EngineOptions = {},
): Promise<StartedRun> {
  const [run] = await startRuns(pool, tenantId, [input], options);
  return run as StartedRun;
}

/**
 * Starts up to 1,000 runs in ONE transaction under the tenant's RLS context: inserts the runs
 * (an existing idempotency key returns its run), writes their audit events, and enqueues the
 * first step of as many as the tenant's concurrency allows; the rest stay `queued` and are
 * admitted in order as running runs end.
 */
export async function startRuns(
  pool: Pool,
  tenantId: string,
  inputs: StartRunInput[],
  options: EngineOptions = {},
): Promise<StartedRun[]> {
  if (inputs.length === 0) return [];
  if (inputs.length > MAX_RUNS_PER_CALL) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `startRuns takes at most ${MAX_RUNS_PER_CALL} runs per call, got ${inputs.length}: split the batch.`,
      { count: inputs.length },
    );
  }
  const cache = options.definitions ?? sharedDefinitions;
  const limit = options.maxRunsPerTenant ?? DEFAULT_MAX_RUNS_PER_TENANT;
  return withTenant(pool, tenantId, async ({ client }) => {
    const rows = [];
    for (const item of inputs) {
      const { version, definition } = await loadDefinition(
        client,
        cache,
        tenantId,
        item.workflowId,
        item.version,
      );
      rows.push({
        id: randomUUID(),
        workflow_id: item.workflowId,
        workflow_version: version,
        input: item.input ?? {},
        input_hash: inputHash(item.input ?? {}),
        idempotency_key: item.idempotencyKey ?? null,
        max_runs: definition.concurrency?.maxRuns ?? null,
        deadline_ms: runDeadlineMs(definition),
      });
    }
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO runs (tenant_id, id, workflow_id, workflow_version, input, input_hash, idempotency_key, max_runs, deadline_at)
       SELECT $1, r.id, r.workflow_id, r.workflow_version, r.input, r.input_hash, r.idempotency_key, r.max_runs,
              now() + r.deadline_ms * interval '1 millisecond'
         FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, workflow_id uuid, workflow_version int, input jsonb,
              input_hash text, idempotency_key text, max_runs int, deadline_ms bigint)
       ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
       RETURNING id`,
      [tenantId, JSON.stringify(rows)],
    );
    const newIds = inserted.rows.map((r) => r.id);
    const results = await matchRuns(client, tenantId, rows, new Set(newIds));
    if (newIds.length > 0) {
      await client.query(
        `INSERT INTO audit_events (tenant_id, run_id, kind, data)
         SELECT $1, id, 'run.created', '{}'::jsonb FROM unnest($2::uuid[]) AS id`,
        [tenantId, newIds],
      );
      await admit(client, tenantId, limit);
    }
    const statuses = await client.query<{ id: string; status: string }>(
      'SELECT id, status FROM runs WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
      [tenantId, results.map((r) => r.runId)],
    );
    const statusOf = new Map(statuses.rows.map((r) => [r.id, r.status]));
    return results.map((r) => ({ ...r, status: statusOf.get(r.runId) ?? 'queued' }));
  });
}

/** Admits queued runs into the free slots of the tenant (oldest first). */
export async function admit(client: PoolClient, tenantId: string, limit: number): Promise<number> {
  const { rows } = await client.query<{ admitted: number }>(
    `SELECT roster_engine_admit($1::uuid, $2::int - (SELECT count(*)::int FROM (
        SELECT 1 FROM runs WHERE tenant_id = $1::uuid AND status = 'running' LIMIT $2::int) r)) AS admitted`,
    [tenantId, limit],
  );
  return rows[0]?.admitted ?? 0;
}

/**
 * Pairs each input with its run: a row not inserted reused an idempotency key, whose run must
 * have been started with the same input and workflow (an earlier row of the same batch counts).
 */
async function matchRuns(
  client: PoolClient,
  tenantId: string,
  rows: Array<{
    id: string;
    workflow_id: string;
    workflow_version: number;
    input_hash: string;
    idempotency_key: string | null;
  }>,
  created: Set<string>,
): Promise<Array<Omit<StartedRun, 'status'>>> {
  const reusedKeys = rows
    .filter((r) => !created.has(r.id) && r.idempotency_key !== null)
    .map((r) => r.idempotency_key as string);
  const existing = new Map<string, { id: string; input_hash: string; workflow_id: string }>();
  if (reusedKeys.length > 0) {
    const found = await client.query<{
      id: string;
      idempotency_key: string;
      input_hash: string;
      workflow_id: string;
    }>(
      'SELECT id, idempotency_key, input_hash, workflow_id FROM runs WHERE tenant_id = $1 AND idempotency_key = ANY($2::text[])',
      [tenantId, reusedKeys],
    );
    for (const row of found.rows) existing.set(row.idempotency_key, row);
  }
  return rows.map((row) => {
    const base = { workflowId: row.workflow_id, version: row.workflow_version };
    if (created.has(row.id)) return { runId: row.id, created: true, ...base };
    const prior = existing.get(row.idempotency_key as string);
    if (!prior || prior.input_hash !== row.input_hash || prior.workflow_id !== row.workflow_id) {
      throw new EngineError(
        'CONFLICT',
        `Idempotency key "${row.idempotency_key}" was already used with a different input or workflow: use a new key for a new run, or resend the original input.`,
        { idempotencyKey: row.idempotency_key, runId: prior?.id },
      );
    }
    return { runId: prior.id, created: false, ...base };
  });
}
