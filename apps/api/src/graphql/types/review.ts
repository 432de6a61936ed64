import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { ReviewTaskView } from '../../services/review-presenter.js';
import type {
  ApprovalRow,
  DelegationRow,
  ReviewCommentRow,
  ReviewQueueRow,
  ReviewSettingsRow,
} from '../../services/review-store.js';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

const memberId = (id: string | null) => (id ? toGlobalId('Member', id) : null);

@ObjectType({ description: 'One approval of a review task (four-eyes tasks collect several).' })
export class ReviewApproval {
  @Field(() => ID, { description: 'The Member who approved.' }) memberId!: string;
  @Field(() => ID, {
    nullable: true,
    description: 'The Member they approved for under a delegation.',
  })
  onBehalfOf!: string | null;
  @Field(() => Date) at!: Date;

  static from(row: ApprovalRow): ReviewApproval {
    return Object.assign(new ReviewApproval(), {
      memberId: memberId(row.memberId),
      onBehalfOf: memberId(row.onBehalfOf),
      at: row.createdAt,
    });
  }
}

@ObjectType({
  implements: Node,
  description: 'A human-in-the-loop item: a review, an approval or a low-confidence decision.',
})
export class ReviewTask extends Node {
  /** Raw uuid, for cursors and services. */
  taskId!: string;
  @Field(() => String, { description: 'review or approval.' }) kind!: string;
  @Field(() => String) title!: string;
  @Field(() => GraphQLJSON, {
    description: "What the reviewer sees; for a decision, the model's output under `decision`.",
  })
  data!: unknown;
  @Field(() => [String], { nullable: true, description: 'Labels a correction may choose from.' })
  labels!: string[] | null;
  @Field(() => String, {
    description: "The queue it waits in (the step's role, a team, or a tier it escalated to).",
  })
  queue!: string;
  @Field(() => String, { description: 'open, resolved, expired or cancelled.' }) status!: string;
  @Field(() => ID, {
    nullable: true,
    description: 'The Member holding the claim (may have expired: see claimExpiresAt).',
  })
  assigneeId!: string | null;
  @Field(() => Date, { nullable: true }) claimExpiresAt!: Date | null;
  @Field(() => Date, {
    nullable: true,
    description: "When it breaches its queue's SLA (business hours), once stamped.",
  })
  slaDueAt!: Date | null;
  @Field(() => Int, { description: 'How many tiers it escalated.' }) escalationLevel!: number;
  @Field(() => String, { nullable: true, description: 'approved, rejected or corrected.' })
  outcome!: string | null;
  @Field(() => GraphQLJSON, {
    nullable: true,
    description: "The reviewer's corrected output (the model's stays in data).",
  })
  correctedOutput!: unknown;
  @Field(() => [ReviewApproval]) approvals!: ReviewApproval[];
  @Field(() => ID) runId!: string;
  @Field(() => String) stepId!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) resolvedAt!: Date | null;

  static from(
    row: ReviewTaskView | (Omit<ReviewTaskView, 'approvals'> & { approvals?: ApprovalRow[] }),
  ): ReviewTask {
    return Object.assign(new ReviewTask(), {
      id: toGlobalId('ReviewTask', row.id),
      taskId: row.id,
      kind: row.kind,
      title: row.title,
      data: row.data,
      labels: row.labels,
      queue: row.queue,
      status: row.status,
      assigneeId: memberId(row.assigneeId),
      claimExpiresAt: row.claimExpiresAt,
      slaDueAt: row.slaDueAt,
      escalationLevel: row.escalationLevel,
      outcome: row.outcome,
      correctedOutput: row.correctedOutput,
      approvals: (row.approvals ?? []).map(ReviewApproval.from),
      runId: toGlobalId('Run', row.runId),
      stepId: row.stepId,
      createdAt: row.createdAt,
      resolvedAt: row.resolvedAt,
    });
  }
}

@ObjectType({ implements: Node })
export class ReviewComment extends Node {
  commentId!: string;
  @Field(() => ID) authorId!: string;
  @Field(() => ID, {
    nullable: true,
    description: 'The Member the author wrote for under a delegation.',
  })
  onBehalfOf!: string | null;
  @Field(() => String) body!: string;
  @Field(() => Date) createdAt!: Date;

  static from(row: ReviewCommentRow): ReviewComment {
    return Object.assign(new ReviewComment(), {
      id: toGlobalId('ReviewComment', row.id),
      commentId: row.id,
      authorId: memberId(row.authorId),
      onBehalfOf: memberId(row.onBehalfOf),
      body: row.body,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType({ description: 'A review queue: who serves it, its SLA, four-eyes and next tier.' })
export class ReviewQueue {
  @Field(() => String) name!: string;
  @Field(() => Int, {
    nullable: true,
    description: 'Business minutes a task may wait; null = no SLA.',
  })
  slaMinutes!: number | null;
  @Field(() => Boolean, {
    description: 'Tasks need two distinct approvers, neither the run initiator.',
  })
  fourEyes!: boolean;
  @Field(() => String, {
    nullable: true,
    description: 'Where a breached task goes; null = last tier.',
  })
  escalateTo!: string | null;
  @Field(() => [ID], {
    description: "Members added to it (members whose role has the queue's name serve it too).",
  })
  memberIds!: string[];

  static from(row: ReviewQueueRow): ReviewQueue {
    return Object.assign(new ReviewQueue(), {
      name: row.name,
      slaMinutes: row.slaMinutes,
      fourEyes: row.fourEyes,
      escalateTo: row.escalateTo,
      memberIds: row.members.map((m) => toGlobalId('Member', m)),
    });
  }
}

@ObjectType({
  description: "The tenant's business calendar for SLAs, claim length and escalation action.",
})
export class ReviewSettings {
  @Field(() => String) timeZone!: string;
  @Field(() => [Int], { description: 'ISO weekdays worked (1 = Monday).' }) workDays!: number[];
  @Field(() => String) dayStart!: string;
  @Field(() => String) dayEnd!: string;
  @Field(() => [String]) holidays!: string[];
  @Field(() => Int) claimMinutes!: number;
  @Field(() => ID, {
    nullable: true,
    description: 'Workflow started on each escalation (its connector step notifies).',
  })
  escalationWorkflowId!: string | null;

  static from(row: ReviewSettingsRow): ReviewSettings {
    return Object.assign(new ReviewSettings(), {
      ...row.calendar,
      claimMinutes: row.claimMinutes,
      escalationWorkflowId: row.escalationWorkflowId
        ? toGlobalId('Workflow', row.escalationWorkflowId)
        : null,
    });
  }
}

@ObjectType({ implements: Node })
export class ReviewDelegation extends Node {
  @Field(() => ID) delegatorId!: string;
  @Field(() => ID) delegateId!: string;
  @Field(() => ID, {
    nullable: true,
    description: 'One task only; null = all the delegator’s tasks.',
  })
  taskId!: string | null;
  @Field(() => Date) startsAt!: Date;
  @Field(() => Date) endsAt!: Date;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;

  static from(row: DelegationRow): ReviewDelegation {
    return Object.assign(new ReviewDelegation(), {
      id: toGlobalId('ReviewDelegation', row.id),
      delegatorId: toGlobalId('Member', row.delegatorId),
      delegateId: toGlobalId('Member', row.delegateId),
      taskId: row.taskId ? toGlobalId('ReviewTask', row.taskId) : null,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      revokedAt: row.revokedAt,
    });
  }
}
