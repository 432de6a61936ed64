import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { globalId, reviewWorkflow, waitingReviewTask } from '../test/review-fixtures.js';

// The review product through the API: queues, claims, four-eyes, corrections, comments and
// delegation, each resuming the waiting run with the outcome.
const api = await startTestApi();
const owner = await api.signUp('Reviews');
type Reviewer = Awaited<ReturnType<typeof api.addMember>>;
const [ann, bob, cat, dan, eve] = (await Promise.all(
  [1, 2, 3, 4, 5].map(() => api.addMember(owner.token, 'reviewer')),
)) as [Reviewer, Reviewer, Reviewer, Reviewer, Reviewer];
const member = (m: { userId: string }) => globalId('Member', m.userId);

async function ok(query: string, variables: Record<string, unknown>, token: string) {
  const r = await api.gql(query, variables, token);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  // Responses are read by path; their shape is what each query asked for.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return r.data as Record<string, any>;
}

async function configure(
  name: string,
  members: { userId: string }[],
  extra: Record<string, unknown> = {},
) {
  await ok(
    'mutation($i: ConfigureReviewQueueInput!) { configureReviewQueue(input: $i) { reviewQueue { name } } }',
    { i: { name, memberIds: members.map(member), ...extra } },
    owner.token,
  );
}

const workflowId = await reviewWorkflow(api.db.ownerPool, owner.tenantId);
const approvalWorkflowId = await reviewWorkflow(api.db.ownerPool, owner.tenantId, {
  type: 'approval',
  title: 'Pay it',
  approvers: { role: 'reviewer' },
});
await configure('finance', [ann, bob, cat]);
await configure('payments', [ann, bob, cat], { fourEyes: true });

async function task(queue: string, options: Parameters<typeof waitingReviewTask>[3] = {}) {
  const made = await waitingReviewTask(
    api.db.ownerPool,
    owner.tenantId,
    options.kind === 'approval' ? approvalWorkflowId : workflowId,
    { queue, ...options },
  );
  return { ...made, id: globalId('ReviewTask', made.taskId) };
}

async function runOf(runId: string) {
  const { rows } = await api.db.ownerPool.query('SELECT status, output FROM runs WHERE id = $1', [
    runId,
  ]);
  return rows[0] as { status: string; output: Record<string, unknown> | null };
}

const CLAIM =
  'mutation($i: ReviewTaskInput!) { claimReviewTask(input: $i) { reviewTask { assigneeId claimExpiresAt } } }';
const RELEASE =
  'mutation($i: ReviewTaskInput!) { releaseReviewTask(input: $i) { reviewTask { assigneeId } } }';
const APPROVE =
  'mutation($i: ReviewTaskInput!) { approveReviewTask(input: $i) { complete approvals requiredApprovals reviewTask { outcome approvals { memberId onBehalfOf } } } }';
const CORRECT =
  'mutation($i: CorrectReviewTaskInput!) { correctReviewTask(input: $i) { reviewTask { outcome correctedOutput data } } }';
const QUEUE =
  'query($q: String!, $c: String) { reviewQueue(queue: $q, claim: $c, first: 50) { nodes { id assigneeId } } }';

describe('queues and claims', () => {
  it('shows a queue to those who serve it, and refuses others', async () => {
    const t = await task('finance');
    const mine = await ok(QUEUE, { q: 'finance' }, ann.token);
    expect(mine.reviewQueue.nodes.map((n: { id: string }) => n.id)).toContain(t.id);
    const outsider = await api.gql(QUEUE, { q: 'finance' }, dan.token);
    expect(outsider.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A reviewer serves the queue named after their role without being added to it.
    const byRole = await task('reviewer');
    const roleQueue = await ok(QUEUE, { q: 'reviewer' }, dan.token);
    expect(roleQueue.reviewQueue.nodes.map((n: { id: string }) => n.id)).toContain(byRole.id);
  });

  it('makes a claim exclusive until it is released or expires', async () => {
    const t = await task('finance');
    const claimed = await ok(CLAIM, { i: { id: t.id } }, ann.token);
    expect(claimed.claimReviewTask.reviewTask.assigneeId).toBe(member(ann));

    const taken = await api.gql(CLAIM, { i: { id: t.id } }, bob.token);
    expect(taken.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'REVIEW_CLAIMED',
    });
    const approveTaken = await api.gql(APPROVE, { i: { id: t.id } }, bob.token);
    expect(approveTaken.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'REVIEW_CLAIMED',
    });
    const releaseOther = await api.gql(RELEASE, { i: { id: t.id } }, bob.token);
    expect(releaseOther.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'REVIEW_NOT_CLAIMED',
    });

    const unclaimed = await ok(QUEUE, { q: 'finance', c: 'unclaimed' }, bob.token);
    expect(unclaimed.reviewQueue.nodes.map((n: { id: string }) => n.id)).not.toContain(t.id);
    const annMine = await ok('{ myReviewTasks(first: 50) { nodes { id } } }', {}, ann.token);
    expect(annMine.myReviewTasks.nodes.map((n: { id: string }) => n.id)).toContain(t.id);

    await ok(RELEASE, { i: { id: t.id } }, ann.token);
    await ok(CLAIM, { i: { id: t.id } }, bob.token);
    // Bob's claim lapses: Cat may take the task.
    await api.db.ownerPool.query(
      `UPDATE review_tasks SET claim_expires_at = now() - interval '1 second' WHERE id = $1`,
      [t.taskId],
    );
    const after = await ok(CLAIM, { i: { id: t.id } }, cat.token);
    expect(after.claimReviewTask.reviewTask.assigneeId).toBe(member(cat));
  });
});

describe('decisions resume the run', () => {
  it('approve: the run completes with the outcome and the task is resolved', async () => {
    const t = await task('finance');
    const r = await ok(APPROVE, { i: { id: t.id } }, ann.token);
    expect(r.approveReviewTask).toMatchObject({
      complete: true,
      approvals: 1,
      requiredApprovals: 1,
    });
    expect(await runOf(t.runId)).toEqual({
      status: 'succeeded',
      output: { outcome: 'approved', approvers: [ann.userId] },
    });
    const again = await api.gql(APPROVE, { i: { id: t.id } }, bob.token);
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const { rows } = await api.db.ownerPool.query(
      'SELECT status, outcome FROM review_tasks WHERE id = $1',
      [t.taskId],
    );
    expect(rows[0]).toEqual({ status: 'resolved', outcome: 'approved' });
    // The outcome against the SLA, as the compliance report reads it.
    const decided = await api.db.ownerPool.query(
      `SELECT data, actor_id FROM audit_events WHERE kind = 'review.decided' AND subject_id = $1`,
      [t.taskId],
    );
    expect(decided.rows).toHaveLength(1);
    expect(decided.rows[0].actor_id).toBe(ann.userId);
    expect(decided.rows[0].data).toMatchObject({ outcome: 'approved' });
    expect(Date.parse(decided.rows[0].data.decidedAt)).toBeGreaterThanOrEqual(
      Date.parse(decided.rows[0].data.openedAt),
    );
  });

  it("correct: the run completes with the reviewer's label; the model's data stays beside it", async () => {
    const t = await task('finance');
    await api.db.ownerPool.query(
      `UPDATE review_tasks SET data = '{"suggested": "ham"}' WHERE id = $1`,
      [t.taskId],
    );
    const bad = await api.gql(CORRECT, { i: { id: t.id, label: 'eggs' } }, ann.token);
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.label',
    });
    const r = await ok(CORRECT, { i: { id: t.id, label: 'spam' } }, ann.token);
    expect(r.correctReviewTask.reviewTask).toMatchObject({
      outcome: 'corrected',
      correctedOutput: { label: 'spam' },
      data: { suggested: 'ham' },
    });
    expect(await runOf(t.runId)).toEqual({
      status: 'succeeded',
      output: { outcome: 'corrected', label: 'spam', original: { suggested: 'ham' } },
    });
  });

  it('reject: the run resumes with the rejection and its reason', async () => {
    const t = await task('finance');
    await ok(
      'mutation($i: RejectReviewTaskInput!) { rejectReviewTask(input: $i) { reviewTask { outcome } } }',
      { i: { id: t.id, reason: 'duplicate invoice' } },
      bob.token,
    );
    expect((await runOf(t.runId)).output).toEqual({
      outcome: 'rejected',
      rejectedBy: bob.userId,
      reason: 'duplicate invoice',
    });
  });
});

describe('four-eyes', () => {
  it('needs two distinct approvers, neither the run initiator', async () => {
    const t = await task('payments', { kind: 'approval', createdBy: ann.userId });
    const byInitiator = await api.gql(APPROVE, { i: { id: t.id } }, ann.token);
    expect(byInitiator.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'REVIEW_INITIATOR_APPROVER',
    });
    const first = await ok(APPROVE, { i: { id: t.id } }, bob.token);
    expect(first.approveReviewTask).toMatchObject({
      complete: false,
      approvals: 1,
      requiredApprovals: 2,
    });
    expect((await runOf(t.runId)).status).toBe('waiting');
    const twice = await api.gql(APPROVE, { i: { id: t.id } }, bob.token);
    expect(twice.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'REVIEW_SAME_APPROVER',
    });
    const second = await ok(APPROVE, { i: { id: t.id } }, cat.token);
    expect(second.approveReviewTask).toMatchObject({ complete: true, approvals: 2 });
    expect(
      second.approveReviewTask.reviewTask.approvals.map((a: { memberId: string }) => a.memberId),
    ).toEqual([member(bob), member(cat)]);
    expect(await runOf(t.runId)).toEqual({
      status: 'succeeded',
      output: { outcome: 'approved', approvers: [bob.userId, cat.userId] },
    });
  });

  it("takes the approval step's minApprovals when the queue does not ask for four eyes", async () => {
    const wf = await reviewWorkflow(api.db.ownerPool, owner.tenantId, {
      type: 'approval',
      title: 'Two please',
      approvers: { role: 'reviewer' },
      minApprovals: 2,
    });
    const made = await waitingReviewTask(api.db.ownerPool, owner.tenantId, wf, {
      queue: 'finance',
      kind: 'approval',
    });
    const first = await ok(APPROVE, { i: { id: globalId('ReviewTask', made.taskId) } }, ann.token);
    expect(first.approveReviewTask).toMatchObject({ complete: false, requiredApprovals: 2 });
  });
});

describe('connector action approvals (governance policy gate)', () => {
  it('approving runs the gated step again instead of completing it, so the connector is called', async () => {
    const t = await task('finance', { kind: 'approval' });
    await api.db.ownerPool.query(
      `UPDATE review_tasks SET data = '{"gate": "connectorAction", "action": "slack.postMessage", "fourEyes": false, "approvals": []}' WHERE id = $1`,
      [t.taskId],
    );
    const r = await ok(APPROVE, { i: { id: t.id } }, ann.token);
    expect(r.approveReviewTask).toMatchObject({
      complete: true,
      reviewTask: { outcome: 'approved' },
    });
    const { rows } = await api.db.ownerPool.query(
      `SELECT t.status, t.result, s.status AS step_status, r.status AS run_status
         FROM review_tasks t JOIN step_runs s ON s.tenant_id = t.tenant_id AND s.run_id = t.run_id AND s.step_id = t.step_id
         JOIN runs r ON r.tenant_id = t.tenant_id AND r.id = t.run_id WHERE t.id = $1`,
      [t.taskId],
    );
    // The step is queued to run again (the gate then sees the approval); the run goes on.
    expect(rows[0]).toEqual({
      status: 'resolved',
      result: { approved: true },
      step_status: 'running',
      run_status: 'running',
    });
  });
});

describe('comments', () => {
  it('lists comments in order, with their authors, and audits them', async () => {
    const t = await task('finance');
    for (const [who, body] of [
      [ann, 'Sender unknown.'],
      [bob, 'Agreed, looks like spam.'],
    ] as const) {
      await ok(
        'mutation($i: AddReviewCommentInput!) { addReviewComment(input: $i) { comment { id } } }',
        { i: { taskId: t.id, body } },
        who.token,
      );
    }
    const list = await ok(
      'query($id: ID!) { reviewComments(taskId: $id) { authorId body } }',
      { id: t.id },
      cat.token,
    );
    expect(list.reviewComments).toEqual([
      { authorId: member(ann), body: 'Sender unknown.' },
      { authorId: member(bob), body: 'Agreed, looks like spam.' },
    ]);
    const outsider = await api.gql(
      'query($id: ID!) { reviewComments(taskId: $id) { body } }',
      { id: t.id },
      dan.token,
    );
    expect(outsider.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('delegation', () => {
  const DELEGATE =
    'mutation($i: CreateReviewDelegationInput!) { createReviewDelegation(input: $i) { delegation { id delegatorId delegateId } } }';

  it("puts the delegator's queue before the delegate, who acts on their behalf until revoked", async () => {
    const t = await task('finance');
    const before = await api.gql(QUEUE, { q: 'finance' }, eve.token);
    expect(before.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const made = await ok(
      DELEGATE,
      { i: { delegateId: member(eve), endsAt: new Date(Date.now() + 86_400_000).toISOString() } },
      ann.token,
    );
    expect(made.createReviewDelegation.delegation).toMatchObject({
      delegatorId: member(ann),
      delegateId: member(eve),
    });
    const seen = await ok(QUEUE, { q: 'finance' }, eve.token);
    expect(seen.reviewQueue.nodes.map((n: { id: string }) => n.id)).toContain(t.id);

    const approved = await ok(APPROVE, { i: { id: t.id } }, eve.token);
    expect(approved.approveReviewTask.reviewTask.approvals).toEqual([
      { memberId: member(eve), onBehalfOf: member(ann) },
    ]);
    const { rows } = await api.db.ownerPool.query(
      `SELECT actor_id, data->>'onBehalfOf' AS on_behalf_of FROM audit_events
        WHERE kind = 'reviewTask.approved' AND subject_id = $1`,
      [t.taskId],
    );
    expect(rows).toEqual([{ actor_id: eve.userId, on_behalf_of: ann.userId }]);

    await ok(
      'mutation($i: RevokeReviewDelegationInput!) { revokeReviewDelegation(input: $i) { delegation { revokedAt } } }',
      { i: { id: made.createReviewDelegation.delegation.id } },
      ann.token,
    );
    const after = await api.gql(QUEUE, { q: 'finance' }, eve.token);
    expect(after.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a one-task delegation shows that task in the delegate’s list, and only that one', async () => {
    const t = await task('finance');
    const other = await task('finance');
    await ok(CLAIM, { i: { id: t.id } }, bob.token);
    await ok(
      DELEGATE,
      {
        i: {
          delegateId: member(dan),
          taskId: t.id,
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
      },
      bob.token,
    );
    const mine = await ok('{ myReviewTasks(first: 50) { nodes { id } } }', {}, dan.token);
    expect(mine.myReviewTasks.nodes.map((n: { id: string }) => n.id)).toEqual([t.id]);
    await ok(CORRECT, { i: { id: t.id, label: 'ham' } }, dan.token);
    expect((await runOf(t.runId)).output).toMatchObject({ outcome: 'corrected', label: 'ham' });
    const notDelegated = await api.gql(APPROVE, { i: { id: other.id } }, dan.token);
    expect(notDelegated.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses delegating to oneself', async () => {
    const r = await api.gql(
      DELEGATE,
      { i: { delegateId: member(ann), endsAt: new Date(Date.now() + 3_600_000).toISOString() } },
      ann.token,
    );
    expect(r.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'DELEGATION_INVALID',
    });
  });
});

describe('settings', () => {
  it('stores the business calendar and names a bad field', async () => {
    const set = await ok(
      'mutation($i: UpdateReviewSettingsInput!) { updateReviewSettings(input: $i) { reviewSettings { timeZone workDays dayStart dayEnd holidays } } }',
      { i: { timeZone: 'Europe/Paris', holidays: ['2026-12-25'] } },
      owner.token,
    );
    expect(set.updateReviewSettings.reviewSettings).toEqual({
      timeZone: 'Europe/Paris',
      workDays: [1, 2, 3, 4, 5],
      dayStart: '09:00',
      dayEnd: '17:00',
      holidays: ['2026-12-25'],
    });
    const bad = await api.gql(
      'mutation($i: UpdateReviewSettingsInput!) { updateReviewSettings(input: $i) { reviewSettings { timeZone } } }',
      { i: { timeZone: 'Europe/Atlantis' } },
      owner.token,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.timeZone',
    });
  });
});
