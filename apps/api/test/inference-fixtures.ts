import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type Pool, withTenant } from '@roster/db';
import { ExecutorRegistry } from '@roster/engine';
import { Runner, RunnerClient } from '@roster/gpu-runners';
import {
  createDecisionExecutor,
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
import { type RunningWorkerPool, runWorkerPool } from '@roster/worker';
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

/**
 * A worker pool that runs decision steps, and runners started for serving tenants, all stopped
 * after the test file.
 */
export async function startDecisionWorker(
  db: TestDatabase,
  url: string,
): Promise<{ worker: RunningWorkerPool; startRunner: (t: ServingTenant) => Promise<Runner> }> {
  const worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: new ExecutorRegistry().registerDecision(createDecisionExecutor(db.appPool)),
    concurrency: 2,
    sweepMs: 100,
    pollIntervalMs: 100,
  });
  const runners: Runner[] = [];
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await worker.stop();
  });
  return {
    worker,
    startRunner: async (t) => {
      const runner = new Runner({
        client: new RunnerClient({ baseUrl: url, poolToken: t.token }),
        name: `runner-${t.tenantId.slice(0, 8)}`,
        version: 'test',
        claimWaitMs: 200,
        backoff: { initialMs: 20, maxMs: 200 },
      });
      await runner.start();
      runners.push(runner);
      return runner;
    },
  };
}

/** A one-step workflow (version 1): a `decision` of model `triage` over `input.values`. */
export async function decisionWorkflow(
  db: TestDatabase,
  tenantId: string,
  options: { name?: string; timeout?: string } = {},
): Promise<string> {
  const id = randomUUID();
  await db.ownerPool.query(
    'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
    [tenantId, id, options.name ?? `wf-${id.slice(0, 8)}`],
  );
  const classify = {
    type: 'decision',
    model: 'triage',
    input: 'input.values',
    ...(options.timeout ? { timeout: options.timeout } : {}),
    end: true,
  };
  await db.ownerPool.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [tenantId, id, { start: 'classify', steps: { classify }, output: 'steps.classify.output' }],
  );
  return id;
}

/** Polls `probe` every 25 ms until it returns a value, for at most 30 s. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
