import { randomUUID } from 'node:crypto';
import { abilityFor, loadPolicyFile } from '@roster/authz';
import { getRun, startRun } from '@roster/engine';
import { setDecisionPolicy } from '@roster/inference';
import { describe, expect, it } from 'vitest';
import {
  decisionWorkflow,
  LABELS,
  servingTenant,
  startDecisionWorker,
  startListeningApi,
  WIDTH,
  waitFor,
} from '../test/inference-fixtures.js';
import { ROLES_FILE } from './server.js';
import type { ReviewCaller } from './services/review-access.js';
import { reviewTask } from './services/review-presenter.js';
import { approveReviewTask, correctReviewTask } from './services/review-service.js';

// A low-confidence decision waits for a person in the review queue; their correction is stored
// beside the model's answer and the run completes with the human's label.
const { db, url } = await startListeningApi();
const policy = await loadPolicyFile(ROLES_FILE);
const { startRunner } = await startDecisionWorker(db, url);

/** A reviewer of the tenant (the queue named after their role is theirs), as services take them. */
async function reviewer(tenantId: string): Promise<ReviewCaller> {
  const userId = randomUUID();
  await db.ownerPool.query(
    'INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)',
    [userId, `${userId}@example.test`, 'Rita Reviewer', 'x'],
  );
  await db.ownerPool.query(
    `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'reviewer')`,
    [tenantId, userId],
  );
  const actor = { kind: 'member' as const, tenantId, memberId: userId, role: 'reviewer' };
  return {
    tenantId,
    userId,
    actor,
    policy,
    ability: abilityFor(policy, actor),
    audit: { actor: { type: 'member', id: userId }, traceId: null, requestId: null },
  };
}

const values = Array.from({ length: WIDTH }, (_, i) => (i % 3) - 1);

async function pendingDecision() {
  const t = await servingTenant(db);
  await startRunner(t);
  const workflowId = await decisionWorkflow(db, t.tenantId, { timeout: '1h' });
  // Nothing the model says is confident enough: every decision goes to a person.
  await setDecisionPolicy(db.appPool, t.tenantId, { workflowId, default: 1 });
  const { runId } = await startRun(db.appPool, t.tenantId, { workflowId, input: { values } });
  const taskId = await waitFor('the review task', async () => {
    const { rows } = await db.ownerPool.query(
      'SELECT id FROM review_tasks WHERE tenant_id = $1 AND run_id = $2',
      [t.tenantId, runId],
    );
    return rows[0]?.id as string | undefined;
  });
  return { tenantId: t.tenantId, runId, taskId };
}

async function finished(tenantId: string, runId: string) {
  return waitFor('the run to finish', async () => {
    const run = await getRun(db.appPool, tenantId, runId);
    return ['succeeded', 'failed'].includes(run.status) ? run : undefined;
  });
}

describe('decision review', () => {
  it("correct: the run completes with the human's label, the model's kept beside it", async () => {
    const { tenantId, runId, taskId } = await pendingDecision();
    const rita = await reviewer(tenantId);
    // No role on a decision step: the task waits in the 'reviewer' queue, Rita's by her role.
    const open = await reviewTask(db.appPool, rita, taskId);
    expect(open).toMatchObject({ queue: 'reviewer', status: 'open', labels: [...LABELS] });
    expect((await getRun(db.appPool, tenantId, runId)).status).toBe('waiting');
    const modelLabel = (open.data.decision as { label: string }).label;
    const human = LABELS.find((l) => l !== modelLabel) as string;

    const corrected = await correctReviewTask(db.appPool, rita, taskId, { label: human });
    expect(corrected).toMatchObject({ outcome: 'corrected', correctedOutput: { label: human } });
    const run = await finished(tenantId, runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toMatchObject({ label: human, decidedBy: 'human', modelLabel });
    const { rows } = await db.ownerPool.query(
      `SELECT d.label, d.human_label, t.status, t.data->'decision'->>'label' AS kept
         FROM decisions d JOIN review_tasks t ON t.tenant_id = d.tenant_id AND t.id = d.review_task_id
        WHERE d.tenant_id = $1 AND d.run_id = $2`,
      [tenantId, runId],
    );
    expect(rows).toEqual([
      { label: modelLabel, human_label: human, status: 'resolved', kept: modelLabel },
    ]);
  });

  it("approve: the run completes with the model's label, confirmed by a person", async () => {
    const { tenantId, runId, taskId } = await pendingDecision();
    const rita = await reviewer(tenantId);
    const open = await reviewTask(db.appPool, rita, taskId);
    const modelLabel = (open.data.decision as { label: string }).label;
    await approveReviewTask(db.appPool, rita, taskId);
    const run = await finished(tenantId, runId);
    expect(run.output).toMatchObject({ label: modelLabel, decidedBy: 'human', modelLabel });
  });
});
