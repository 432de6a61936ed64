import { createHash } from 'node:crypto';
import {
  cancelRun,
  completeReviewTask,
  EngineError,
  getRun,
  listDeadLetters,
  replayStep,
  retryRun,
  startRun,
} from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWorkflow,
  installLedger,
  openReviewTask,
  runReaching,
  testExecutors,
  waitFor,
} from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Engine');
const failures = new Map<string, number>();
let worker: RunningWorkerPool;

beforeAll(async () => {
  await installLedger(db.ownerPool);
  worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: testExecutors(db.appPool, failures),
    concurrency: 4,
    sweepMs: 100,
    pollIntervalMs: 100,
  });
});
afterAll(async () => {
  await worker?.stop();
  await db.drop();
});

const settled = (runId: string, statuses?: string[]) =>
  runReaching(db.appPool, tenant.id, runId, statuses ? { statuses } : {});

async function ledgerCalls(runId: string) {
  const { rows } = await db.ownerPool.query(
    'SELECT key, step_id, attempt, at FROM ledger_calls WHERE run_id = $1 ORDER BY id',
    [runId],
  );
  return rows as Array<{ key: string; step_id: string; attempt: number; at: Date }>;
}

describe('startRun', () => {
  it('returns the same run for a repeated idempotency key and refuses a different input', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'a',
      steps: { a: { type: 'transform', value: 'input.n * 2', end: true } },
    });
    const first = await startRun(db.appPool, tenant.id, {
      workflowId: wf,
      input: { n: 2 },
      idempotencyKey: 'k1',
    });
    const again = await startRun(db.appPool, tenant.id, {
      workflowId: wf,
      input: { n: 2 },
      idempotencyKey: 'k1',
    });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ runId: first.runId, created: false });
    const conflict = await startRun(db.appPool, tenant.id, {
      workflowId: wf,
      input: { n: 3 },
      idempotencyKey: 'k1',
    }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(EngineError);
    expect(conflict).toMatchObject({ code: 'CONFLICT', apiCode: 'CONFLICT' });
    const run = await settled(first.runId);
    expect(run).toMatchObject({ status: 'succeeded', output: 4 });
  });

  it('refuses an unknown workflow with NOT_FOUND', async () => {
    const err = await startRun(db.appPool, tenant.id, {
      workflowId: '00000000-0000-4000-8000-000000000000',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('execution', () => {
  it('runs a linear workflow, passing outputs along, with a timeline and audit events', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'shape',
      steps: {
        shape: { type: 'transform', value: '{ "who": input.name }', next: 'send' },
        send: {
          type: 'connector',
          connector: 'test',
          action: 'ledger',
          input: 'steps.shape.output',
          end: true,
        },
      },
      output: 'steps.send.output.input.who',
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf,
      input: { name: 'Ada' },
    });
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toBe('Ada');
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['shape', 'succeeded'],
      ['send', 'succeeded'],
    ]);
    const calls = await ledgerCalls(runId);
    expect(calls.map((c) => c.key)).toEqual([`${runId}/send`]);
    const audit = await db.ownerPool.query(
      'SELECT kind, data FROM audit_events WHERE run_id = $1 ORDER BY id',
      [runId],
    );
    expect(audit.rows.map((r) => r.kind)).toEqual([
      'run.created',
      'step.succeeded',
      'step.succeeded',
      'run.succeeded',
    ]);
    // The connector call is audited by what it called and a fingerprint of its request: the
    // SHA-256 of the canonical input, never the input itself.
    const connectorCall = audit.rows[2].data;
    expect(connectorCall).toEqual({
      step: 'send',
      attempt: 1,
      connector: 'test.ledger',
      idempotencyKey: `${runId}/send`,
      requestFingerprint: createHash('sha256').update('{"who":"Ada"}').digest('hex'),
    });
    expect(JSON.stringify(connectorCall)).not.toContain('Ada');
  });

  it('retries a retryable failure with exponential backoff, reusing the idempotency key', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'call',
      steps: {
        call: {
          type: 'connector',
          connector: 'test',
          action: 'flaky',
          retry: { maxAttempts: 4, backoff: { initial: '200ms', multiplier: 2, jitter: 'none' } },
          end: true,
        },
      },
    });
    failures.set('call', 2);
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]?.attempts.map((a) => a.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    const calls = await ledgerCalls(runId);
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(new Set(calls.map((c) => c.key))).toEqual(new Set([`${runId}/call`]));
    const gaps = calls
      .slice(1)
      .map((c, i) => c.at.getTime() - (calls[i] as { at: Date }).at.getTime());
    expect(gaps[0]).toBeGreaterThanOrEqual(190);
    expect(gaps[1]).toBeGreaterThanOrEqual(390);
  });

  it('fails at once on a fatal error, without retrying', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'call',
      steps: {
        call: {
          type: 'connector',
          connector: 'test',
          action: 'fatal',
          retry: { maxAttempts: 5 },
          end: true,
        },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const run = await settled(runId);
    expect(run).toMatchObject({
      status: 'failed',
      failedStep: 'call',
      error: { code: 'BAD_USER_INPUT' },
    });
    expect(await ledgerCalls(runId)).toHaveLength(1);
  });

  it('times a slow step out and routes the TIMEOUT through catch', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'call',
      steps: {
        call: {
          type: 'connector',
          connector: 'test',
          action: 'slow',
          timeout: '100ms',
          retry: { maxAttempts: 1 },
          catch: [{ errors: ['TIMEOUT'], next: 'fallback' }],
          end: true,
        },
        fallback: { type: 'transform', value: '"fell back"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const run = await settled(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toBe('fell back');
    expect(run.steps.find((s) => s.stepId === 'call')).toMatchObject({
      status: 'failed',
      error: { code: 'TIMEOUT' },
    });
  });

  it('dead-letters a step that exhausts its attempts, lists it, and replays it to success', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'pay',
      steps: {
        pay: {
          type: 'connector',
          connector: 'test',
          action: 'flaky',
          retry: { maxAttempts: 2, backoff: { initial: '10ms' } },
          next: 'done',
        },
        done: { type: 'transform', value: '"paid"', end: true },
      },
    });
    failures.set('pay', 2);
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const dead = await settled(runId);
    expect(dead).toMatchObject({
      status: 'dead_lettered',
      failedStep: 'pay',
      error: { code: 'RATE_LIMITED' },
    });
    const letters = await listDeadLetters(db.appPool, tenant.id);
    expect(letters.map((l) => l.runId)).toContain(runId);
    await replayStep(db.appPool, tenant.id, runId, 'pay');
    const replayed = await settled(runId);
    expect(replayed).toMatchObject({ status: 'succeeded', output: 'paid' });
    const calls = await ledgerCalls(runId);
    expect(new Set(calls.map((c) => c.key)).size).toBe(1);
    expect(await listDeadLetters(db.appPool, tenant.id)).not.toContainEqual(
      expect.objectContaining({ runId }),
    );
  });

  it('retryRun resumes a dead-lettered run from the failed step', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'first',
      steps: {
        first: { type: 'transform', value: '1', next: 'pay2' },
        pay2: {
          type: 'connector',
          connector: 'test',
          action: 'flaky',
          retry: { maxAttempts: 1 },
          end: true,
        },
      },
    });
    failures.set('pay2', 1);
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    expect((await settled(runId)).status).toBe('dead_lettered');
    expect(await retryRun(db.appPool, tenant.id, runId)).toMatchObject({ stepId: 'pay2' });
    expect((await settled(runId)).status).toBe('succeeded');
    const again = await retryRun(db.appPool, tenant.id, runId).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'CONFLICT' });
  });
});

describe('waits', () => {
  it('waits without holding a job and resumes when its timer fires', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'pause',
      steps: {
        pause: { type: 'wait', duration: '700ms', next: 'after' },
        after: { type: 'transform', value: '"resumed"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    await settled(runId, ['waiting']);
    const jobs = await db.ownerPool.query(
      `SELECT locked_at, run_at > now() AS future FROM graphile_worker._private_jobs WHERE payload->>'r' = $1`,
      [runId],
    );
    expect(jobs.rows).toEqual([{ locked_at: null, future: true }]);
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', output: 'resumed' });
  });

  it('opens a review task and continues with the reviewer’s answer', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'ask',
      steps: {
        ask: {
          type: 'review',
          title: 'Which queue?',
          labels: ['a', 'b'],
          data: 'input',
          end: true,
        },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, {
      workflowId: wf,
      input: { subject: 'hi' },
    });
    await settled(runId, ['waiting']);
    const task = await db.ownerPool.query(
      'SELECT id, data, status FROM review_tasks WHERE run_id = $1',
      [runId],
    );
    expect(task.rows[0]).toMatchObject({ data: { subject: 'hi' }, status: 'open' });
    await completeReviewTask(db.appPool, tenant.id, task.rows[0].id, { label: 'b' });
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'succeeded', output: { label: 'b' } });
    const after = await db.ownerPool.query('SELECT status FROM review_tasks WHERE run_id = $1', [
      runId,
    ]);
    expect(after.rows[0].status).toBe('resolved');
  });

  it('cancels a waiting run: the timer job that fires later changes nothing', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'pause',
      steps: {
        pause: { type: 'wait', duration: '400ms', next: 'after' },
        after: { type: 'connector', connector: 'test', action: 'ledger', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    await settled(runId, ['waiting']);
    await cancelRun(db.appPool, tenant.id, runId);
    await new Promise((resolve) => setTimeout(resolve, 900));
    const run = await getRun(db.appPool, tenant.id, runId);
    expect(run.status).toBe('cancelled');
    expect(run.steps.map((s) => s.status)).toEqual(['cancelled']);
    expect(await ledgerCalls(runId)).toHaveLength(0);
    expect(await cancelRun(db.appPool, tenant.id, runId).catch((e: unknown) => e)).toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('fails a run whose deadline passes while it waits', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'pause',
      deadline: '300ms',
      steps: { pause: { type: 'wait', duration: '1h', end: true } },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const run = await settled(runId);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'DEADLINE_EXCEEDED' } });
  });

  it('records the step whose call was in flight at the deadline, and retryRun resumes there', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'first',
      deadline: '600ms',
      steps: {
        first: { type: 'connector', connector: 'test', action: 'ledger', next: 'route' },
        route: {
          type: 'condition',
          branches: [{ when: 'false', next: 'other' }],
          default: 'call',
        },
        call: { type: 'connector', connector: 'test', action: 'slow', end: true },
        other: { type: 'transform', value: '"other"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    // The slow call (1 s) has no row until it returns; the deadline (600 ms) comes first.
    expect(await settled(runId)).toMatchObject({
      status: 'failed',
      failedStep: 'call',
      error: { code: 'DEADLINE_EXCEEDED' },
    });
    expect(await retryRun(db.appPool, tenant.id, runId)).toMatchObject({ stepId: 'call' });
    await waitFor(
      async () => (await ledgerCalls(runId)).filter((c) => c.step_id === 'call').length === 2,
      5_000,
      'the retried call',
    );
    expect((await ledgerCalls(runId)).map((c) => c.step_id)).toEqual(['first', 'call', 'call']);
  });

  it('closes the step a deadline interrupts, and retryRun resumes there with a fresh deadline', async () => {
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'first',
      deadline: '1500ms',
      steps: {
        first: { type: 'connector', connector: 'test', action: 'ledger', next: 'ask' },
        ask: { type: 'review', title: 'Check', labels: ['ok'], data: 'input', next: 'done' },
        done: { type: 'transform', value: '"checked"', end: true },
      },
    });
    const { runId } = await startRun(db.appPool, tenant.id, { workflowId: wf });
    const failed = await settled(runId);
    expect(failed).toMatchObject({
      status: 'failed',
      failedStep: 'ask',
      error: { code: 'DEADLINE_EXCEEDED' },
    });
    // The timeline no longer shows the review as waiting, and nobody can answer its task.
    expect(failed.steps.map((s) => [s.stepId, s.status, s.error?.code])).toEqual([
      ['first', 'succeeded', undefined],
      ['ask', 'failed', 'DEADLINE_EXCEEDED'],
    ]);
    const tasks = await db.ownerPool.query('SELECT status FROM review_tasks WHERE run_id = $1', [
      runId,
    ]);
    expect(tasks.rows).toEqual([{ status: 'expired' }]);

    const retriedAt = Date.now();
    expect(await retryRun(db.appPool, tenant.id, runId)).toMatchObject({ stepId: 'ask' });
    const retried = await getRun(db.appPool, tenant.id, runId);
    expect(retried.deadlineAt.getTime()).toBeGreaterThan(retriedAt + 1000);
    const task = await openReviewTask(db.ownerPool, runId, 1000);
    await completeReviewTask(db.appPool, tenant.id, task, { label: 'ok' });
    expect(await settled(runId)).toMatchObject({ status: 'succeeded', output: 'checked' });
    // The step before the interrupted one did not run again.
    expect((await ledgerCalls(runId)).map((c) => c.step_id)).toEqual(['first']);
  });
});
