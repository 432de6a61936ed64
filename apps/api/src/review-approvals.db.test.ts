import { ExecutorRegistry } from '@roster/engine';
import { type RunningWorkerPool, runWorkerPool } from '@roster/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { globalId } from '../test/review-fixtures.js';
import { uuidFromGlobalId } from './graphql/global-id.js';

// Approval steps through the API with a worker running the steps: a rejection continues at the
// step's `rejected` step, or fails the run with APPROVAL_REJECTED without one; a step that lists
// its approvers (member ids or e-mail addresses) refuses everyone else.
const api = await startTestApi();
const owner = await api.signUp('Approvals');
type Person = Awaited<ReturnType<typeof api.addMember>>;
const [ann, bob, cat] = (await Promise.all(
  [1, 2, 3].map(() => api.addMember(owner.token, 'reviewer')),
)) as [Person, Person, Person];
const worker: RunningWorkerPool = await runWorkerPool({
  appUrl: api.db.appUrl,
  executors: new ExecutorRegistry(),
  concurrency: 2,
  sweepMs: 100,
  pollIntervalMs: 100,
});
afterAll(() => worker.stop());

async function ok(query: string, variables: Record<string, unknown>, token: string) {
  const r = await api.gql(query, variables, token);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  // biome-ignore lint/suspicious/noExplicitAny: responses are read by path
  return r.data as Record<string, any>;
}

async function workflow(name: string, ask: Record<string, unknown>): Promise<string> {
  return api.publishWorkflow(owner.token, name, {
    start: 'ask',
    steps: {
      ask: { type: 'approval', title: 'Pay the invoice?', timeout: '1d', next: 'pay', ...ask },
      pay: { type: 'transform', value: '{"paid": true}', end: true },
      ...(ask.rejected
        ? {
            refund: {
              type: 'transform',
              value: '{"refunded": true, "because": steps.ask.output.reason}',
              end: true,
            },
          }
        : {}),
    },
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts a run and waits for its approval task: the run's id and the task's global id. */
async function waitingApproval(workflowId: string) {
  const started = await ok(
    'mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }',
    { i: { workflowId, input: { invoice: 7 } } },
    owner.token,
  );
  const runId = uuidFromGlobalId(started.startRun.run.id, 'Run', 'id');
  const taskId = await waitFor('the approval task', async () => {
    const { rows } = await api.db.ownerPool.query<{ id: string }>(
      "SELECT id FROM review_tasks WHERE run_id = $1 AND status = 'open'",
      [runId],
    );
    return rows[0]?.id;
  });
  return { runId, task: globalId('ReviewTask', taskId) };
}

async function ended(runId: string) {
  return waitFor('the run to end', async () => {
    const { rows } = await api.db.ownerPool.query(
      'SELECT status, output, error FROM runs WHERE id = $1',
      [runId],
    );
    const run = rows[0] as { status: string; output: unknown; error: unknown };
    return ['succeeded', 'failed', 'dead_lettered'].includes(run.status) ? run : undefined;
  });
}

async function stepsOf(runId: string) {
  const { rows } = await api.db.ownerPool.query<{
    step_id: string;
    status: string;
    error: unknown;
  }>('SELECT step_id, status, error FROM step_runs WHERE run_id = $1 ORDER BY step_id', [runId]);
  return rows;
}

const REJECT =
  'mutation($i: RejectReviewTaskInput!) { rejectReviewTask(input: $i) { reviewTask { outcome } } }';
const APPROVE =
  'mutation($i: ReviewTaskInput!) { approveReviewTask(input: $i) { complete reviewTask { outcome } } }';

describe('a rejected approval', () => {
  it('continues at the step named by `rejected`, which reads the rejection', async () => {
    const wf = await workflow('Reject routed', {
      approvers: { role: 'reviewer' },
      rejected: 'refund',
    });
    const { runId, task } = await waitingApproval(wf);
    await ok(REJECT, { i: { id: task, reason: 'duplicate invoice' } }, ann.token);
    expect(await ended(runId)).toEqual({
      status: 'succeeded',
      output: { refunded: true, because: 'duplicate invoice' },
      error: null,
    });
    expect(await stepsOf(runId)).toEqual([
      { step_id: 'ask', status: 'succeeded', error: null },
      { step_id: 'refund', status: 'succeeded', error: null },
    ]);
  });

  it('fails the step and the run with APPROVAL_REJECTED when the step has no `rejected`', async () => {
    const wf = await workflow('Reject unrouted', { approvers: { role: 'reviewer' } });
    const { runId, task } = await waitingApproval(wf);
    await ok(REJECT, { i: { id: task, reason: 'no budget' } }, ann.token);
    const run = await ended(runId);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'APPROVAL_REJECTED' } });
    expect((run.error as { message: string }).message).toMatch(/rejected: <step id>/);
    const closed = await api.db.ownerPool.query(
      'SELECT status, outcome FROM review_tasks WHERE run_id = $1',
      [runId],
    );
    expect(closed.rows).toEqual([{ status: 'resolved', outcome: 'rejected' }]);
    expect(await stepsOf(runId)).toEqual([
      {
        step_id: 'ask',
        status: 'failed',
        error: expect.objectContaining({ code: 'APPROVAL_REJECTED' }),
      },
    ]);
    const shown = await ok(
      'query($id: ID!) { run(id: $id) { status error { code } } }',
      { id: globalId('Run', runId) },
      owner.token,
    );
    expect(shown.run).toEqual({ status: 'failed', error: { code: 'APPROVAL_REJECTED' } });
  });

  it('inside a parallel branch, fails the branch with APPROVAL_REJECTED, which a catch on the parallel step routes', async () => {
    const workflowId = await api.publishWorkflow(owner.token, 'Reject in a branch', {
      start: 'both',
      steps: {
        both: {
          type: 'parallel',
          branches: {
            money: {
              start: 'ask',
              steps: {
                ask: {
                  type: 'approval',
                  title: 'Pay?',
                  timeout: '1d',
                  approvers: { role: 'reviewer' },
                  end: true,
                },
              },
            },
          },
          catch: [{ errors: ['APPROVAL_REJECTED'], next: 'declined' }],
          next: 'pay',
        },
        pay: { type: 'transform', value: '{"paid": true}', end: true },
        declined: { type: 'transform', value: '{"declined": true}', end: true },
      },
    });
    const { runId, task } = await waitingApproval(workflowId);
    await ok(REJECT, { i: { id: task, reason: 'over budget' } }, cat.token);
    expect(await ended(runId)).toMatchObject({ status: 'succeeded', output: { declined: true } });
    const steps = await stepsOf(runId);
    expect(steps.find((s) => s.step_id === 'ask')).toMatchObject({
      status: 'failed',
      error: { code: 'APPROVAL_REJECTED' },
    });
    expect(steps.find((s) => s.step_id === 'both')).toMatchObject({
      status: 'failed',
      error: { code: 'APPROVAL_REJECTED' },
    });
  });

  it('an approval still takes `next`', async () => {
    const wf = await workflow('Approve routed', {
      approvers: { role: 'reviewer' },
      rejected: 'refund',
    });
    const { runId, task } = await waitingApproval(wf);
    await ok(APPROVE, { i: { id: task } }, bob.token);
    expect(await ended(runId)).toMatchObject({ status: 'succeeded', output: { paid: true } });
  });
});

describe('approvers.members', () => {
  it('only listed members (by id or e-mail) decide; others are FORBIDDEN with REVIEW_NOT_APPROVER', async () => {
    const wf = await workflow('Listed', {
      approvers: { members: [ann.userId, bob.email.toUpperCase()] },
      minApprovals: 2,
    });
    const { runId, task } = await waitingApproval(wf);
    for (const outsider of [cat, owner]) {
      for (const [query, input] of [
        [APPROVE, { id: task }],
        [REJECT, { id: task, reason: 'not mine' }],
      ] as const) {
        const refused = await api.gql(query, { i: input }, outsider.token);
        expect(refused.errors?.[0]?.extensions).toMatchObject({
          code: 'FORBIDDEN',
          reason: 'REVIEW_NOT_APPROVER',
        });
      }
    }
    // The refused attempts left no approval, no outcome and no claim behind.
    const { rows } = await api.db.ownerPool.query(
      'SELECT outcome, assignee_id, (SELECT count(*)::int FROM review_approvals a WHERE a.task_id = t.id) AS approvals FROM review_tasks t WHERE run_id = $1',
      [runId],
    );
    expect(rows[0]).toEqual({ outcome: null, assignee_id: null, approvals: 0 });

    const first = await ok(APPROVE, { i: { id: task } }, ann.token);
    expect(first.approveReviewTask.complete).toBe(false);
    const second = await ok(APPROVE, { i: { id: task } }, bob.token);
    expect(second.approveReviewTask).toMatchObject({
      complete: true,
      reviewTask: { outcome: 'approved' },
    });
    expect(await ended(runId)).toMatchObject({ status: 'succeeded', output: { paid: true } });
  });

  it('holders of approvers.role decide beside the listed members', async () => {
    const wf = await workflow('Listed or role', {
      approvers: { role: 'reviewer', members: [ann.userId] },
    });
    const { runId, task } = await waitingApproval(wf);
    await ok(APPROVE, { i: { id: task } }, cat.token);
    expect(await ended(runId)).toMatchObject({ status: 'succeeded' });
  });
});
