import { exportDenseMlpOnnx } from '@roster/inference';
import type { TestApi } from '../api-harness.js';
import type { DomainCalls, MatrixOwner } from './types.js';

const MODEL_FILE = Buffer.from(exportDenseMlpOnnx({ layers: [4, 2], seed: 11 })).toString('base64');
const REGISTER = `mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { modelVersion { id } } }`;
const FEATURIZER = { kind: 'dense', version: 1, width: 4 };

let shared: { token: string; modelVersionId: string; poolId: string; modelId: string } | undefined;
let counter = 0;

async function gqlOk(
  api: TestApi,
  query: string,
  variables: Record<string, unknown>,
  token: string,
) {
  const r = await api.gql(query, variables, token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  // Read by path; the shape is what each query asked for.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return r.data as any;
}

/** Once per owner: a model version, a pool and a live deployment; per call: a fresh canary. */
async function fixture(api: TestApi, owner: MatrixOwner) {
  if (shared?.token !== owner.token) {
    const version = await gqlOk(
      api,
      REGISTER,
      {
        i: { model: 'matrix', fileBase64: MODEL_FILE, labels: ['a', 'b'], featurizer: FEATURIZER },
      },
      owner.token,
    );
    const pool = await gqlOk(
      api,
      `mutation { createRunnerPool(input: { name: "matrix" }) { runnerPool { id } } }`,
      {},
      owner.token,
    );
    const modelVersionId = version.registerModelVersion.modelVersion.id as string;
    const poolId = pool.createRunnerPool.runnerPool.id as string;
    await gqlOk(
      api,
      `mutation($i: CreateDeploymentInput!) { createDeployment(input: $i) { deployment { id } } }`,
      { i: { modelVersionId, runnerPoolId: poolId, stage: 'LIVE' } },
      owner.token,
    );
    const models = await api.gql(`{ models { nodes { id } } }`, {}, owner.token);
    shared = {
      token: owner.token,
      modelVersionId,
      poolId,
      modelId: models.data?.models.nodes[0].id,
    };
  }
  // Canaries of earlier calls would add up past a share of 1: retire them (setup, as the owner).
  await api.db.ownerPool.query(
    `UPDATE deployments SET status = 'retired' WHERE tenant_id = $1 AND stage = 'canary' AND status = 'active'`,
    [owner.tenantId],
  );
  const canary = await gqlOk(
    api,
    `mutation($i: CreateDeploymentInput!) { createDeployment(input: $i) { deployment { id } } }`,
    {
      i: {
        modelVersionId: shared.modelVersionId,
        runnerPoolId: shared.poolId,
        stage: 'CANARY',
        trafficShare: 0.01,
      },
    },
    owner.token,
  );
  return {
    tenantId: owner.tenantId,
    modelId: shared.modelId,
    modelVersionId: shared.modelVersionId,
    runnerPoolId: shared.poolId,
    canaryId: canary.createDeployment.deployment.id as string,
  };
}

/**
 * Stands in for a runner of the matrix's pool for a few seconds: answers the tenant's first
 * pending `infer` request (scores for labels a, b) so that the owner's infer succeeds.
 */
function answerOneInferRequest(api: TestApi, tenantId: string): void {
  const until = Date.now() + 10_000;
  const answer = async (): Promise<void> => {
    while (Date.now() < until) {
      const { rowCount } = await api.db.ownerPool.query(
        `UPDATE inference_requests SET status = 'done', completed_at = now(), latency_ms = 1,
                result = jsonb_build_object('requestId', id, 'scores', '[0.25, 0.75]'::jsonb,
                                            'label', 'b', 'confidence', 0.75, 'latencyMs', 1)
          WHERE tenant_id = $1 AND origin = 'infer' AND status = 'pending'`,
        [tenantId],
      );
      if (rowCount) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // The infer call under test reports a failure if nothing answers; a closed pool ends the loop.
  answer().catch(() => undefined);
}

const calls: DomainCalls = {
  fixture,
  calls: {
    models: { query: `{ models { nodes { name } } }` },
    model: {
      query: `query($id: ID!) { model(id: $id) { name } }`,
      variables: (f) => ({ id: f.modelId }),
    },
    modelVersion: {
      query: `query($id: ID!) { modelVersion(id: $id) { sha256 labels } }`,
      variables: (f) => ({ id: f.modelVersionId }),
    },
    runnerPools: { query: `{ runnerPools { name } }` },
    shadowReport: {
      query: `query($id: ID!) { shadowReport(deploymentId: $id) { compared } }`,
      variables: (f) => ({ id: f.canaryId }),
    },
    registerModelVersion: {
      query: REGISTER,
      variables: () => ({
        i: { model: 'matrix', fileBase64: MODEL_FILE, labels: ['a', 'b'], featurizer: FEATURIZER },
      }),
      audit: { action: 'model_version.registered' },
    },
    createRunnerPool: {
      query: `mutation($i: CreateRunnerPoolInput!) { createRunnerPool(input: $i) { token } }`,
      variables: () => ({ i: { name: `pool-${++counter}-${Date.now()}` } }),
      audit: { action: 'runner_pool.created' },
    },
    createDeployment: {
      query: `mutation($i: CreateDeploymentInput!) { createDeployment(input: $i) { deployment { stage } } }`,
      variables: (f) => ({
        i: { modelVersionId: f.modelVersionId, runnerPoolId: f.runnerPoolId, stage: 'SHADOW' },
      }),
      audit: { action: 'deployment.created' },
    },
    promoteDeployment: {
      query: `mutation($i: DeploymentIdInput!) { promoteDeployment(input: $i) { deployment { stage } } }`,
      variables: (f) => ({ i: { id: f.canaryId } }),
      audit: { action: 'deployment.promoted' },
    },
    rollbackDeployment: {
      query: `mutation($i: DeploymentIdInput!) { rollbackDeployment(input: $i) { deployment { status } } }`,
      variables: (f) => ({ i: { id: f.canaryId, reason: 'matrix' } }),
      audit: { action: 'deployment.rolled_back' },
    },
    infer: {
      // No runner serves the matrix's pool: an allowed caller gets the deadline error.
      query: `mutation($i: InferInput!) { infer(input: $i) { label } }`,
      variables: (f) => ({
        i: { model: 'matrix', input: [1, 2, 3, 4], deadlineMs: Number(f.inferDeadlineMs ?? 1) },
      }),
      allowedErrors: ['CONFLICT'],
      audit: {
        action: 'model.inferred',
        // The owner's call is answered (by a stand-in runner), so it succeeds.
        prepare: async (api, f) => {
          f.inferDeadlineMs = '5000';
          answerOneInferRequest(api, f.tenantId as string);
        },
      },
    },
  },
};

export default calls;
