import type { TestApi } from '../api-harness.js';
import { globalId, reviewWorkflow, waitingReviewTask } from '../review-fixtures.js';
import type { DomainCalls, MatrixOwner } from './types.js';

// Review tasks wait in 'matrix-queue', a queue no matrix member serves: reviewers (who serve
// only the 'reviewer' queue named after their role) get FORBIDDEN there, as the policy says for
// a queue outside ${actor.reviewQueues}.
const QUEUE = 'matrix-queue';
const TASK = { subject: 'ReviewTask' as const, row: { queue: QUEUE, assigneeId: null } };

/** Made once per tenant: the workflow and another member to delegate to. */
const shared = new Map<string, Promise<{ workflowId: string; otherMemberId: string }>>();

async function fixture(api: TestApi, owner: MatrixOwner) {
  let base = shared.get(owner.tenantId);
  if (!base) {
    base = (async () => {
      const workflowId = await reviewWorkflow(api.db.ownerPool, owner.tenantId);
      const other = await api.addMember(owner.token, 'reviewer');
      return { workflowId, otherMemberId: other.userId };
    })();
    shared.set(owner.tenantId, base);
  }
  const { workflowId, otherMemberId } = await base;
  const { taskId } = await waitingReviewTask(api.db.ownerPool, owner.tenantId, workflowId, {
    queue: QUEUE,
  });
  const { rows } = await api.db.ownerPool.query<{ id: string }>(
    `INSERT INTO review_delegations (tenant_id, delegator_id, delegate_id, starts_at, ends_at, created_by)
     VALUES ($1, $2, $3, now(), now() + interval '1 day', $2) RETURNING id`,
    [owner.tenantId, owner.userId, otherMemberId],
  );
  return {
    reviewTaskId: globalId('ReviewTask', taskId),
    reviewTaskUuid: taskId,
    reviewOwnerId: owner.userId,
    reviewWorkflowId: globalId('Workflow', workflowId),
    reviewOtherMemberId: globalId('Member', otherMemberId),
    reviewDelegationId: globalId('ReviewDelegation', (rows[0] as { id: string }).id),
  };
}

const calls: DomainCalls = {
  fixture,
  calls: {
    reviewQueue: {
      query: `query($q: String!) { reviewQueue(queue: $q, first: 5) { nodes { id queue status } } }`,
      variables: () => ({ q: QUEUE }),
      record: TASK,
    },
    myReviewTasks: { query: '{ myReviewTasks(first: 5) { nodes { id } } }' },
    reviewTask: {
      query: 'query($id: ID!) { reviewTask(id: $id) { id queue approvals { memberId } } }',
      variables: (f) => ({ id: f.reviewTaskId }),
      record: TASK,
    },
    reviewComments: {
      query: 'query($id: ID!) { reviewComments(taskId: $id) { id body } }',
      variables: (f) => ({ id: f.reviewTaskId }),
      record: TASK,
    },
    reviewQueues: { query: '{ reviewQueues { name slaMinutes fourEyes } }' },
    reviewSettings: { query: '{ reviewSettings { timeZone workDays dayStart dayEnd } }' },
    reviewDelegations: { query: '{ reviewDelegations { id delegateId } }' },
    claimReviewTask: {
      query:
        'mutation($i: ReviewTaskInput!) { claimReviewTask(input: $i) { reviewTask { assigneeId } } }',
      variables: (f) => ({ i: { id: f.reviewTaskId } }),
      record: TASK,
      audit: { action: 'reviewTask.claimed' },
    },
    releaseReviewTask: {
      query:
        'mutation($i: ReviewTaskInput!) { releaseReviewTask(input: $i) { reviewTask { assigneeId } } }',
      variables: (f) => ({ i: { id: f.reviewTaskId } }),
      record: TASK,
      // Nothing to release on a fresh task: CONFLICT still means the caller was let in.
      allowedErrors: ['CONFLICT'],
      audit: {
        action: 'reviewTask.released',
        prepare: async (api, f) => {
          await api.db.ownerPool.query(
            `UPDATE review_tasks SET assignee_id = $2, claim_expires_at = now() + interval '1 hour' WHERE id = $1`,
            [f.reviewTaskUuid, f.reviewOwnerId],
          );
        },
      },
    },
    approveReviewTask: {
      query:
        'mutation($i: ReviewTaskInput!) { approveReviewTask(input: $i) { complete reviewTask { outcome } } }',
      variables: (f) => ({ i: { id: f.reviewTaskId } }),
      record: { subject: 'ReviewTask', row: { queue: QUEUE } },
      audit: { action: 'reviewTask.approved' },
    },
    rejectReviewTask: {
      query:
        'mutation($i: RejectReviewTaskInput!) { rejectReviewTask(input: $i) { reviewTask { outcome } } }',
      variables: (f) => ({ i: { id: f.reviewTaskId, reason: 'not ours' } }),
      record: { subject: 'ReviewTask', row: { queue: QUEUE } },
      audit: { action: 'reviewTask.rejected' },
    },
    correctReviewTask: {
      query:
        'mutation($i: CorrectReviewTaskInput!) { correctReviewTask(input: $i) { reviewTask { outcome correctedOutput } } }',
      variables: (f) => ({ i: { id: f.reviewTaskId, label: 'spam' } }),
      record: { subject: 'ReviewTask', row: { queue: QUEUE } },
      audit: { action: 'reviewTask.corrected' },
    },
    addReviewComment: {
      query:
        'mutation($i: AddReviewCommentInput!) { addReviewComment(input: $i) { comment { id body } } }',
      variables: (f) => ({ i: { taskId: f.reviewTaskId, body: 'Looks like spam to me.' } }),
      record: TASK,
      audit: { action: 'reviewTask.commented' },
    },
    reassignReviewTask: {
      query:
        'mutation($i: ReassignReviewTaskInput!) { reassignReviewTask(input: $i) { reviewTask { queue } } }',
      variables: (f) => ({ i: { id: f.reviewTaskId, queue: 'matrix-tier2' } }),
      record: TASK,
      audit: { action: 'reviewTask.reassigned' },
    },
    configureReviewQueue: {
      query:
        'mutation($i: ConfigureReviewQueueInput!) { configureReviewQueue(input: $i) { reviewQueue { name } } }',
      variables: () => ({
        i: {
          name: 'matrix-configured',
          slaMinutes: 120,
          fourEyes: true,
          escalateTo: 'matrix-tier2',
        },
      }),
      audit: { action: 'reviewQueue.configured' },
    },
    updateReviewSettings: {
      query:
        'mutation($i: UpdateReviewSettingsInput!) { updateReviewSettings(input: $i) { reviewSettings { timeZone } } }',
      variables: () => ({ i: { timeZone: 'Europe/Paris' } }),
      audit: { action: 'reviewSettings.updated' },
    },
    createReviewDelegation: {
      query:
        'mutation($i: CreateReviewDelegationInput!) { createReviewDelegation(input: $i) { delegation { id } } }',
      variables: (f) => ({
        i: {
          delegateId: f.reviewOtherMemberId,
          endsAt: new Date(Date.now() + 86_400_000).toISOString(),
        },
      }),
      audit: { action: 'reviewDelegation.created' },
    },
    revokeReviewDelegation: {
      query:
        'mutation($i: RevokeReviewDelegationInput!) { revokeReviewDelegation(input: $i) { delegation { revokedAt } } }',
      variables: (f) => ({ i: { id: f.reviewDelegationId } }),
      record: { subject: 'ReviewTask', row: { queue: QUEUE } },
      audit: { action: 'reviewDelegation.revoked' },
    },
  },
};

export default calls;
