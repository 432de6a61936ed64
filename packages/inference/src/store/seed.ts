// Makes a model serve from a named pool, idempotently: what `roster up` runs for the demo tenant
// on every start (the first start registers, later starts find everything in place).

import { type Pool, withTenant } from '@roster/db';
import { sha256Hex } from '../model-inspect.js';
import type { FeaturizerSpec } from '../model-signature.js';
import { createDeployment } from './deployments.js';
import { createRunnerPool, hashPoolToken } from './pools.js';
import { registerModelVersion } from './registry.js';

export interface EnsureServingInput {
  model: string;
  bytes: Uint8Array;
  labels: string[];
  featurizer: FeaturizerSpec;
  metrics?: Record<string, unknown>;
  poolName: string;
  /** The pool's token, kept by the caller (e.g. under ROSTER_HOME); re-applied on every call. */
  poolToken: string;
}

export interface Serving {
  poolId: string;
  modelVersionId: string;
  deploymentId: string;
  sha256: string;
  /** What this call created (empty when everything was in place). */
  created: Array<'pool' | 'modelVersion' | 'deployment'>;
}

/** Pool, model version (by sha-256) and a live deployment of it, each created only when missing. */
export async function ensureModelServing(
  pool: Pool,
  tenantId: string,
  input: EnsureServingInput,
): Promise<Serving> {
  const created: Serving['created'] = [];
  const sha256 = sha256Hex(input.bytes);
  const existing = await withTenant(pool, tenantId, async ({ client }) => {
    const pools = await client.query<{ id: string }>(
      'UPDATE runner_pools SET token_hash = $3 WHERE tenant_id = $1 AND name = $2 RETURNING id',
      [tenantId, input.poolName, hashPoolToken(input.poolToken)],
    );
    const versions = await client.query<{ id: string }>(
      `SELECT v.id FROM model_versions v JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
        WHERE v.tenant_id = $1 AND m.name = $2 AND v.sha256 = $3 ORDER BY v.version DESC LIMIT 1`,
      [tenantId, input.model, sha256],
    );
    return { poolId: pools.rows[0]?.id, versionId: versions.rows[0]?.id };
  });
  let poolId = existing.poolId;
  if (!poolId) {
    poolId = (
      await createRunnerPool(pool, tenantId, { name: input.poolName, token: input.poolToken })
    ).pool.id;
    created.push('pool');
  }
  let modelVersionId = existing.versionId;
  if (!modelVersionId) {
    modelVersionId = (
      await registerModelVersion(pool, tenantId, {
        model: input.model,
        bytes: input.bytes,
        labels: input.labels,
        featurizer: input.featurizer,
        metrics: input.metrics ?? {},
      })
    ).id;
    created.push('modelVersion');
  }
  const live = await withTenant(pool, tenantId, ({ client }) =>
    client.query<{ id: string }>(
      `SELECT id FROM deployments WHERE tenant_id = $1 AND model_version_id = $2 AND pool_id = $3
          AND stage = 'live' AND status = 'active'`,
      [tenantId, modelVersionId, poolId],
    ),
  );
  let deploymentId = live.rows[0]?.id;
  if (!deploymentId) {
    deploymentId = (
      await createDeployment(pool, tenantId, { modelVersionId, poolId, stage: 'live' })
    ).id;
    created.push('deployment');
  }
  return { poolId, modelVersionId, deploymentId, sha256, created };
}
