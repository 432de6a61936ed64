import { type ConnectorExecutor, ExecutorRegistry, getRun, startRun } from '@roster/engine';
import {
  decideConnectorApproval,
  governConnectorExecutor,
  updateGovernancePolicy,
} from '@roster/governance';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

// The governance policy around connector steps: approvals before the call, redacted input for
// connectors marked external. The inner executor stands in for the plugin host and records calls.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Gate');
const calls: Array<{ action: string; runId: string; input: unknown }> = [];
const inner: ConnectorExecutor = async (call) => {
  calls.push({
    action: `${call.step.connector}.${call.step.action}`,
    runId: call.runId,
    input: call.input,
  });
  return { output: { sent: true } };
};
let worker: RunningWorkerPool;

beforeAll(async () => {
  await updateGovernancePolicy(db.appPool, tenant.id, {
    document: {
      approvals: {
        connectorActions: [
          { action: 'payments.refund' },
          { action: 'ledger.*', fourEyes: true, role: 'admin' },
        ],
      },
      redaction: { external: ['mailer'] },
    },
    expectedVersion: 0,
    createdBy: 'test',
  });
  worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: new ExecutorRegistry().registerConnector(
      governConnectorExecutor(inner, { pool: db.appPool }),
    ),
    concurrency: 2,
    sweepMs: 100,
    pollIntervalMs: 100,
  });
});
afterAll(async () => {
  await worker?.stop();
  await db.drop();
});

async function startConnectorRun(connector: string, action: string, input: unknown) {
  const wf = await createWorkflow(db.ownerPool, tenant.id, {
    start: 'call',
    steps: { call: { type: 'connector', connector, action, input: 'input', end: true } },
  });
  return (await startRun(db.appPool, tenant.id, { workflowId: wf, input })).runId;
}

const runIn = (runId: string, statuses: string[]) =>
  waitFor(
    async () => {
      const run = await getRun(db.appPool, tenant.id, runId);
      return statuses.includes(run.status) ? run : undefined;
    },
    20_000,
    `run ${runId} to reach ${statuses.join('/')}`,
  );

async function approvalTask(runId: string) {
  return waitFor(
    async () => {
      const { rows } = await db.ownerPool.query(
        `SELECT id, kind, role, status, data FROM review_tasks WHERE tenant_id = $1 AND run_id = $2`,
        [tenant.id, runId],
      );
      return rows[0];
    },
    20_000,
    `an approval task for run ${runId}`,
  );
}

const callsOf = (runId: string) => calls.filter((c) => c.runId === runId);

describe('connector actions that need an approval', () => {
  it('wait for the approval, then call the connector once', async () => {
    const runId = await startConnectorRun('payments', 'refund', {
      amount: 10,
      to: 'ada@example.com',
    });
    const task = await approvalTask(runId);
    expect(task).toMatchObject({ kind: 'approval', status: 'open' });
    expect(task.data).toMatchObject({
      gate: 'connectorAction',
      action: 'payments.refund',
      // The approver sees the input, redacted.
      input: { amount: 10, to: '[redacted:email]' },
    });
    await runIn(runId, ['waiting']);
    expect(callsOf(runId)).toEqual([]);

    const member = '11111111-1111-4111-8111-111111111111';
    expect(
      await decideConnectorApproval(db.appPool, tenant.id, task.id, { approved: true, by: member }),
    ).toEqual({
      status: 'approved',
    });
    const run = await runIn(runId, ['succeeded', 'failed']);
    expect(run.status).toBe('succeeded');
    expect(callsOf(runId)).toEqual([
      { action: 'payments.refund', runId, input: { amount: 10, to: 'ada@example.com' } },
    ]);
  });

  it('a rejection fails the step without calling the connector', async () => {
    const runId = await startConnectorRun('payments', 'refund', { amount: 99 });
    const task = await approvalTask(runId);
    await decideConnectorApproval(db.appPool, tenant.id, task.id, {
      approved: false,
      by: '22222222-2222-4222-8222-222222222222',
      comment: 'not this one',
    });
    const run = await runIn(runId, ['succeeded', 'failed']);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'APPROVAL_REJECTED' });
    expect(callsOf(runId)).toEqual([]);
  });

  it('four-eyes needs two different approvers', async () => {
    const runId = await startConnectorRun('ledger', 'transfer', { amount: 5 });
    const task = await approvalTask(runId);
    expect(task.role).toBe('admin');
    const first = '33333333-3333-4333-8333-333333333333';
    expect(
      await decideConnectorApproval(db.appPool, tenant.id, task.id, { approved: true, by: first }),
    ).toEqual({ status: 'pending' });
    await expect(
      decideConnectorApproval(db.appPool, tenant.id, task.id, { approved: true, by: first }),
    ).rejects.toMatchObject({ code: 'APPROVAL_SAME_APPROVER' });
    await runIn(runId, ['waiting']);
    expect(callsOf(runId)).toEqual([]);
    await decideConnectorApproval(db.appPool, tenant.id, task.id, {
      approved: true,
      by: '44444444-4444-4444-8444-444444444444',
    });
    expect((await runIn(runId, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(callsOf(runId)).toHaveLength(1);
  });
});

describe('connectors marked external', () => {
  const input = {
    to: 'ada@example.com',
    note: 'card 4111 1111 1111 1111, IBAN NL91ABNA0417164300',
    amount: 12,
  };

  it('receive redacted input; an internal connector receives the original', async () => {
    const external = await startConnectorRun('mailer', 'send', input);
    const internal = await startConnectorRun('crm', 'update', input);
    await runIn(external, ['succeeded']);
    await runIn(internal, ['succeeded']);
    expect(callsOf(external)[0]?.input).toEqual({
      to: '[redacted:email]',
      note: 'card [redacted:paymentCard], IBAN [redacted:iban]',
      amount: 12,
    });
    expect(callsOf(internal)[0]?.input).toEqual(input);
  });
});
