// What happens when an engine decision request settles: the Decision is recorded in the same
// transaction as the runner's answer; at or above the policy threshold the run resumes with it,
// below it (or when no runner could score the input) the run opens a ReviewTask instead and a
// person's label replaces the model's. Shadow requests are stored and never touch a run.

import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { completeReviewTask, resumeStep } from '@roster/engine';
import {
  DEFAULT_GOVERNANCE_POLICY,
  effectiveGovernancePolicy,
  effectiveGovernancePolicyIn,
  type GovernancePolicy,
  type ThresholdOverride,
  thresholdsForScope,
  updateGovernancePolicy,
} from '@roster/governance';
import { type DecisionThresholds, decide } from '../decision.js';
import { InferenceError } from '../errors.js';
import { checkCanaries } from './deployments.js';
import type { SettledRequest } from './queue.js';

/** The built-in default review threshold (policies/governance.yaml `thresholds.default`). */
export const DEFAULT_THRESHOLDS: DecisionThresholds = {
  default: DEFAULT_GOVERNANCE_POLICY.thresholds.default,
};

/** What a decision step outputs (and what `steps.<id>` reads later in the run). */
export interface DecisionOutput {
  decisionId: string;
  label: string;
  confidence: number;
  scores: Record<string, number>;
  modelVersion: string;
  modelVersionId: string;
  fingerprint: string;
  threshold: number;
  decidedBy: 'model' | 'human';
  /** The model's own label when a person decided. */
  modelLabel?: string | null;
}

/** A run to move on once the settling transaction has committed. */
export interface Resume {
  runId: string;
  stepId: string;
  output: DecisionOutput;
}

type Queryable = Pick<PoolClient, 'query'>;

/**
 * The review thresholds of a decision of `model` in `workflowId`, from the tenant's governance
 * policy in force (read per call, so a saved change applies to the next decision): the most
 * specific threshold override wins (see @roster/governance resolveThreshold).
 */
export async function thresholdsFor(
  client: Queryable,
  tenantId: string,
  workflowId: string | null,
  model: string | null = null,
  options: { defaults?: GovernancePolicy } = {},
): Promise<DecisionThresholds> {
  const { policy } = await effectiveGovernancePolicyIn(client, tenantId, options);
  let workflowName: string | null = null;
  if (workflowId && policy.thresholds.overrides.some((o) => o.workflow !== undefined)) {
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM workflows WHERE tenant_id = $1 AND id = $2',
      [tenantId, workflowId],
    );
    workflowName = rows[0]?.name ?? null;
  }
  return thresholdsForScope(policy, { workflowId, workflowName, model });
}

/**
 * Sets the review thresholds of a workflow (or the tenant's default with workflowId null) by
 * saving a new version of the tenant's governance policy: the workflow's threshold overrides
 * (by id) are replaced, or `thresholds.default` is set. Kept for callers of the former
 * decision_policies table (the demo, tests); the GraphQL API edits the whole policy.
 */
export async function setDecisionPolicy(
  pool: Pool,
  tenantId: string,
  policy: { workflowId: string | null } & DecisionThresholds,
  options: { defaults?: GovernancePolicy; createdBy?: string } = {},
): Promise<void> {
  // decide() validates thresholds; run it once on a dummy score to reuse its checks.
  decide([1], ['x'], { default: policy.default, perLabel: policy.perLabel ?? {} });
  const current = await effectiveGovernancePolicy(pool, tenantId, options);
  const override = structuredClone(current.override ?? {}) as {
    thresholds?: { default?: number; overrides?: ThresholdOverride[] };
  };
  override.thresholds ??= {};
  const thresholds = override.thresholds;
  const perLabel = Object.entries(policy.perLabel ?? {});
  if (policy.workflowId === null) {
    thresholds.default = policy.default;
    if (perLabel.length > 0) {
      const kept = (thresholds.overrides ?? current.policy.thresholds.overrides).filter(
        (o) => o.workflow !== undefined || o.model !== undefined,
      );
      thresholds.overrides = [
        ...kept,
        ...perLabel.map(([label, threshold]) => ({ label, threshold })),
      ];
    }
  } else {
    const workflow = policy.workflowId;
    const kept = (thresholds.overrides ?? current.policy.thresholds.overrides).filter(
      (o) => o.workflow !== workflow,
    );
    thresholds.overrides = [
      ...kept,
      { workflow, threshold: policy.default },
      ...perLabel.map(([label, threshold]) => ({ workflow, label, threshold })),
    ];
  }
  const labels = perLabel.map(([l, t]) => `${l} ${t}`).join(', ');
  await updateGovernancePolicy(
    pool,
    tenantId,
    {
      document: override,
      expectedVersion: current.version,
      comment: `review thresholds of ${policy.workflowId ? `workflow ${policy.workflowId}` : 'the tenant'}: ${policy.default}${labels ? ` (per label: ${labels})` : ''}`,
      createdBy: options.createdBy ?? 'system',
    },
    options,
  );
}

async function versionInfo(client: Queryable, tenantId: string, versionId: string) {
  const { rows } = await client.query<{ labels: string[]; sha256: string; model: string }>(
    `SELECT v.labels, v.sha256, m.name AS model FROM model_versions v
       JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
      WHERE v.tenant_id = $1 AND v.id = $2`,
    [tenantId, versionId],
  );
  return rows[0]!;
}

async function openReview(
  client: Queryable,
  tenantId: string,
  r: SettledRequest,
  labels: string[],
  title: string,
  data: Record<string, unknown>,
): Promise<string | undefined> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO review_tasks (tenant_id, run_id, step_id, kind, title, data, labels, due_at)
     SELECT $1, $2, $3, 'review', $4, $5, $6, s.wake_at
       FROM step_runs s WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.step_id = $3 AND s.status = 'waiting'
     ON CONFLICT (tenant_id, run_id, step_id) DO NOTHING RETURNING id`,
    [tenantId, r.runId, r.stepId, title, data, labels],
  );
  return rows[0]?.id;
}

/**
 * Runs in the transaction that settled `settled`: records decisions and review tasks, checks
 * canaries. Returns the runs to resume after commit.
 */
export async function settleRequests(
  client: Queryable,
  tenantId: string,
  settled: SettledRequest[],
): Promise<Resume[]> {
  const resumes: Resume[] = [];
  for (const r of settled) {
    if (r.origin !== 'decision' || r.shadow || !r.runId || !r.stepId) continue;
    const { labels, sha256, model } = await versionInfo(client, tenantId, r.modelVersionId);
    let decision: ReturnType<typeof decide> | undefined;
    let problem = r.error?.message;
    if (r.status === 'done' && r.result) {
      try {
        decision = decide(
          r.result.scores,
          labels,
          (r.thresholds as DecisionThresholds | null) ?? DEFAULT_THRESHOLDS,
        );
      } catch (e) {
        problem = (e as Error).message;
      }
    }
    if (!decision) {
      await openReview(
        client,
        tenantId,
        r,
        labels,
        'Decide by hand: the model could not score this input',
        {
          reason: 'INFERENCE_FAILED',
          error: r.error ?? { code: 'SCORES_INVALID', message: problem },
          requestId: r.id,
          fingerprint: r.fingerprint,
        },
      );
      continue;
    }
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO decisions (tenant_id, run_id, step_id, request_id, deployment_id, model_version_id, label,
          confidence, scores, fingerprint, latency_ms, runner_id, threshold, auto_decided)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (tenant_id, run_id, step_id) DO UPDATE SET request_id = EXCLUDED.request_id,
          deployment_id = EXCLUDED.deployment_id, model_version_id = EXCLUDED.model_version_id,
          label = EXCLUDED.label, confidence = EXCLUDED.confidence, scores = EXCLUDED.scores,
          fingerprint = EXCLUDED.fingerprint, latency_ms = EXCLUDED.latency_ms, runner_id = EXCLUDED.runner_id,
          threshold = EXCLUDED.threshold, auto_decided = EXCLUDED.auto_decided, review_task_id = NULL,
          human_label = NULL, reviewed_at = NULL, created_at = now()
       RETURNING id`,
      [
        tenantId,
        r.runId,
        r.stepId,
        r.id,
        r.deploymentId,
        r.modelVersionId,
        decision.label,
        decision.confidence,
        decision.scores,
        r.fingerprint,
        r.latencyMs,
        r.runnerId,
        decision.threshold,
        decision.autoDecided,
      ],
    );
    const decisionId = rows[0]!.id;
    const output: DecisionOutput = {
      decisionId,
      label: decision.label,
      confidence: decision.confidence,
      scores: decision.scores,
      modelVersion: sha256,
      modelVersionId: r.modelVersionId,
      fingerprint: r.fingerprint,
      threshold: decision.threshold,
      decidedBy: 'model',
    };
    await client.query(
      `INSERT INTO audit_events (tenant_id, run_id, kind, data, subject_type, subject_id)
       VALUES ($1, $2, 'decision.recorded', $3, 'Decision', $4)`,
      [
        tenantId,
        r.runId,
        // The shape @roster/audit's reports read (AUDIT_ACTIONS.decisionRecorded).
        {
          model,
          modelVersion: sha256,
          label: decision.label,
          confidence: decision.confidence,
          threshold: decision.threshold,
          outcome: decision.autoDecided ? 'auto' : 'review',
          step: r.stepId,
          inputFingerprint: r.fingerprint,
        },
        decisionId,
      ],
    );
    if (decision.autoDecided) {
      resumes.push({ runId: r.runId, stepId: r.stepId, output });
    } else {
      const taskId = await openReview(
        client,
        tenantId,
        r,
        labels,
        `Review decision: ${decision.label} at ${(decision.confidence * 100).toFixed(1)}% (threshold ${(decision.threshold * 100).toFixed(1)}%)`,
        { reason: 'BELOW_THRESHOLD', decision: output },
      );
      if (taskId) {
        await client.query(
          'UPDATE decisions SET review_task_id = $3 WHERE tenant_id = $1 AND id = $2',
          [tenantId, decisionId, taskId],
        );
      }
    }
  }
  const deployments = settled
    .filter((r) => r.deploymentId && !r.shadow)
    .map((r) => r.deploymentId!);
  if (deployments.length > 0) await checkCanaries(client, tenantId, deployments);
  return resumes;
}

/** Moves the runs on; a step no longer waiting (timed out, cancelled) keeps its recorded decision. */
export async function applyResumes(
  pool: Pool,
  tenantId: string,
  resumes: Resume[],
  onError: (error: unknown, resume: Resume) => void = () => {},
): Promise<void> {
  for (const r of resumes) {
    try {
      await resumeStep(pool, tenantId, r.runId, r.stepId, r.output);
    } catch (error) {
      onError(error, r);
    }
  }
}

/**
 * Decisions that acted (auto-decided) but whose step still waits: the process that recorded them
 * stopped before it resumed the run. Older than `graceMs` so an in-flight resume is not raced.
 */
export async function pendingResumes(
  pool: Pool,
  tenantId: string,
  graceMs = 5000,
): Promise<Resume[]> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      id: string;
      run_id: string;
      step_id: string;
      label: string;
      confidence: number;
      scores: Record<string, number>;
      sha256: string;
      model_version_id: string;
      fingerprint: string;
      threshold: number;
    }>(
      `SELECT d.id, d.run_id, d.step_id, d.label, d.confidence, d.scores, v.sha256, d.model_version_id,
              d.fingerprint, d.threshold
         FROM decisions d
         JOIN step_runs s ON s.tenant_id = d.tenant_id AND s.run_id = d.run_id AND s.step_id = d.step_id
         JOIN model_versions v ON v.tenant_id = d.tenant_id AND v.id = d.model_version_id
        WHERE d.tenant_id = $1 AND d.auto_decided AND s.status = 'waiting'
          AND d.created_at < now() - make_interval(secs => $2)
        LIMIT 100`,
      [tenantId, graceMs / 1000],
    );
    return rows.map((d) => ({
      runId: d.run_id,
      stepId: d.step_id,
      output: {
        decisionId: d.id,
        label: d.label,
        confidence: d.confidence,
        scores: d.scores,
        modelVersion: d.sha256,
        modelVersionId: d.model_version_id,
        fingerprint: d.fingerprint,
        threshold: d.threshold,
        decidedBy: 'model' as const,
      },
    }));
  });
}

/**
 * A person's answer to a decision's review task: their label replaces the model's, the decision
 * records it, and the run moves on with it.
 */
export async function resolveDecisionReview(
  pool: Pool,
  tenantId: string,
  taskId: string,
  answer: { label: string },
): Promise<DecisionOutput> {
  const output = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      run_id: string;
      step_id: string;
      labels: string[] | null;
      data: { decision?: DecisionOutput; fingerprint?: string };
    }>(
      `SELECT run_id, step_id, labels, data FROM review_tasks WHERE tenant_id = $1 AND id = $2 AND status = 'open'`,
      [tenantId, taskId],
    );
    const task = rows[0];
    if (!task)
      throw new InferenceError('NOT_FOUND', `Open review task ${taskId} not found in this tenant.`);
    if (task.labels && !task.labels.includes(answer.label)) {
      throw new InferenceError(
        'INPUT_INVALID',
        `'${answer.label}' is not one of this model's labels (${task.labels.join(', ')}).`,
        { field: 'label' },
      );
    }
    const { rows: decided } = await client.query<{ id: string }>(
      `UPDATE decisions SET human_label = $4, reviewed_at = now()
        WHERE tenant_id = $1 AND run_id = $2 AND step_id = $3 RETURNING id`,
      [tenantId, task.run_id, task.step_id, answer.label],
    );
    const model = task.data.decision;
    return {
      ...(model ?? {
        decisionId: decided[0]?.id ?? '',
        confidence: 1,
        scores: {},
        modelVersion: '',
        modelVersionId: '',
        fingerprint: task.data.fingerprint ?? '',
        threshold: 1,
      }),
      label: answer.label,
      decidedBy: 'human' as const,
      modelLabel: model?.label ?? null,
    };
  });
  await completeReviewTask(pool, tenantId, taskId, output as unknown as Record<string, unknown>);
  return output;
}
