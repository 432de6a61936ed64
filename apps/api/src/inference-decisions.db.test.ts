import { getRun, startRun } from '@roster/engine';
import {
  createDeployment,
  createRunnerService,
  inputFingerprint,
  registerModelVersion,
  resolveDecisionReview,
  setDecisionPolicy,
  shadowComparison,
} from '@roster/inference';
import { describe, expect, it } from 'vitest';
import {
  decisionWorkflow,
  denseModel,
  enqueueDense,
  LABELS,
  servingTenant,
  startDecisionWorker,
  startListeningApi,
  WIDTH,
  waitFor,
} from '../test/inference-fixtures.js';

// Decision steps end to end: engine worker -> inference request -> runner over /runner/v1 ->
// decision recorded -> the run resumes, or a review task opens below the threshold. Rollouts:
// a canary rolls back on injected errors; a shadow never changes a run.
const { db, url } = await startListeningApi();
const { startRunner } = await startDecisionWorker(db, url);

const values = Array.from({ length: WIDTH }, (_, i) => (i % 3) - 1);

async function runUntil(tenantId: string, runId: string, statuses: string[]) {
  return waitFor(`run ${runId} to be ${statuses.join('/')}`, async () => {
    const run = await getRun(db.appPool, tenantId, runId);
    return statuses.includes(run.status) ? run : undefined;
  });
}

async function decisionOf(tenantId: string, runId: string) {
  const { rows } = await db.ownerPool.query(
    'SELECT * FROM decisions WHERE tenant_id = $1 AND run_id = $2',
    [tenantId, runId],
  );
  return rows[0];
}

describe('decision steps', () => {
  it('at or above the threshold: records the decision and the run resumes with it', async () => {
    const t = await servingTenant(db);
    await startRunner(t);
    const workflowId = await decisionWorkflow(db, t.tenantId, { timeout: '1h' });
    await setDecisionPolicy(db.appPool, t.tenantId, { workflowId, default: 0 });
    const { runId } = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    const run = await runUntil(t.tenantId, runId, ['succeeded', 'failed', 'dead_lettered']);
    expect(run.status).toBe('succeeded');
    const decision = await decisionOf(t.tenantId, runId);
    expect(decision).toMatchObject({
      step_id: 'classify',
      model_version_id: t.versionId,
      fingerprint: inputFingerprint({ kind: 'dense', values }),
      auto_decided: true,
    });
    expect(LABELS).toContain(decision.label);
    expect(Object.keys(decision.scores).sort()).toEqual([...LABELS].sort());
    expect(decision.runner_id).not.toBeNull();
    expect(decision.latency_ms).toBeGreaterThan(0);
    expect(run.output).toMatchObject({
      label: decision.label,
      confidence: decision.confidence,
      modelVersion: t.sha256,
      decidedBy: 'model',
    });
    const audit = await db.ownerPool.query(
      `SELECT data FROM audit_events WHERE tenant_id = $1 AND run_id = $2 AND kind = 'decision.recorded'`,
      [t.tenantId, runId],
    );
    expect(audit.rows).toEqual([
      {
        data: expect.objectContaining({
          model: 'triage',
          modelVersion: t.sha256,
          label: decision.label,
          outcome: 'auto',
          threshold: 0,
          inputFingerprint: inputFingerprint({ kind: 'dense', values }),
        }),
      },
    ]);
  });

  it('below the threshold: opens a review task instead, and a person’s label replaces the model’s', async () => {
    const t = await servingTenant(db);
    await startRunner(t);
    const workflowId = await decisionWorkflow(db, t.tenantId, { timeout: '1h' });
    // The tenant default would act; this workflow's policy asks for more than the model gives.
    await setDecisionPolicy(db.appPool, t.tenantId, { workflowId: null, default: 0 });
    await setDecisionPolicy(db.appPool, t.tenantId, { workflowId, default: 0.9999 });
    const { runId } = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    const task = await waitFor('a review task', async () => {
      const { rows } = await db.ownerPool.query(
        `SELECT id, labels, data, status FROM review_tasks WHERE tenant_id = $1 AND run_id = $2`,
        [t.tenantId, runId],
      );
      return rows[0];
    });
    expect(task).toMatchObject({ status: 'open', labels: [...LABELS] });
    expect(task.data).toMatchObject({ reason: 'BELOW_THRESHOLD' });
    expect((await getRun(db.appPool, t.tenantId, runId)).status).toBe('waiting');
    const modelLabel = (await decisionOf(t.tenantId, runId)).label as string;
    const human = LABELS.find((l) => l !== modelLabel)!;

    await resolveDecisionReview(db.appPool, t.tenantId, task.id, { label: human });
    const run = await runUntil(t.tenantId, runId, ['succeeded', 'failed']);
    expect(run.output).toMatchObject({ label: human, decidedBy: 'human', modelLabel });
    expect(await decisionOf(t.tenantId, runId)).toMatchObject({
      auto_decided: false,
      label: modelLabel,
      human_label: human,
    });
  });

  it('per-label thresholds override the workflow default', async () => {
    const t = await servingTenant(db);
    await startRunner(t);
    const workflowId = await decisionWorkflow(db, t.tenantId, { timeout: '1h' });
    await setDecisionPolicy(db.appPool, t.tenantId, {
      workflowId,
      default: 1,
      perLabel: { ham: 0, spam: 0 },
    });
    const { runId } = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    expect((await runUntil(t.tenantId, runId, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect((await decisionOf(t.tenantId, runId)).threshold).toBe(0);
  });
});

describe('a decision no runner could score', () => {
  it('opens a review task (the run is never lost to a model failure)', async () => {
    const t = await servingTenant(db);
    const workflowId = await decisionWorkflow(db, t.tenantId, { timeout: '1h' });
    await setDecisionPolicy(db.appPool, t.tenantId, { workflowId, default: 0 });
    const { runId } = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    await runUntil(t.tenantId, runId, ['waiting']);
    const service = createRunnerService(db.appPool);
    const who = await service.authenticate(t.token);
    const { runnerId } = await service.register(who, {
      name: 'broken',
      version: 't',
      capabilities: { providers: ['cpu'], memoryBytes: 1, maxBatch: 1, threads: 1 },
    });
    const { items } = await waitFor('the request to be claimable', async () => {
      const out = await service.claim(who, { runnerId, maxItems: 1, leaseSeconds: 30, waitMs: 0 });
      return out.items.length > 0 ? out : undefined;
    });
    await service.complete(who, {
      runnerId,
      results: [],
      errors: [
        {
          requestId: items[0]!.requestId,
          code: 'INPUT_INVALID',
          message: 'bad row',
          retryable: false,
        },
      ],
    });
    const { rows } = await db.ownerPool.query(
      'SELECT status, labels, data FROM review_tasks WHERE tenant_id = $1 AND run_id = $2',
      [t.tenantId, runId],
    );
    expect(rows).toEqual([
      {
        status: 'open',
        labels: [...LABELS],
        data: expect.objectContaining({ reason: 'INFERENCE_FAILED' }),
      },
    ]);
    expect((await getRun(db.appPool, t.tenantId, runId)).status).toBe('waiting');
  });
});

describe('a decision recorded by a process that stopped before resuming the run', () => {
  it('is acted on by the next claim of the pool', async () => {
    const t = await servingTenant(db);
    const workflowId = await decisionWorkflow(db, t.tenantId, { timeout: '1h' });
    await setDecisionPolicy(db.appPool, t.tenantId, { workflowId, default: 0 });
    const { runId } = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    await runUntil(t.tenantId, runId, ['waiting']);
    const { rows } = await db.ownerPool.query(
      `SELECT id, fingerprint FROM inference_requests WHERE tenant_id = $1 AND run_id = $2`,
      [t.tenantId, runId],
    );
    // What settleRequests committed before the crash: the decision, request done, no resume.
    await db.ownerPool.query(
      `UPDATE inference_requests SET status = 'done' WHERE tenant_id = $1 AND id = $2`,
      [t.tenantId, rows[0].id],
    );
    await db.ownerPool.query(
      `INSERT INTO decisions (tenant_id, run_id, step_id, request_id, model_version_id, label, confidence,
          scores, fingerprint, threshold, auto_decided, created_at)
       VALUES ($1, $2, 'classify', $3, $4, 'spam', 0.7, '{"ham":0.3,"spam":0.7}', $5, 0, true, now() - interval '1 minute')`,
      [t.tenantId, runId, rows[0].id, t.versionId, rows[0].fingerprint],
    );
    const service = createRunnerService(db.appPool, { resumeSweepMs: 0 });
    const who = await service.authenticate(t.token);
    const { runnerId } = await service.register(who, {
      name: 'sweeper',
      version: 't',
      capabilities: { providers: ['cpu'], memoryBytes: 1, maxBatch: 1, threads: 1 },
    });
    await service.claim(who, { runnerId, maxItems: 1, leaseSeconds: 5, waitMs: 0 });
    const run = await runUntil(t.tenantId, runId, ['succeeded', 'failed']);
    expect(run.output).toMatchObject({ label: 'spam', decidedBy: 'model' });
  });
});

describe('rollouts', () => {
  it('a shadow deployment scores the input but never changes the run', async () => {
    const t = await servingTenant(db);
    await startRunner(t);
    const shadowVersion = await registerModelVersion(db.appPool, t.tenantId, {
      model: 'triage',
      bytes: denseModel(99),
      labels: [...LABELS],
      featurizer: { kind: 'dense', version: 1, width: WIDTH },
    });
    const shadow = await createDeployment(db.appPool, t.tenantId, {
      modelVersionId: shadowVersion.id,
      poolId: t.poolId,
      stage: 'shadow',
    });
    const workflowId = await decisionWorkflow(db, t.tenantId, { timeout: '1h' });
    await setDecisionPolicy(db.appPool, t.tenantId, { workflowId, default: 0 });
    const { runId } = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    const run = await runUntil(t.tenantId, runId, ['succeeded', 'failed']);
    const shadowResult = await waitFor('the shadow result', async () => {
      const { rows } = await db.ownerPool.query(
        `SELECT status, result, model_version_id FROM inference_requests
          WHERE tenant_id = $1 AND run_id = $2 AND shadow AND status = 'done'`,
        [t.tenantId, runId],
      );
      return rows[0];
    });
    expect(shadowResult.model_version_id).toBe(shadowVersion.id);
    expect(shadowResult.result.scores).toHaveLength(2);
    // The run acted on live only: one decision, from the live version, one step execution.
    expect(run.output).toMatchObject({ modelVersionId: t.versionId });
    const decisions = await db.ownerPool.query(
      'SELECT model_version_id FROM decisions WHERE tenant_id = $1 AND run_id = $2',
      [t.tenantId, runId],
    );
    expect(decisions.rows).toEqual([{ model_version_id: t.versionId }]);
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([['classify', 'succeeded']]);
    const report = await shadowComparison(db.appPool, t.tenantId, shadow.id);
    expect(report).toMatchObject({ compared: 1, reviewed: 0, shadowHumanAgreement: null });
    expect(report.agreementWithLive).toBe(
      shadowResult.result.label === (run.output as { label: string }).label ? 1 : 0,
    );
  });

  it('a canary rolls back by itself when its error rate passes the limit, audited', async () => {
    const t = await servingTenant(db);
    const canaryVersion = await registerModelVersion(db.appPool, t.tenantId, {
      model: 'triage',
      bytes: denseModel(5),
      labels: [...LABELS],
      featurizer: { kind: 'dense', version: 1, width: WIDTH },
    });
    const canary = await createDeployment(db.appPool, t.tenantId, {
      modelVersionId: canaryVersion.id,
      poolId: t.poolId,
      stage: 'canary',
      trafficShare: 0.5,
      rollback: { minRequests: 5, maxErrorRate: 0.2 },
    });
    const ids = await enqueueDense(db.appPool, { ...t, deploymentId: canary.id }, 10);
    // A runner whose canary model fails: errors injected through the protocol.
    const service = createRunnerService(db.appPool);
    const who = await service.authenticate(t.token);
    const { runnerId } = await service.register(who, {
      name: 'faulty',
      version: 't',
      capabilities: { providers: ['cpu'], memoryBytes: 1, maxBatch: 10, threads: 1 },
    });
    const claimed = await service.claim(who, {
      runnerId,
      maxItems: 10,
      leaseSeconds: 30,
      waitMs: 0,
    });
    expect(claimed.items.map((i) => i.requestId).sort()).toEqual([...ids].sort());
    const status = async () =>
      (
        await db.ownerPool.query('SELECT status, status_reason FROM deployments WHERE id = $1', [
          canary.id,
        ])
      ).rows[0];
    // Four healthy answers: still collecting (minRequests 5).
    await service.complete(who, {
      runnerId,
      results: ids.slice(0, 4).map((requestId) => ({
        requestId,
        scores: [0.6, 0.4],
        label: 'ham',
        confidence: 0.6,
        latencyMs: 1,
      })),
      errors: [],
    });
    expect((await status()).status).toBe('active');
    await service.complete(who, {
      runnerId,
      results: [],
      errors: ids.slice(4, 6).map((requestId) => ({
        requestId,
        code: 'RUNTIME_ERROR',
        message: 'injected',
        retryable: false,
      })),
    });
    const after = await status();
    expect(after.status).toBe('rolled_back');
    expect(after.status_reason).toContain('error rate');
    const audit = await db.ownerPool.query(
      `SELECT data FROM audit_events WHERE tenant_id = $1 AND kind = 'deployment.rolled_back' AND subject_id = $2`,
      [t.tenantId, canary.id],
    );
    expect(audit.rows).toEqual([
      { data: expect.objectContaining({ automatic: true, metric: 'error_rate' }) },
    ]);
  });
});
