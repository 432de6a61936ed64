// The request queue runners pull from. Claims lease rows with FOR UPDATE SKIP LOCKED in the
// pool's tenant context; a lease lapses when it expires or when its runner stops heartbeating,
// and a completion counts only from the runner that holds an unexpired lease, so an item is
// answered once even when a runner dies mid-batch.

import type { PoolClient } from '@roster/db';
import { type Pool, withTenant } from '@roster/db';
import type {
  ClaimedItem,
  CompleteRequest,
  CompleteResponse,
  InferenceInput,
  ItemError,
  ItemResult,
} from '../runner-protocol.js';
import { isRunnerId, type PoolIdentity, RUNNER_STALE_AFTER_MS, unknownRunner } from './pools.js';

export interface EnqueueInput {
  poolId: string;
  deploymentId: string | null;
  modelVersionId: string;
  sha256: string;
  input: InferenceInput;
  fingerprint: string;
  origin: 'decision' | 'infer';
  shadow?: boolean;
  runId?: string;
  stepId?: string;
  workflowId?: string;
  thresholds?: unknown;
  /** Deduplicates repeated enqueues (e.g. `run/step/attempt/deployment`). */
  requestKey?: string;
  deadline: Date;
}

/** Enqueues one request in the caller's transaction; returns its id (the existing one on a repeat key). */
export async function enqueueRequest(
  client: PoolClient,
  tenantId: string,
  r: EnqueueInput,
): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO inference_requests (tenant_id, pool_id, deployment_id, model_version_id, sha256, input,
        fingerprint, origin, shadow, run_id, step_id, workflow_id, thresholds, request_key, deadline_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (tenant_id, request_key) DO UPDATE SET request_key = EXCLUDED.request_key
     RETURNING id`,
    [
      tenantId,
      r.poolId,
      r.deploymentId,
      r.modelVersionId,
      r.sha256,
      r.input,
      r.fingerprint,
      r.origin,
      r.shadow ?? false,
      r.runId ?? null,
      r.stepId ?? null,
      r.workflowId ?? null,
      r.thresholds === undefined ? null : JSON.stringify(r.thresholds),
      r.requestKey ?? null,
      r.deadline,
    ],
  );
  return rows[0]!.id;
}

/** A request that reached `done` or `failed` in this transaction. */
export interface SettledRequest {
  id: string;
  status: 'done' | 'failed';
  poolId: string;
  deploymentId: string | null;
  modelVersionId: string;
  origin: 'decision' | 'infer';
  shadow: boolean;
  runId: string | null;
  stepId: string | null;
  workflowId: string | null;
  thresholds: unknown;
  fingerprint: string;
  result: ItemResult | null;
  error: { code: string; message: string } | null;
  runnerId: string | null;
  latencyMs: number | null;
}

const SETTLED_COLUMNS = `r.id, r.status, r.pool_id AS "poolId", r.deployment_id AS "deploymentId",
  r.model_version_id AS "modelVersionId", r.origin, r.shadow, r.run_id AS "runId", r.step_id AS "stepId",
  r.workflow_id AS "workflowId", r.thresholds, r.fingerprint, r.result, r.error, r.runner_id AS "runnerId",
  r.latency_ms AS "latencyMs"`;

async function touchRunner(client: PoolClient, who: PoolIdentity, runnerId: string): Promise<void> {
  if (!isRunnerId(runnerId)) throw unknownRunner(runnerId);
  const { rowCount } = await client.query(
    `UPDATE runners SET last_heartbeat_at = now() WHERE tenant_id = $1 AND pool_id = $2 AND id = $3`,
    [who.tenantId, who.poolId, runnerId],
  );
  if (!rowCount) throw unknownRunner(runnerId);
}

/** Fails requests whose deadline passed or whose attempts ran out; returns them. */
async function expire(client: PoolClient, who: PoolIdentity): Promise<SettledRequest[]> {
  const { rows } = await client.query<SettledRequest>(
    `UPDATE inference_requests r SET status = 'failed', completed_at = now(), lease_owner = NULL,
            error = CASE WHEN r.deadline_at <= now()
              THEN jsonb_build_object('code', 'DEADLINE_EXCEEDED', 'message', 'No runner answered before the deadline.')
              ELSE coalesce(r.error, jsonb_build_object('code', 'ATTEMPTS_EXHAUSTED', 'message', 'Every attempt lost its runner.')) END
      WHERE r.tenant_id = $1 AND r.pool_id = $2 AND r.status IN ('pending', 'leased')
        AND (r.deadline_at <= now() OR (r.attempts >= r.max_attempts AND (r.status = 'pending' OR r.lease_expires_at < now())))
      RETURNING ${SETTLED_COLUMNS}`,
    [who.tenantId, who.poolId],
  );
  return rows;
}

export interface ClaimOutcome {
  items: ClaimedItem[];
  leaseExpiresAt?: string;
}

export type OnSettled = (client: PoolClient, settled: SettledRequest[]) => Promise<void>;

/**
 * Leases up to `maxItems` claimable requests of the pool to `runnerId`. Claimable: pending, or
 * leased with the lease expired or its runner silent for RUNNER_STALE_AFTER_MS; engine requests
 * only once their step is waiting (so a result never arrives before the step can take it).
 */
export async function claimRequests(
  pool: Pool,
  who: PoolIdentity,
  body: { runnerId: string; maxItems: number; leaseSeconds: number },
  onSettled: OnSettled,
  /** Also fail requests past their deadline or attempts (a scan of the pool's queue). Default true. */
  expireFirst = true,
): Promise<ClaimOutcome> {
  return withTenant(pool, who.tenantId, async ({ client }) => {
    await touchRunner(client, who, body.runnerId);
    const expired = expireFirst ? await expire(client, who) : [];
    if (expired.length > 0) await onSettled(client, expired);
    const { rows } = await client.query<{
      id: string;
      sha256: string;
      input: InferenceInput;
      deadline_at: Date;
      lease_expires_at: Date;
    }>(
      `UPDATE inference_requests r
          SET status = 'leased', lease_owner = $3, attempts = r.attempts + 1,
              lease_expires_at = now() + make_interval(secs => $4)
         FROM (SELECT q.tenant_id, q.id FROM inference_requests q
                WHERE q.tenant_id = $1 AND q.pool_id = $2
                  AND (q.status = 'pending'
                       OR (q.status = 'leased' AND (q.lease_expires_at < now() OR NOT EXISTS (
                             SELECT 1 FROM runners w WHERE w.tenant_id = q.tenant_id AND w.id = q.lease_owner
                                AND w.last_heartbeat_at > now() - make_interval(secs => $6)))))
                  AND (q.run_id IS NULL OR q.shadow OR EXISTS (
                        SELECT 1 FROM step_runs s WHERE s.tenant_id = q.tenant_id AND s.run_id = q.run_id
                           AND s.step_id = q.step_id AND s.status = 'waiting'))
                ORDER BY q.created_at LIMIT $5 FOR UPDATE OF q SKIP LOCKED) c
        WHERE r.tenant_id = c.tenant_id AND r.id = c.id
        RETURNING r.id, r.sha256, r.input, r.deadline_at, r.lease_expires_at`,
      [
        who.tenantId,
        who.poolId,
        body.runnerId,
        body.leaseSeconds,
        body.maxItems,
        RUNNER_STALE_AFTER_MS / 1000,
      ],
    );
    return {
      items: rows.map((r) => ({
        requestId: r.id,
        modelVersion: r.sha256,
        input: r.input,
        deadline: r.deadline_at.toISOString(),
      })),
      ...(rows[0] ? { leaseExpiresAt: rows[0].lease_expires_at.toISOString() } : {}),
    };
  });
}

export interface CompleteOutcome extends CompleteResponse {
  settled: SettledRequest[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOT_HELD =
  'not leased to this runner: already answered, or the lease expired and the item went back to the pool';

/**
 * Takes results and errors from `runnerId` for requests it holds under an unexpired lease.
 * Anything else is rejected (a second answer is refused, idempotently). Retryable errors send
 * the request back to the pool; the rest fail it. `onSettled` runs in the same transaction.
 */
export async function completeRequests(
  pool: Pool,
  who: PoolIdentity,
  body: Required<Pick<CompleteRequest, 'runnerId'>> & {
    results: ItemResult[];
    errors: ItemError[];
  },
  onSettled: OnSettled,
): Promise<CompleteOutcome> {
  return withTenant(pool, who.tenantId, async ({ client }) => {
    await touchRunner(client, who, body.runnerId);
    const results = body.results.filter((r) => UUID.test(r.requestId));
    const errors = body.errors.filter((e) => UUID.test(e.requestId));
    const held = `r.tenant_id = $1 AND r.pool_id = $2 AND r.status = 'leased' AND r.lease_owner = $3
                  AND r.lease_expires_at > now()`;
    const { rows: done } = await client.query<SettledRequest>(
      `UPDATE inference_requests r SET status = 'done', result = x.result, latency_ms = x.latency,
              runner_id = $3, completed_at = now(), lease_owner = NULL
         FROM jsonb_to_recordset($4::jsonb) AS x(id uuid, result jsonb, latency double precision)
        WHERE r.id = x.id AND ${held}
        RETURNING ${SETTLED_COLUMNS}`,
      [
        who.tenantId,
        who.poolId,
        body.runnerId,
        JSON.stringify(results.map((r) => ({ id: r.requestId, result: r, latency: r.latencyMs }))),
      ],
    );
    const { rows: errored } = await client.query<SettledRequest & { status: string }>(
      `UPDATE inference_requests r
          SET status = CASE WHEN x.retryable AND r.attempts < r.max_attempts THEN 'pending' ELSE 'failed' END,
              error = jsonb_build_object('code', x.code, 'message', x.message),
              runner_id = $3, lease_owner = NULL,
              completed_at = CASE WHEN x.retryable AND r.attempts < r.max_attempts THEN NULL ELSE now() END
         FROM jsonb_to_recordset($4::jsonb) AS x(id uuid, code text, message text, retryable boolean)
        WHERE r.id = x.id AND ${held}
        RETURNING ${SETTLED_COLUMNS}`,
      [
        who.tenantId,
        who.poolId,
        body.runnerId,
        JSON.stringify(errors.map((e) => ({ id: e.requestId, ...e }))),
      ],
    );
    const taken = new Set([...done, ...errored].map((r) => r.id));
    const rejected = [...body.results, ...body.errors]
      .filter((r) => !taken.has(r.requestId))
      .map((r) => ({ requestId: r.requestId, reason: NOT_HELD }));
    const settled = [...done, ...errored.filter((r) => r.status === 'failed')];
    if (settled.length > 0) await onSettled(client, settled);
    return { accepted: taken.size, rejected, settled };
  });
}

export interface RequestState {
  status: 'pending' | 'leased' | 'done' | 'failed';
  result: ItemResult | null;
  error: { code: string; message: string } | null;
  runnerId: string | null;
  latencyMs: number | null;
}

export async function requestState(
  pool: Pool,
  tenantId: string,
  requestId: string,
): Promise<RequestState | undefined> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<RequestState>(
      `SELECT status, result, error, runner_id AS "runnerId", latency_ms AS "latencyMs"
         FROM inference_requests WHERE tenant_id = $1 AND id = $2`,
      [tenantId, requestId],
    );
    return rows[0];
  });
}
