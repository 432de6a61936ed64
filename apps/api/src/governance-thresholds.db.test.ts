import { getRun, startRun } from '@roster/engine';
import { effectiveGovernancePolicy, updateGovernancePolicy } from '@roster/governance';
import { describe, expect, it } from 'vitest';
import {
  decisionWorkflow,
  servingTenant,
  startDecisionWorker,
  startListeningApi,
  WIDTH,
} from '../test/inference-fixtures.js';

// A saved governance policy applies to the next decision of a worker that keeps running: no
// restart, no cache to clear.
const { db, url } = await startListeningApi();
const { startRunner } = await startDecisionWorker(db, url);

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
    await startRunner(t);
    const workflowId = await decisionWorkflow(db, t.tenantId, { name: 'Inbox' });

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
