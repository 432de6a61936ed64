// Sending work to a tenant's pool: the engine's decision executor (enqueue, then the step waits
// without holding a job) and the synchronous `infer` path (enqueue, then poll up to a deadline).

import { randomUUID } from 'node:crypto';
import type { DecisionStep } from '@roster/core';
import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { type DecisionExecutor, StepFailure } from '@roster/engine';
import type { GovernancePolicy } from '@roster/governance';
import { decide, inputFingerprint } from '../decision.js';
import { InferenceError } from '../errors.js';
import { chooseDeployment } from '../rollout.js';
import { type InferenceInput, inferenceInputSchema } from '../runner-protocol.js';
import { thresholdsFor } from './decisions.js';
import { activeDeployments, type DeploymentRow } from './deployments.js';
import { enqueueRequest, requestState } from './queue.js';
import { modelByName } from './registry.js';

/** A step's input as a runner input: an InferenceInput, a raw email string, or a dense row. */
export function toInferenceInput(value: unknown): InferenceInput {
  if (typeof value === 'string') return { kind: 'email', raw: value };
  if (Array.isArray(value) && value.every((v) => typeof v === 'number'))
    return { kind: 'dense', values: value };
  const parsed = inferenceInputSchema.safeParse(value);
  if (!parsed.success) {
    throw new InferenceError(
      'INPUT_INVALID',
      "The model input must be a raw email string, an array of numbers, or { kind: 'email' | 'dense' | 'sparse', ... }.",
      { field: 'input' },
    );
  }
  return parsed.data;
}

async function servingDeployments(
  client: PoolClient,
  tenantId: string,
  modelName: string,
): Promise<DeploymentRow[]> {
  const model = await modelByName(client, tenantId, modelName);
  const deployments = await activeDeployments(client, tenantId, model.id);
  if (!deployments.some((d) => d.stage === 'live')) {
    throw new InferenceError(
      'DEPLOYMENTS_INVALID',
      `Model '${modelName}' has no live deployment: deploy a version to a runner pool first.`,
      { model: modelName },
    );
  }
  return deployments;
}

async function pinnedVersion(
  client: PoolClient,
  tenantId: string,
  live: DeploymentRow,
  version: number,
): Promise<DeploymentRow> {
  const { rows } = await client.query<{ id: string; sha256: string }>(
    'SELECT id, sha256 FROM model_versions WHERE tenant_id = $1 AND model_id = $2 AND version = $3',
    [tenantId, live.modelId, version],
  );
  if (!rows[0]) {
    throw new InferenceError('NOT_FOUND', `The model has no version ${version}.`, { version });
  }
  // A pinned version is served by the live deployment's pool, outside any rollout.
  return {
    ...live,
    modelVersionId: rows[0].id,
    sha256: rows[0].sha256,
    modelVersion: rows[0].sha256,
  };
}

/**
 * The engine's decision executor: enqueues the step's input for the model's serving deployment
 * (chosen per run/step by chooseDeployment, so retries see the same model) and for each shadow,
 * then returns `{ wait: true }`. The runner's answer resumes the step (see settleRequests).
 */
export function createDecisionExecutor(
  pool: Pool,
  options: {
    /** Governance defaults (policies/governance.yaml) loaded at boot; default: the built-in ones. */
    defaults?: GovernancePolicy;
  } = {},
): DecisionExecutor {
  return async (call) => {
    const step: DecisionStep = call.step;
    try {
      const input = toInferenceInput(call.input);
      const fingerprint = inputFingerprint(input);
      await withTenant(pool, call.tenantId, async ({ client }) => {
        const deployments = await servingDeployments(client, call.tenantId, step.model);
        const choice = chooseDeployment(deployments, call.idempotencyKey);
        const live = deployments.find((d) => d.stage === 'live')!;
        const serve = step.version
          ? { ...(await pinnedVersion(client, call.tenantId, live, step.version)), id: null }
          : (choice.serve as DeploymentRow);
        const { rows } = await client.query<{ workflow_id: string }>(
          'SELECT workflow_id FROM runs WHERE tenant_id = $1 AND id = $2',
          [call.tenantId, call.runId],
        );
        const workflowId = rows[0]?.workflow_id ?? null;
        const thresholds = await thresholdsFor(
          client,
          call.tenantId,
          workflowId,
          step.model,
          options,
        );
        const base = {
          input,
          fingerprint,
          origin: 'decision' as const,
          runId: call.runId,
          stepId: call.stepId,
          ...(workflowId ? { workflowId } : {}),
          thresholds,
          deadline: call.deadline,
        };
        await enqueueRequest(client, call.tenantId, {
          ...base,
          poolId: serve.poolId,
          deploymentId: serve.id,
          modelVersionId: serve.modelVersionId,
          sha256: serve.sha256,
          requestKey: `${call.idempotencyKey}/${call.attempt}`,
        });
        for (const shadow of choice.shadows as DeploymentRow[]) {
          await enqueueRequest(client, call.tenantId, {
            ...base,
            shadow: true,
            poolId: shadow.poolId,
            deploymentId: shadow.id,
            modelVersionId: shadow.modelVersionId,
            sha256: shadow.sha256,
            requestKey: `${call.idempotencyKey}/${call.attempt}/shadow/${shadow.id}`,
          });
        }
      });
    } catch (error) {
      if (error instanceof InferenceError && error.code !== 'CONFLICT') {
        throw new StepFailure(error.code, error.message, { fatal: true, cause: error });
      }
      throw error;
    }
    return { wait: true };
  };
}

export interface InferInput {
  model: string;
  input: unknown;
  /** How long to wait for a runner, ms. Default 2000, at most 30 000. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface InferResult {
  requestId: string;
  label: string;
  confidence: number;
  scores: Record<string, number>;
  modelVersion: string;
  modelVersionId: string;
  deploymentId: string;
  fingerprint: string;
  latencyMs: number | null;
  runnerId: string | null;
}

/** Enqueues one request and waits for its answer (DEADLINE_EXCEEDED when none comes in time). */
export async function inferSync(
  pool: Pool,
  tenantId: string,
  request: InferInput,
): Promise<InferResult> {
  const deadlineMs = request.deadlineMs ?? 2000;
  if (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > 30_000) {
    throw new InferenceError(
      'INPUT_INVALID',
      'deadlineMs must be a whole number from 1 to 30000.',
      {
        field: 'deadlineMs',
      },
    );
  }
  const input = toInferenceInput(request.input);
  const fingerprint = inputFingerprint(input);
  const deadline = new Date(Date.now() + deadlineMs);
  const { requestId, serve } = await withTenant(pool, tenantId, async ({ client }) => {
    const deployments = await servingDeployments(client, tenantId, request.model);
    const serve = chooseDeployment(deployments, randomUUID()).serve as DeploymentRow;
    const requestId = await enqueueRequest(client, tenantId, {
      poolId: serve.poolId,
      deploymentId: serve.id,
      modelVersionId: serve.modelVersionId,
      sha256: serve.sha256,
      input,
      fingerprint,
      origin: 'infer',
      deadline,
    });
    // Audited with the request it enqueues; the fingerprint stands for the input, which may be
    // personal data and never enters the trail. The actor columns default to the caller's context.
    await client.query(
      `INSERT INTO audit_events (tenant_id, kind, data, subject_type, subject_id)
       VALUES ($1, 'model.inferred', $2, 'Model', $3)`,
      [
        tenantId,
        {
          model: request.model,
          modelVersionId: serve.modelVersionId,
          modelVersion: serve.sha256,
          deploymentId: serve.id,
          requestId,
          fingerprint,
        },
        serve.modelId,
      ],
    );
    return { requestId, serve };
  });
  for (let wait = 5; ; wait = Math.min(wait * 2, 50)) {
    const state = await requestState(pool, tenantId, requestId);
    if (state?.status === 'done' && state.result) {
      const d = decide(state.result.scores, serve.labels, { default: 0 });
      return {
        requestId,
        label: d.label,
        confidence: d.confidence,
        scores: d.scores,
        modelVersion: serve.sha256,
        modelVersionId: serve.modelVersionId,
        deploymentId: serve.id,
        fingerprint,
        latencyMs: state.latencyMs,
        runnerId: state.runnerId,
      };
    }
    if (state?.status === 'failed') {
      throw new InferenceError(
        'INFERENCE_FAILED',
        `The runner could not score the input: ${state.error?.message ?? 'unknown error'}`,
        { reason: state.error?.code ?? 'INFERENCE_FAILED', requestId },
      );
    }
    const left = deadline.getTime() - Date.now();
    if (left <= 0 || request.signal?.aborted) break;
    await new Promise((r) => setTimeout(r, Math.min(wait, left)));
  }
  await withTenant(pool, tenantId, ({ client }) =>
    client.query(
      `UPDATE inference_requests SET status = 'failed', completed_at = now(), lease_owner = NULL,
              error = '{"code":"DEADLINE_EXCEEDED","message":"The caller stopped waiting."}'
        WHERE tenant_id = $1 AND id = $2 AND status IN ('pending', 'leased')`,
      [tenantId, requestId],
    ),
  );
  throw new InferenceError(
    'DEADLINE_EXCEEDED',
    `No runner answered within ${deadlineMs} ms: check that a runner of the model's pool is up (roster up starts one for the demo), or allow a longer deadlineMs.`,
    { reason: 'DEADLINE_EXCEEDED', requestId },
  );
}
