// Deployments: where and how a model version serves (pool, stage live/canary/shadow, traffic
// share, rollback thresholds). Promotion and rollback are audited; a canary rolls back by itself
// when evaluateCanary says so after its requests settle.

import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { InferenceError } from '../errors.js';
import {
  type CanaryThresholds,
  type Deployment,
  type DeploymentStage,
  evaluateCanary,
  type ServingStats,
} from '../rollout.js';

export interface DeploymentRow extends Deployment {
  modelId: string;
  modelVersionId: string;
  sha256: string;
  labels: string[];
  status: 'active' | 'rolled_back' | 'retired';
  statusReason: string | null;
  rollback: Partial<CanaryThresholds>;
  createdAt: Date;
}

const COLUMNS = `d.id, d.model_id AS "modelId", d.model_version_id AS "modelVersionId", v.sha256 AS "modelVersion",
  v.sha256, v.labels, d.pool_id AS "poolId", d.stage, d.traffic_share AS "trafficShare", d.status,
  d.status_reason AS "statusReason", d.rollback, d.created_at AS "createdAt"`;
const FROM = `deployments d JOIN model_versions v ON v.tenant_id = d.tenant_id AND v.id = d.model_version_id`;

/** Rollback thresholds when a canary names none: 20 requests, 5% errors. */
export const DEFAULT_ROLLBACK: CanaryThresholds = {
  minRequests: 20,
  maxErrorRate: 0.05,
  maxDisagreementRate: 1,
};

type Queryable = Pick<PoolClient, 'query'>;

function clean(row: DeploymentRow): DeploymentRow {
  if (row.trafficShare === null) delete row.trafficShare;
  return row;
}

export async function activeDeployments(
  client: Queryable,
  tenantId: string,
  modelId: string,
): Promise<DeploymentRow[]> {
  const { rows } = await client.query<DeploymentRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE d.tenant_id = $1 AND d.model_id = $2 AND d.status = 'active'
      ORDER BY d.created_at, d.id`,
    [tenantId, modelId],
  );
  return rows.map(clean);
}

export async function listDeployments(
  pool: Pool,
  tenantId: string,
  modelId: string,
): Promise<DeploymentRow[]> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<DeploymentRow>(
      `SELECT ${COLUMNS} FROM ${FROM} WHERE d.tenant_id = $1 AND d.model_id = $2 ORDER BY d.created_at, d.id`,
      [tenantId, modelId],
    );
    return rows.map(clean);
  });
}

export async function getDeployment(
  pool: Pool,
  tenantId: string,
  deploymentId: string,
): Promise<DeploymentRow | undefined> {
  return withTenant(pool, tenantId, (tx) => deploymentById(tx.client, tenantId, deploymentId));
}

async function deploymentById(
  client: Queryable,
  tenantId: string,
  id: string,
  lock = false,
): Promise<DeploymentRow | undefined> {
  const { rows } = await client.query<DeploymentRow>(
    `SELECT ${COLUMNS} FROM ${FROM} WHERE d.tenant_id = $1 AND d.id = $2${lock ? ' FOR UPDATE OF d' : ''}`,
    [tenantId, id],
  );
  return rows[0] ? clean(rows[0]) : undefined;
}

export interface CreateDeploymentInput {
  modelVersionId: string;
  poolId: string;
  stage: DeploymentStage;
  /** Canary only: share of requests in (0, 1]. */
  trafficShare?: number;
  /** Canary only: automatic rollback thresholds. Default DEFAULT_ROLLBACK. */
  rollback?: Partial<CanaryThresholds>;
}

async function audit(
  client: Queryable,
  tenantId: string,
  kind: string,
  deploymentId: string,
  data: Record<string, unknown>,
): Promise<void> {
  await client.query(
    `INSERT INTO audit_events (tenant_id, kind, data, subject_type, subject_id)
     VALUES ($1, $2, $3, 'Deployment', $4)`,
    [tenantId, kind, data, deploymentId],
  );
}

/** A new live deployment retires the previous live one of the same model. */
export async function createDeployment(
  pool: Pool,
  tenantId: string,
  input: CreateDeploymentInput,
): Promise<DeploymentRow> {
  if (input.stage === 'canary') {
    const s = input.trafficShare;
    if (typeof s !== 'number' || !(s > 0 && s <= 1)) {
      throw new InferenceError(
        'INPUT_INVALID',
        'A canary needs a trafficShare in (0, 1], e.g. 0.1 for 10% of requests.',
        { field: 'trafficShare' },
      );
    }
  }
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows: versions } = await client.query<{ model_id: string }>(
      'SELECT model_id FROM model_versions WHERE tenant_id = $1 AND id = $2',
      [tenantId, input.modelVersionId],
    );
    const { rows: pools } = await client.query(
      'SELECT 1 FROM runner_pools WHERE tenant_id = $1 AND id = $2',
      [tenantId, input.poolId],
    );
    if (!versions[0] || !pools[0]) {
      throw new InferenceError(
        'NOT_FOUND',
        `${versions[0] ? 'Runner pool' : 'Model version'} not found in this tenant: check the id.`,
      );
    }
    const modelId = versions[0].model_id;
    await client.query('SELECT 1 FROM models WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [
      tenantId,
      modelId,
    ]);
    if (input.stage === 'canary') {
      // Checked here too so that a model never reaches a state chooseDeployment refuses.
      const { rows: shares } = await client.query<{ total: number }>(
        `SELECT coalesce(sum(traffic_share), 0)::float8 AS total FROM deployments
          WHERE tenant_id = $1 AND model_id = $2 AND stage = 'canary' AND status = 'active'`,
        [tenantId, modelId],
      );
      if (shares[0]!.total + input.trafficShare! > 1 + 1e-9) {
        throw new InferenceError(
          'INPUT_INVALID',
          `The model's canaries already take ${shares[0]!.total} of the traffic; this one would pass 1. Roll one back or lower the share.`,
          { field: 'trafficShare' },
        );
      }
    }
    if (input.stage === 'live') {
      await client.query(
        `UPDATE deployments SET status = 'retired', status_reason = 'replaced by a new live deployment', updated_at = now()
          WHERE tenant_id = $1 AND model_id = $2 AND stage = 'live' AND status = 'active'`,
        [tenantId, modelId],
      );
    }
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO deployments (tenant_id, model_id, model_version_id, pool_id, stage, traffic_share, rollback)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        tenantId,
        modelId,
        input.modelVersionId,
        input.poolId,
        input.stage,
        input.stage === 'canary' ? input.trafficShare : null,
        input.stage === 'canary' ? { ...DEFAULT_ROLLBACK, ...input.rollback } : {},
      ],
    );
    const id = rows[0]!.id;
    await audit(client, tenantId, 'deployment.created', id, {
      stage: input.stage,
      modelVersionId: input.modelVersionId,
      trafficShare: input.trafficShare ?? null,
    });
    return (await deploymentById(client, tenantId, id))!;
  });
}

/** Makes a canary or shadow deployment the model's live one (the previous live one retires). */
export async function promoteDeployment(
  pool: Pool,
  tenantId: string,
  deploymentId: string,
): Promise<DeploymentRow> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const d = await deploymentById(client, tenantId, deploymentId, true);
    if (!d) throw new InferenceError('NOT_FOUND', 'Deployment not found in this tenant.');
    if (d.status !== 'active' || d.stage === 'live') {
      throw new InferenceError(
        'CONFLICT',
        `Deployment ${deploymentId} is ${d.status} ${d.stage}; only an active canary or shadow can be promoted.`,
        { reason: 'NOT_PROMOTABLE' },
      );
    }
    await client.query(
      `UPDATE deployments SET status = 'retired', status_reason = 'replaced by a promotion', updated_at = now()
        WHERE tenant_id = $1 AND model_id = $2 AND stage = 'live' AND status = 'active'`,
      [tenantId, d.modelId],
    );
    await client.query(
      `UPDATE deployments SET stage = 'live', traffic_share = NULL, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, deploymentId],
    );
    await audit(client, tenantId, 'deployment.promoted', deploymentId, { from: d.stage });
    return (await deploymentById(client, tenantId, deploymentId))!;
  });
}

async function markRolledBack(
  client: Queryable,
  tenantId: string,
  d: DeploymentRow,
  reason: string,
  automatic: boolean,
  metric?: string,
): Promise<void> {
  await client.query(
    `UPDATE deployments SET status = 'rolled_back', status_reason = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
    [tenantId, d.id, reason],
  );
  await audit(client, tenantId, 'deployment.rolled_back', d.id, {
    stage: d.stage,
    automatic,
    reason,
    ...(metric ? { metric } : {}),
  });
}

/** Takes a canary or shadow out of service (the live deployment serves everything again). */
export async function rollbackDeployment(
  pool: Pool,
  tenantId: string,
  deploymentId: string,
  reason = 'rolled back by a person',
): Promise<DeploymentRow> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const d = await deploymentById(client, tenantId, deploymentId, true);
    if (!d) throw new InferenceError('NOT_FOUND', 'Deployment not found in this tenant.');
    if (d.status !== 'active' || d.stage === 'live') {
      throw new InferenceError(
        'CONFLICT',
        `Deployment ${deploymentId} is ${d.status} ${d.stage}; roll back an active canary or shadow (to replace live, promote another deployment).`,
        { reason: 'NOT_ROLLBACKABLE' },
      );
    }
    await markRolledBack(client, tenantId, d, reason, false);
    return (await deploymentById(client, tenantId, deploymentId))!;
  });
}

async function servingStats(
  client: Queryable,
  tenantId: string,
  deploymentId: string,
): Promise<ServingStats> {
  const { rows } = await client.query<{ requests: number; errors: number; p99: number | null }>(
    `SELECT count(*) FILTER (WHERE status IN ('done', 'failed'))::int AS requests,
            count(*) FILTER (WHERE error IS NOT NULL)::int AS errors,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
       FROM inference_requests WHERE tenant_id = $1 AND deployment_id = $2 AND NOT shadow`,
    [tenantId, deploymentId],
  );
  const r = rows[0]!;
  return { requests: r.requests, errors: r.errors, latencyP99Ms: r.p99 ?? 0 };
}

/**
 * Checks the canaries among `deploymentIds` (in the caller's transaction) and rolls back those
 * that evaluateCanary condemns; returns the ids rolled back.
 */
export async function checkCanaries(
  client: Queryable,
  tenantId: string,
  deploymentIds: Iterable<string>,
): Promise<string[]> {
  const rolledBack: string[] = [];
  // Most settled requests are served by live: find the active canaries first, without locking.
  const { rows: canaries } = await client.query<{ id: string }>(
    `SELECT id FROM deployments WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND stage = 'canary' AND status = 'active'`,
    [tenantId, [...new Set(deploymentIds)]],
  );
  for (const { id } of canaries) {
    const d = await deploymentById(client, tenantId, id, true);
    if (d?.stage !== 'canary' || d.status !== 'active') continue;
    const live = (await activeDeployments(client, tenantId, d.modelId)).find(
      (x) => x.stage === 'live',
    );
    const verdict = evaluateCanary(
      {
        canary: await servingStats(client, tenantId, d.id),
        live: live
          ? await servingStats(client, tenantId, live.id)
          : { requests: 0, errors: 0, latencyP99Ms: 0 },
        compared: 0,
        disagreements: 0,
      },
      { ...DEFAULT_ROLLBACK, ...d.rollback },
    );
    if (verdict.action === 'rollback') {
      await markRolledBack(client, tenantId, d, verdict.reason, true, verdict.metric);
      rolledBack.push(d.id);
    }
  }
  return rolledBack;
}
