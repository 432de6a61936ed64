import type { AddressInfo } from 'node:net';
import { Runner, RunnerClient } from '@roster/gpu-runners';
import { exportDenseMlpOnnx, sha256Hex } from '@roster/inference';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// The inference operations through GraphQL, with a real runner answering `infer` over /runner/v1.
const api = await startTestApi();
await api.app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
const runners: Runner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
});

const model = exportDenseMlpOnnx({ layers: [4, 8, 2], seed: 21 });
const featurizer = { kind: 'dense', version: 1, width: 4 };
const REGISTER = `mutation($i: RegisterModelVersionInput!) {
  registerModelVersion(input: $i) { modelVersion { id version sha256 labels signature } } }`;

async function servingOwner() {
  const owner = await api.signUp('Models');
  const version = await api.gql(
    REGISTER,
    {
      i: {
        model: 'triage',
        fileBase64: Buffer.from(model).toString('base64'),
        labels: ['ham', 'spam'],
        featurizer,
        metrics: { accuracy: 0.97 },
      },
    },
    owner.token,
  );
  const pool = await api.gql(
    `mutation { createRunnerPool(input: { name: "cpu", maxBatch: 16 }) { token runnerPool { id name } } }`,
    {},
    owner.token,
  );
  const live = await api.gql(
    `mutation($i: CreateDeploymentInput!) { createDeployment(input: $i) { deployment { id stage status } } }`,
    {
      i: {
        modelVersionId: version.data?.registerModelVersion.modelVersion.id,
        runnerPoolId: pool.data?.createRunnerPool.runnerPool.id,
        stage: 'LIVE',
      },
    },
    owner.token,
  );
  return { owner, version, pool, live };
}

describe('inference over GraphQL', () => {
  it('refuses a file that is not ONNX with BAD_USER_INPUT and a message that says what to upload', async () => {
    const owner = await api.signUp('Refused');
    const r = await api.gql(
      REGISTER,
      {
        i: {
          model: 'triage',
          fileBase64: Buffer.from('{"weights": [1, 2, 3]}').toString('base64'),
          labels: ['a', 'b'],
          featurizer,
        },
      },
      owner.token,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain('not a loadable ONNX model');
  });

  it('registers a version with its signature, shows the pool token once, and infers synchronously', async () => {
    const { owner, version, pool, live } = await servingOwner();
    expect(version.data?.registerModelVersion.modelVersion).toMatchObject({
      version: 1,
      sha256: sha256Hex(model),
      labels: ['ham', 'spam'],
      signature: { inputs: [{ type: 'float32', dims: ['batch', 4] }] },
    });
    expect(live.data?.createDeployment.deployment).toMatchObject({
      stage: 'LIVE',
      status: 'ACTIVE',
    });
    const token = pool.data?.createRunnerPool.token as string;
    expect(token).toMatch(/^rp_/);
    const pools = await api.gql('{ runnerPools { name maxBatch } }', {}, owner.token);
    expect(pools.data?.runnerPools).toEqual([{ name: 'cpu', maxBatch: 16 }]);
    expect(JSON.stringify(pools)).not.toContain(token);

    const runner = new Runner({
      client: new RunnerClient({ baseUrl: url, poolToken: token }),
      name: 'graphql-test',
      version: 'test',
      claimWaitMs: 200,
      backoff: { initialMs: 10, maxMs: 100 },
    });
    await runner.start();
    runners.push(runner);
    const r = await api.gql(
      `mutation($i: InferInput!) { infer(input: $i) { label confidence scores modelVersion fingerprint latencyMs } }`,
      { i: { model: 'triage', input: [0.5, -1, 2, 0], deadlineMs: 10_000 } },
      owner.token,
    );
    expect(r.errors).toBeUndefined();
    const result = r.data?.infer;
    expect(['ham', 'spam']).toContain(result.label);
    expect(result.modelVersion).toBe(sha256Hex(model));
    expect(result.scores.ham + result.scores.spam).toBeCloseTo(1, 5);
    expect(result.confidence).toBe(Math.max(result.scores.ham, result.scores.spam));
    expect(result.fingerprint).toMatch(/^[0-9a-f]{64}$/);

    // Another tenant cannot reach this model by name.
    const other = await api.signUp('Other');
    const foreign = await api.gql(
      `mutation($i: InferInput!) { infer(input: $i) { label } }`,
      { i: { model: 'triage', input: [0, 0, 0, 0], deadlineMs: 100 } },
      other.token,
    );
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('promotes and rolls back deployments, each audited with the caller', async () => {
    const { owner, version, pool } = await servingOwner();
    const create = (stage: string) =>
      api.gql(
        `mutation($i: CreateDeploymentInput!) { createDeployment(input: $i) { deployment { id stage status } } }`,
        {
          i: {
            modelVersionId: version.data?.registerModelVersion.modelVersion.id,
            runnerPoolId: pool.data?.createRunnerPool.runnerPool.id,
            stage,
            ...(stage === 'CANARY' ? { trafficShare: 0.2 } : {}),
          },
        },
        owner.token,
      );
    const canary = (await create('CANARY')).data?.createDeployment.deployment;
    const shadow = (await create('SHADOW')).data?.createDeployment.deployment;
    const promoted = await api.gql(
      `mutation($i: DeploymentIdInput!) { promoteDeployment(input: $i) { deployment { stage status } } }`,
      { i: { id: canary.id } },
      owner.token,
    );
    expect(promoted.data?.promoteDeployment.deployment).toEqual({
      stage: 'LIVE',
      status: 'ACTIVE',
    });
    const rolled = await api.gql(
      `mutation($i: DeploymentIdInput!) { rollbackDeployment(input: $i) { deployment { status statusReason } } }`,
      { i: { id: shadow.id, reason: 'disagrees with reviewers' } },
      owner.token,
    );
    expect(rolled.data?.rollbackDeployment.deployment).toEqual({
      status: 'ROLLED_BACK',
      statusReason: 'disagrees with reviewers',
    });
    const audit = await api.db.ownerPool.query(
      `SELECT kind, actor_type, actor_id FROM audit_events
        WHERE tenant_id = $1 AND kind IN ('deployment.promoted', 'deployment.rolled_back') ORDER BY id`,
      [owner.tenantId],
    );
    expect(audit.rows).toEqual([
      { kind: 'deployment.promoted', actor_type: 'member', actor_id: owner.userId },
      { kind: 'deployment.rolled_back', actor_type: 'member', actor_id: owner.userId },
    ]);
  });
});
