import type { AddressInfo } from 'node:net';
import { type Pool, withTenant } from '@roster/db';
import {
  createDeployment,
  createRunnerPool,
  type DeploymentStage,
  denseMlpIo,
  exportDenseMlpOnnx,
  inputFingerprint,
  registerModelVersion,
} from '@roster/inference';
import { createLogger } from '@roster/telemetry';
import { createTenant, createTestDatabase, type TestDatabase } from '@roster/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';
import { createApiServer } from '../src/index.js';

/** The API listening on 127.0.0.1 (runners talk to it over real HTTP) on a fresh database. */
export async function startListeningApi(): Promise<{
  db: TestDatabase;
  app: FastifyInstance;
  url: string;
}> {
  const db = await createTestDatabase();
  const app = await createApiServer({
    appPool: db.appPool,
    logger: createLogger({ level: 'silent', name: 'inference-test' }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  afterAll(async () => {
    await app.close();
    await db.drop();
  });
  return { db, app, url: `http://127.0.0.1:${port}` };
}

export const LABELS = ['ham', 'spam'] as const;
export const WIDTH = 8;

/** A small dense model (softmax over 2 classes) as version 1 of `name`. */
export function denseModel(seed = 1, layers: number[] = [WIDTH, 16, 2]): Uint8Array {
  return exportDenseMlpOnnx({ layers, seed });
}

export interface ServingTenant {
  tenantId: string;
  poolId: string;
  token: string;
  versionId: string;
  sha256: string;
  deploymentId: string;
}

/** A tenant with a pool, a registered dense model and a deployment of it. */
export async function servingTenant(
  db: TestDatabase,
  options: { model?: string; bytes?: Uint8Array; stage?: DeploymentStage } = {},
): Promise<ServingTenant> {
  const tenant = await createTenant(db.ownerPool, 'Inference');
  const created = await createRunnerPool(db.appPool, tenant.id, { name: 'cpu', maxBatch: 32 });
  const bytes = options.bytes ?? denseModel();
  const version = await registerModelVersion(db.appPool, tenant.id, {
    model: options.model ?? 'triage',
    bytes,
    labels: [...LABELS],
    featurizer: { kind: 'dense', version: 1, width: WIDTH },
    metrics: { accuracy: 0.5 },
  });
  const deployment = await createDeployment(db.appPool, tenant.id, {
    modelVersionId: version.id,
    poolId: created.pool.id,
    stage: options.stage ?? 'live',
  });
  return {
    tenantId: tenant.id,
    poolId: created.pool.id,
    token: created.token,
    versionId: version.id,
    sha256: version.sha256,
    deploymentId: deployment.id,
  };
}

/** Enqueues `count` dense requests (origin infer) directly; returns their ids. */
export async function enqueueDense(pool: Pool, t: ServingTenant, count: number): Promise<string[]> {
  return withTenant(pool, t.tenantId, async ({ client }) => {
    const inputs = Array.from({ length: count }, (_, i) => ({
      kind: 'dense' as const,
      values: Array.from({ length: WIDTH }, (_, j) => Math.sin(i * 7 + j)),
    }));
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO inference_requests (tenant_id, pool_id, deployment_id, model_version_id, sha256, input, fingerprint, origin, deadline_at)
       SELECT $1, $2, $3, $4, $5, x.input, x.fp, 'infer', now() + interval '10 minutes'
         FROM jsonb_to_recordset($6::jsonb) AS x(input jsonb, fp text)
       RETURNING id`,
      [
        t.tenantId,
        t.poolId,
        t.deploymentId,
        t.versionId,
        t.sha256,
        JSON.stringify(inputs.map((input) => ({ input, fp: inputFingerprint(input) }))),
      ],
    );
    return rows.map((r) => r.id);
  });
}

export { denseMlpIo };
