import { runDeadlineMs, type WorkflowDefinition } from '@roster/core';
import { auditSettingsSql, type Pool, type PoolClient, withTenant } from '@roster/db';
import { v7 as timeOrderedUuid } from 'uuid';
import { loadDefinition, sharedDefinitions } from './definitions.js';
import {
  DEFAULT_MAX_RUNS_PER_TENANT,
  type EngineOptions,
  MAX_RUNS_PER_CALL,
} from './engine-options.js';
import { EngineError } from './errors.js';
import { evaluate } from './expressions.js';
import { canonicalJson, inputHash } from './input-hash.js';
import { startsPure } from './pure-chain.js';
import { initiatorColumns, type RunInitiator } from './run-initiator.js';

export interface StartRunInput {
  workflowId: string;
  /** Default: the workflow's latest version. */
  version?: number;
  input?: unknown;
  /** A repeat with the same key returns the same run (CONFLICT when the input differs). */
  idempotencyKey?: string;
  /** Who or what starts the run. Default: the system. */
  startedBy?: RunInitiator;
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
  const fast = await startRunOneTrip(pool, tenantId, input, options);
  if (fast) return fast;
  const [run] = await startRuns(pool, tenantId, [input], options);
  return run as StartedRun;
}

/**
 * The latest version of each workflow as this process last saw it (tenant/workflow -> version):
 * lets startRun skip reading the definition. The start statement checks it is still the latest.
 */
const latestSeen = new Map<string, number>();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when options.sealInput must see this input before it is stored. */
function needsSealing(options: EngineOptions, input: unknown): boolean {
  if (!options.sealInput) return false;
  return options.mayHoldPersonalData?.(input ?? {}) ?? true;
}

/**
 * startRun in ONE round trip (BEGIN, tenant and audit settings, the start function, COMMIT as one
 * simple query) when the definition is already cached; undefined when it is not, or when a newer
 * version was published meanwhile (then the caller takes the ordinary path, which reads it).
 */
async function startRunOneTrip(
  pool: Pool,
  tenantId: string,
  input: StartRunInput,
  options: EngineOptions,
): Promise<StartedRun | undefined> {
  if (needsSealing(options, input.input) || !UUID.test(tenantId) || !UUID.test(input.workflowId)) {
    return undefined;
  }
  const seenKey = `${tenantId}/${input.workflowId}`;
  const version = input.version ?? latestSeen.get(seenKey);
  if (version === undefined) return undefined;
  const definition = (options.definitions ?? sharedDefinitions).get(
    tenantId,
    input.workflowId,
    version,
  );
  if (!definition) return undefined;
  const row = {
    ...(await runRow(input, version, definition, input.input ?? {})),
    latest: input.version === undefined,
  };
  const limit = Math.trunc(options.maxRunsPerTenant ?? DEFAULT_MAX_RUNS_PER_TENANT);
  const client = await pool.connect();
  let broken = false;
  try {
    // The ids are validated UUIDs and the rows an escaped literal: nothing here can change the
    // statement. A multi-statement query cannot take parameters, hence the literal.
    const tenant = tenantId.toLowerCase();
    const results = (await client.query(
      `BEGIN; SET LOCAL app.tenant_id = '${tenant}'${auditSettingsSql()};
       SELECT input_id, run_id, created, status FROM roster_engine_start_runs('${tenant}'::uuid, ${client.escapeLiteral(JSON.stringify([row]))}::jsonb, ${limit}); COMMIT`,
    )) as unknown as Array<{ rows: StartRow[] }>;
    return startedRuns([row], results.at(-2)?.rows ?? [])[0];
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    if ((err as { code?: string }).code === 'RS412') {
      latestSeen.delete(seenKey);
      return undefined;
    }
    throw conflictError(err);
  } finally {
    client.release(broken);
  }
}

type StartRow = { input_id: string; run_id: string; created: boolean; status: string };

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
  return withTenant(pool, tenantId, ({ client }) =>
    startRunsInTransaction(client, tenantId, inputs, options),
  );
}

/**
 * startRuns inside a transaction the caller holds under the tenant's RLS context, so a trigger
 * can record why it started the runs (a schedule's fire) in the same commit.
 */
export async function startRunsInTransaction(
  client: PoolClient,
  tenantId: string,
  inputs: StartRunInput[],
  options: EngineOptions = {},
): Promise<StartedRun[]> {
  const cache = options.definitions ?? sharedDefinitions;
  const limit = options.maxRunsPerTenant ?? DEFAULT_MAX_RUNS_PER_TENANT;
  // A batch names few workflows: resolve each (workflow, version) once, not once per run (a
  // "latest version" lookup is a query and a parse each time).
  const resolved = new Map<string, ReturnType<typeof loadDefinition>>();
  const rows = [];
  for (const item of inputs) {
    const key = `${item.workflowId}/${item.version ?? 'latest'}`;
    let pending = resolved.get(key);
    if (!pending) {
      pending = loadDefinition(client, cache, tenantId, item.workflowId, item.version);
      resolved.set(key, pending);
    }
    const { version, definition } = await pending;
    if (item.version === undefined) latestSeen.set(`${tenantId}/${item.workflowId}`, version);
    const stored =
      options.sealInput && needsSealing(options, item.input)
        ? await options.sealInput(client, tenantId, item.input ?? {})
        : (item.input ?? {});
    rows.push(await runRow(item, version, definition, stored));
  }
  const started = await client
    .query<StartRow>({
      name: 'roster_engine_start_runs',
      text: 'SELECT input_id, run_id, created, status FROM roster_engine_start_runs($1, $2::jsonb, $3)',
      values: [tenantId, JSON.stringify(rows), limit],
    })
    .catch((err: unknown) => {
      throw conflictError(err);
    });
  return startedRuns(rows, started.rows);
}

/** The runs row of one input (the argument of roster_engine_start_runs). */
async function runRow(
  item: StartRunInput,
  version: number,
  definition: WorkflowDefinition,
  storedInput: unknown,
) {
  return {
    // Time-ordered (RFC 9562 v7, monotonic within the process): the runs of one call share their
    // transaction's created_at, and the queue's order (created_at, id) is then the inputs' order.
    id: timeOrderedUuid(),
    workflow_id: item.workflowId,
    workflow_version: version,
    input: storedInput,
    input_hash: inputHash(item.input ?? {}),
    idempotency_key: item.idempotencyKey ?? null,
    max_runs: definition.concurrency?.maxRuns ?? null,
    ...(await concurrencyKey(definition, item)),
    deadline_ms: runDeadlineMs(definition),
    ...initiatorColumns(item.startedBy),
    // Runs started together whose first step is pure start in batches (roster_steps jobs).
    batch: startsPure(definition),
  };
}

/** RS409 from the start function as a CONFLICT that says how to fix it; other errors as they are. */
function conflictError(err: unknown): unknown {
  const e = err as { code?: string; message?: string; detail?: string };
  if (e.code !== 'RS409') return err;
  return new EngineError(
    'CONFLICT',
    `Idempotency key "${e.message}" was already used with a different input or workflow: use a new key for a new run, or resend the original input.`,
    { idempotencyKey: e.message, runId: e.detail },
    { cause: err },
  );
}

function startedRuns(
  rows: Array<{
    id: string;
    workflow_id: string;
    workflow_version: number;
    idempotency_key: string | null;
  }>,
  started: StartRow[],
): StartedRun[] {
  const byInput = new Map(started.map((r) => [r.input_id, r]));
  return rows.map((row) => {
    const run = byInput.get(row.id);
    if (!run) {
      throw new EngineError(
        'CONFLICT',
        `The run of idempotency key "${row.idempotency_key}" ended while this call started it; retry the call.`,
        { idempotencyKey: row.idempotency_key },
      );
    }
    return {
      runId: run.run_id,
      created: run.created,
      status: run.status,
      workflowId: row.workflow_id,
      version: row.workflow_version,
    };
  });
}

/**
 * The run's concurrency key (the workflow's `concurrency.key` over `{ input }`, as canonical
 * JSON, so 1 and "1" differ and a missing value groups as `null`) and its per-key limit.
 */
async function concurrencyKey(
  definition: WorkflowDefinition,
  item: StartRunInput,
): Promise<{ concurrency_key: string | null; max_runs_per_key: number | null }> {
  const { key, maxRunsPerKey } = definition.concurrency ?? {};
  if (key === undefined || maxRunsPerKey === undefined) {
    return { concurrency_key: null, max_runs_per_key: null };
  }
  try {
    const value = await evaluate(key, { input: item.input ?? {} });
    return { concurrency_key: canonicalJson(value ?? null), max_runs_per_key: maxRunsPerKey };
  } catch (cause) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `The workflow's concurrency.key (${key}) failed on this input: ${cause instanceof Error ? cause.message : String(cause)}. Fix the input or the expression.`,
      { workflowId: item.workflowId, field: 'input' },
      { cause },
    );
  }
}

/**
 * Admits queued runs into the free slots of the tenant (oldest first) and notifies workers once
 * (this runs outside a worker's transitions: cancel, sweeps).
 */
export async function admit(client: PoolClient, tenantId: string, limit: number): Promise<number> {
  const { rows } = await client.query<{ admitted: number }>(
    `WITH a AS (SELECT roster_engine_admit($1::uuid, $2::int - (SELECT count(*)::int FROM (
        SELECT 1 FROM runs WHERE tenant_id = $1::uuid AND status = 'running' LIMIT $2::int) r)) AS admitted)
     SELECT admitted, CASE WHEN admitted > 0
              THEN pg_notify('jobs:insert', json_build_object('count', admitted)::text) END AS notified
       FROM a`,
    [tenantId, limit],
  );
  return rows[0]?.admitted ?? 0;
}
