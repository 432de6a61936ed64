// The governance policy applied to connector steps, around the plugin host's executor:
// - an action the policy's `approvals` list names waits for an approval task before it runs
//   (the step waits; decideConnectorApproval answers it and runs the step again, which then
//   calls the connector, or fails it on a rejection);
// - an action of a connector the policy marks `external` gets its input redacted.
import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { type ConnectorExecutor, rerunWaitingStep, StepFailure } from '@roster/engine';
import { GovernanceError } from '../errors.js';
import { createRedactor, type JsonValue } from '../redaction/redact-value.js';
import { actionMatches } from './action-patterns.js';
import type { ApprovalRule, GovernancePolicy, RedactionPolicy } from './schema.js';
import { effectiveGovernancePolicyIn } from './store.js';

/** `review_tasks.data.gate` of the approval tasks this module opens. */
export const CONNECTOR_APPROVAL_GATE = 'connectorAction';

export interface ConnectorApprovalData {
  gate: typeof CONNECTOR_APPROVAL_GATE;
  /** `pluginId.actionId`. */
  action: string;
  /** The input the connector will get (redacted). */
  input: JsonValue;
  fourEyes: boolean;
  /** Who approved so far (four-eyes needs two different people). */
  approvals: Array<{ by: string; at: string; comment?: string | null }>;
}

/** The redaction rules of a policy's `redaction` section, for createRedactor. */
export function redactionRulesOf(redaction: RedactionPolicy) {
  return {
    kinds: redaction.detectors,
    maskPaths: redaction.maskPaths,
    phoneRegions: redaction.phoneRegions,
    ...(redaction.replacement === 'mask' && { replacement: '[redacted]' }),
  };
}

/** The first approval rule naming `plugin.action`, if any. */
export function approvalRuleFor(
  policy: GovernancePolicy,
  pluginId: string,
  actionId: string,
): ApprovalRule | undefined {
  return policy.approvals.connectorActions.find((r) => actionMatches(r.action, pluginId, actionId));
}

/** Whether the policy marks `plugin.action` as leaving the tenant's trust boundary. */
export function isExternalConnector(
  policy: GovernancePolicy,
  pluginId: string,
  actionId: string,
): boolean {
  return policy.redaction.external.some((p) => actionMatches(p, pluginId, actionId));
}

const toJson = (value: unknown): JsonValue =>
  value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);

type Task = {
  id: string;
  status: string;
  /** Set by the review product (approveReviewTask/rejectReviewTask) when the answer is final. */
  outcome: string | null;
  result: { approved?: boolean } | null;
};

/** approved / rejected / still open, from either answering path (see decideConnectorApproval). */
function verdict(task: Task): 'approved' | 'rejected' | 'open' | 'closed' {
  if (task.outcome === 'approved' || (task.status === 'resolved' && task.result?.approved === true))
    return 'approved';
  if (task.outcome === 'rejected' || task.status === 'resolved') return 'rejected';
  return task.status === 'open' ? 'open' : 'closed';
}

async function approvalTask(
  client: Pick<PoolClient, 'query'>,
  tenantId: string,
  runId: string,
  stepId: string,
): Promise<Task | undefined> {
  const { rows } = await client.query<Task>(
    `SELECT id, status, outcome, result FROM review_tasks
      WHERE tenant_id = $1 AND run_id = $2 AND step_id = $3 AND data->>'gate' = $4`,
    [tenantId, runId, stepId, CONNECTOR_APPROVAL_GATE],
  );
  return rows[0];
}

/**
 * Wraps the plugin host's connector executor with the tenant's governance policy (read per call,
 * so a saved change applies to the next step). `defaults`: the deployment's governance.yaml.
 */
export function governConnectorExecutor(
  inner: ConnectorExecutor,
  options: { pool: Pool; defaults?: GovernancePolicy },
): ConnectorExecutor {
  const read = options.defaults ? { defaults: options.defaults } : {};
  return async (call) => {
    const { connector, action } = call.step;
    const gate = await withTenant(options.pool, call.tenantId, async ({ client }) => {
      const { policy } = await effectiveGovernancePolicyIn(client, call.tenantId, read);
      const redact = createRedactor(redactionRulesOf(policy.redaction));
      const external =
        policy.redaction.apply.externalConnectors && isExternalConnector(policy, connector, action);
      const rule = approvalRuleFor(policy, connector, action);
      if (!rule) return { go: true as const, external, redact };
      const task = await approvalTask(client, call.tenantId, call.runId, call.stepId);
      const state = task ? verdict(task) : 'none';
      if (state === 'approved') return { go: true as const, external, redact };
      if (state === 'rejected' || state === 'closed') {
        const rejected = state === 'rejected';
        throw new StepFailure(
          rejected ? 'APPROVAL_REJECTED' : 'APPROVAL_MISSING',
          rejected
            ? `The approval of ${connector}.${action} was rejected; the connector was not called.`
            : `The approval of ${connector}.${action} was ${task?.status}; the connector was not called.`,
          { fatal: true },
        );
      }
      if (!task) {
        const data: ConnectorApprovalData = {
          gate: CONNECTOR_APPROVAL_GATE,
          action: `${connector}.${action}`,
          input: redact(toJson(call.input)),
          fourEyes: rule.fourEyes,
          approvals: [],
        };
        await client.query(
          `INSERT INTO review_tasks (tenant_id, run_id, step_id, kind, title, data, role, due_at)
           VALUES ($1, $2, $3, 'approval', $4, $5, $6, $7)
           ON CONFLICT (tenant_id, run_id, step_id) DO NOTHING`,
          [
            call.tenantId,
            call.runId,
            call.stepId,
            `Approve ${connector}.${action}${rule.fourEyes ? ' (two approvers)' : ''}`,
            data,
            rule.role ?? null,
            call.deadline,
          ],
        );
        await client.query(
          `INSERT INTO audit_events (tenant_id, run_id, kind, data) VALUES ($1, $2, 'approval.requested', $3)`,
          [call.tenantId, call.runId, { step: call.stepId, action: data.action }],
        );
      }
      return { go: false as const };
    });
    if (!gate.go) return { wait: true };
    if (!gate.external) return inner(call);
    return inner({ ...call, input: gate.redact(toJson(call.input)) });
  };
}

export interface ConnectorApprovalAnswer {
  approved: boolean;
  /** Member id of the person answering. */
  by: string;
  comment?: string | null;
}

/**
 * Answers a connector action's approval task. An approval (the second one under four-eyes, by a
 * different person) or a rejection closes the task and runs the step again: the connector then
 * runs, or the step fails with APPROVAL_REJECTED. Returns whether the task is still open.
 */
export async function decideConnectorApproval(
  pool: Pool,
  tenantId: string,
  taskId: string,
  answer: ConnectorApprovalAnswer,
): Promise<{ status: 'pending' | 'approved' | 'rejected' }> {
  const outcome = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      run_id: string;
      step_id: string;
      status: string;
      data: ConnectorApprovalData;
    }>(
      `SELECT run_id, step_id, status, data FROM review_tasks WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, taskId],
    );
    const task = rows[0];
    if (!task || task.data?.gate !== CONNECTOR_APPROVAL_GATE) {
      throw new GovernanceError(
        'APPROVAL_NOT_FOUND',
        `Task ${taskId} is not a connector action approval in this tenant.`,
        { field: 'taskId' },
      );
    }
    if (task.status !== 'open') {
      throw new GovernanceError('APPROVAL_CLOSED', `Task ${taskId} is ${task.status}, not open.`, {
        status: task.status,
      });
    }
    const approvals = task.data.approvals ?? [];
    if (answer.approved && approvals.some((a) => a.by === answer.by)) {
      throw new GovernanceError(
        'APPROVAL_SAME_APPROVER',
        'You already approved this action; a second, different person must approve it.',
        { field: 'taskId' },
      );
    }
    const at = new Date().toISOString();
    const nextApprovals = answer.approved
      ? [...approvals, { by: answer.by, at, comment: answer.comment ?? null }]
      : approvals;
    const needed = task.data.fourEyes ? 2 : 1;
    const status: 'pending' | 'approved' | 'rejected' = !answer.approved
      ? 'rejected'
      : nextApprovals.length >= needed
        ? 'approved'
        : 'pending';
    const data = { ...task.data, approvals: nextApprovals };
    if (status === 'pending') {
      await client.query('UPDATE review_tasks SET data = $3 WHERE tenant_id = $1 AND id = $2', [
        tenantId,
        taskId,
        data,
      ]);
    } else {
      await client.query(
        `UPDATE review_tasks SET data = $3, status = 'resolved', resolved_at = now(), result = $4,
                outcome = $5
          WHERE tenant_id = $1 AND id = $2`,
        [
          tenantId,
          taskId,
          data,
          { approved: status === 'approved', by: answer.by, comment: answer.comment ?? null },
          status,
        ],
      );
    }
    await client.query(
      `INSERT INTO audit_events (tenant_id, run_id, kind, data, subject_type, subject_id)
       VALUES ($1, $2, $3, $4, 'reviewTask', $5)`,
      [
        tenantId,
        task.run_id,
        answer.approved ? 'approval.approved' : 'approval.rejected',
        { step: task.step_id, action: task.data.action, by: answer.by, outcome: status },
        taskId,
      ],
    );
    return { status, runId: task.run_id, stepId: task.step_id };
  });
  if (outcome.status !== 'pending') {
    await rerunWaitingStep(pool, tenantId, outcome.runId, outcome.stepId);
  }
  return { status: outcome.status };
}
