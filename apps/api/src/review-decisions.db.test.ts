import { randomUUID } from 'node:crypto';
import { abilityFor, loadPolicyFile } from '@roster/authz';
import { ExecutorRegistry, getRun, startRun } from '@roster/engine';
import { Runner, RunnerClient } from '@roster/gpu-runners';
import { createDecisionExecutor, setDecisionPolicy } from '@roster/inference';
import { type RunningWorkerPool, runWorkerPool } from '@roster/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { LABELS, servingTenant, startListeningApi, WIDTH } from '../test/inference-fixtures.js';
import { ROLES_FILE } from './server.js';
import type { ReviewCaller } from './services/review-access.js';
import { reviewTask } from './services/review-presenter.js';
import { approveReviewTask, correctReviewTask } from './services/review-service.js';

// A low-confidence decision waits for a person in the review queue; their correction is stored
// beside the model's answer and the run completes with the human's label.
const { db, url } = await startListeningApi();
const policy = await loadPolicyFile(ROLES_FILE);
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

async function decisionWorkflow(tenantId: string): Promise<string> {
  const id = randomUUID();
  await db.ownerPool.query(
    'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
    [tenantId, id, `wf-${id.slice(0, 8)}`],
  );
  await db.ownerPool.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [
      tenantId,
      id,
      {
        start: 'classify',
        steps: {
          classify: {
            type: 'decision',
            model: 'triage',
            input: 'input.values',
            timeout: '1h',
            end: true,
          },
        },
        output: 'steps.classify.output',
      },
    ],
  );
  return id;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const values = Array.from({ length: WIDTH }, (_, i) => (i % 3) - 1);

async function pendingDecision() {
  const t = await servingTenant(db);
  const runner = new Runner({
    client: new RunnerClient({ baseUrl: url, poolToken: t.token }),
    name: `runner-${t.tenantId.slice(0, 8)}`,
    version: 'test',
    claimWaitMs: 200,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  await runner.start();
  runners.push(runner);
  const workflowId = await decisionWorkflow(t.tenantId);
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
