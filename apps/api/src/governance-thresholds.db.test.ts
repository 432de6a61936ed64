import { randomUUID } from 'node:crypto';
import { ExecutorRegistry, getRun, startRun } from '@roster/engine';
import { effectiveGovernancePolicy, updateGovernancePolicy } from '@roster/governance';
import { Runner, RunnerClient } from '@roster/gpu-runners';
import { createDecisionExecutor } from '@roster/inference';
import { type RunningWorkerPool, runWorkerPool } from '@roster/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { servingTenant, startListeningApi, WIDTH } from '../test/inference-fixtures.js';

// A saved governance policy applies to the next decision of a worker that keeps running: no
// restart, no cache to clear.
const { db, url } = await startListeningApi();
const worker: RunningWorkerPool = await runWorkerPool({
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

async function decisionWorkflow(tenantId: string, name: string): Promise<string> {
  const id = randomUUID();
  await db.ownerPool.query(
    'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
    [tenantId, id, name],
  );
  await db.ownerPool.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [
      tenantId,
      id,
      {
        start: 'classify',
        steps: {
          classify: { type: 'decision', model: 'triage', input: 'input.values', end: true },
        },
        output: 'steps.classify.output',
      },
    ],
  );
  return id;
}

const values = Array.from({ length: WIDTH }, (_, i) => (i % 3) - 1);

async function settled(tenantId: string, runId: string) {
  const end = Date.now() + 30_000;
  for (;;) {
    const run = await getRun(db.appPool, tenantId, runId);
    const { rows } = await db.ownerPool.query(
      'SELECT threshold, auto_decided FROM decisions WHERE tenant_id = $1 AND run_id = $2',
      [tenantId, runId],
    );
    // An auto decision resumes the run after its commit; a review leaves it waiting.
    const decision = rows[0];
    if (decision && run.status === (decision.auto_decided ? 'succeeded' : 'waiting')) {
      return { status: run.status, ...decision };
    }
    if (Date.now() > end) throw new Error(`run ${runId} did not settle`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function save(tenantId: string, document: Record<string, unknown>) {
  const { version } = await effectiveGovernancePolicy(db.appPool, tenantId);
  await updateGovernancePolicy(db.appPool, tenantId, {
    document,
    expectedVersion: version,
    createdBy: 'test',
  });
}

describe('review thresholds from the governance policy', () => {
  it('a changed threshold applies to the next decision without a restart', async () => {
    const t = await servingTenant(db);
    const runner = new Runner({
      client: new RunnerClient({ baseUrl: url, poolToken: t.token }),
      name: 'gov-runner',
      version: 'test',
      claimWaitMs: 200,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    await runner.start();
    runners.push(runner);
    const workflowId = await decisionWorkflow(t.tenantId, 'Inbox');

    await save(t.tenantId, { thresholds: { default: 0 } });
    const first = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    expect(await settled(t.tenantId, first.runId)).toMatchObject({
      status: 'succeeded',
      threshold: 0,
      auto_decided: true,
    });

    // Same worker, same process: the model now needs full confidence, so a person reviews.
    await save(t.tenantId, {
      thresholds: { default: 0, overrides: [{ model: 'triage', threshold: 1 }] },
    });
    const second = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    expect(await settled(t.tenantId, second.runId)).toMatchObject({
      status: 'waiting',
      threshold: 1,
      auto_decided: false,
    });

    // The workflow (by name) is more specific than the model.
    await save(t.tenantId, {
      thresholds: {
        default: 1,
        overrides: [
          { model: 'triage', threshold: 1 },
          { workflow: 'inbox', threshold: 0.001 },
        ],
      },
    });
    const third = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
    expect(await settled(t.tenantId, third.runId)).toMatchObject({
      status: 'succeeded',
      threshold: 0.001,
    });
  });
});
