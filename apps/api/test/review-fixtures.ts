import { randomUUID } from 'node:crypto';
import type { Pool } from '@roster/db';

/** A workflow whose only step is a review (or approval) step; the version's definition as given. */
export async function reviewWorkflow(
  ownerPool: Pool,
  tenantId: string,
  step: Record<string, unknown> = { type: 'review', title: 'Check it', labels: ['ham', 'spam'] },
): Promise<string> {
  const id = randomUUID();
  await ownerPool.query(
    'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
    [tenantId, id, `review-${id.slice(0, 8)}`],
  );
  await ownerPool.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [
      tenantId,
      id,
      {
        start: 'check',
        steps: { check: { timeout: '1d', ...step, end: true } },
        output: 'steps.check.output',
      },
    ],
  );
  return id;
}

/**
 * A run of `workflowId` waiting in its review step with an open task, as the engine leaves it
 * (no worker needed): what completeReviewTask resumes. `createdBy` is the run's initiator.
 */
export async function waitingReviewTask(
  ownerPool: Pool,
  tenantId: string,
  workflowId: string,
  options: {
    queue?: string;
    createdBy?: string | null;
    kind?: 'review' | 'approval';
    labels?: string[];
  } = {},
): Promise<{ runId: string; taskId: string }> {
  const runId = randomUUID();
  await ownerPool.query(
    `INSERT INTO runs (tenant_id, id, workflow_id, workflow_version, status, started_at, deadline_at)
     VALUES ($1, $2, $3, 1, 'waiting', now(), now() + interval '1 day')`,
    [tenantId, runId, workflowId],
  );
  if (options.createdBy) {
    // runs.created_by: who started the run (the four-eyes initiator).
    await ownerPool.query('UPDATE runs SET created_by = $3 WHERE tenant_id = $1 AND id = $2', [
      tenantId,
      runId,
      options.createdBy,
    ]);
  }
  await ownerPool.query(
    `INSERT INTO step_runs (tenant_id, run_id, step_id, status, attempt, wake_at)
     VALUES ($1, $2, 'check', 'waiting', 1, now() + interval '1 day')`,
    [tenantId, runId],
  );
  const { rows } = await ownerPool.query<{ id: string }>(
    `INSERT INTO review_tasks (tenant_id, run_id, step_id, kind, title, labels, queue, due_at)
     VALUES ($1, $2, 'check', $3, 'Check it', $4, $5, now() + interval '1 day') RETURNING id`,
    [
      tenantId,
      runId,
      options.kind ?? 'review',
      options.labels ?? ['ham', 'spam'],
      options.queue ?? null,
    ],
  );
  return { runId, taskId: (rows[0] as { id: string }).id };
}

export const globalId = (type: string, id: string) =>
  Buffer.from(`${type}:${id}`).toString('base64url');
