import { GraphQLJSON } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { badInput } from '../../errors.js';
import type { ReviewCaller } from '../../services/review-access.js';
import {
  configureReviewQueue,
  createReviewDelegation,
  revokeReviewDelegation,
  updateReviewSettings,
} from '../../services/review-admin-service.js';
import {
  myReviewTasks,
  reviewComments,
  reviewDelegations,
  reviewQueues,
  reviewQueueTasks,
  reviewSettings,
  reviewTask,
} from '../../services/review-presenter.js';
import {
  addReviewComment,
  approveReviewTask,
  claimReviewTask,
  correctReviewTask,
  reassignReviewTask,
  rejectReviewTask,
  releaseReviewTask,
} from '../../services/review-service.js';
import { type RequestContext, requireAuth } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { serviceActorOf } from '../service-actor.js';
import { Connection } from '../types/connection.js';
import {
  ReviewComment,
  ReviewDelegation,
  ReviewQueue,
  ReviewSettings,
  ReviewTask,
} from '../types/review.js';

export const ReviewTaskConnection = Connection('ReviewTask', ReviewTask, (t) =>
  encodeCursor({ createdAt: t.createdAt, id: t.taskId }),
);

function callerOf(ctx: RequestContext): ReviewCaller {
  return { ...serviceActorOf(ctx), actor: requireAuth(ctx).actor, policy: ctx.policy };
}

const taskIdOf = (id: string, field = 'input.id') => uuidFromGlobalId(id, 'ReviewTask', field);
const memberIdOf = (id: string, field: string) => uuidFromGlobalId(id, 'Member', field);

function dateOf(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw badInput(field, `${field} must be an ISO 8601 timestamp.`);
  return date;
}

@InputType()
class ReviewTaskInput {
  @Field(() => ID) id!: string;
}

@InputType()
class RejectReviewTaskInput {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true }) reason?: string | null;
}

@InputType()
class CorrectReviewTaskInput {
  @Field(() => ID) id!: string;
  @Field(() => String, {
    nullable: true,
    description: 'The right label (one of the task’s labels).',
  })
  label?: string | null;
  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'A corrected output object (kept beside the model’s).',
  })
  output?: Record<string, unknown> | null;
}

@InputType()
class AddReviewCommentInput {
  @Field(() => ID) taskId!: string;
  @Field(() => String) body!: string;
}

@InputType()
class ReassignReviewTaskInput {
  @Field(() => ID) id!: string;
  @Field(() => String) queue!: string;
}

@InputType()
class ConfigureReviewQueueInput {
  @Field(() => String) name!: string;
  @Field(() => Int, {
    nullable: true,
    description: 'Business minutes a task may wait; null = no SLA.',
  })
  slaMinutes?: number | null;
  @Field(() => Boolean, { nullable: true, description: 'Default false.' }) fourEyes?:
    | boolean
    | null;
  @Field(() => String, { nullable: true }) escalateTo?: string | null;
  @Field(() => [ID], {
    nullable: true,
    description: 'Members serving the queue; replaces the list. Default none.',
  })
  memberIds?: string[] | null;
}

@InputType()
class UpdateReviewSettingsInput {
  @Field(() => String, { description: 'IANA zone, e.g. Europe/Paris.' }) timeZone!: string;
  @Field(() => [Int], { nullable: true, description: 'ISO weekdays; default Monday to Friday.' })
  workDays?: number[] | null;
  @Field(() => String, { nullable: true, description: 'Default 09:00.' }) dayStart?: string | null;
  @Field(() => String, { nullable: true, description: 'Default 17:00.' }) dayEnd?: string | null;
  @Field(() => [String], { nullable: true, description: 'YYYY-MM-DD; default none.' }) holidays?:
    | string[]
    | null;
  @Field(() => Int, { nullable: true, description: 'How long a claim lasts; default 30 minutes.' })
  claimMinutes?: number | null;
  @Field(() => ID, {
    nullable: true,
    description: 'Workflow started on each escalation; default none.',
  })
  escalationWorkflowId?: string | null;
}

@InputType()
class CreateReviewDelegationInput {
  @Field(() => ID, {
    nullable: true,
    description: 'Whose tasks; default yours (another’s needs admin rights).',
  })
  delegatorId?: string | null;
  @Field(() => ID) delegateId!: string;
  @Field(() => ID, { nullable: true, description: 'One task only; default all tasks.' }) taskId?:
    | string
    | null;
  @Field(() => String, { nullable: true, description: 'ISO 8601; default now.' }) startsAt?:
    | string
    | null;
  @Field(() => String, { description: 'ISO 8601.' }) endsAt!: string;
}

@InputType()
class RevokeReviewDelegationInput {
  @Field(() => ID) id!: string;
}

@ObjectType()
class ReviewTaskPayload {
  @Field(() => ReviewTask) reviewTask!: ReviewTask;
}

@ObjectType()
class ApproveReviewTaskPayload {
  @Field(() => ReviewTask) reviewTask!: ReviewTask;
  @Field(() => Int) approvals!: number;
  @Field(() => Int) requiredApprovals!: number;
  @Field(() => Boolean, { description: 'True once enough people approved and the run resumed.' })
  complete!: boolean;
}

@ObjectType()
class AddReviewCommentPayload {
  @Field(() => ReviewComment) comment!: ReviewComment;
}

@ObjectType()
class ReviewQueuePayload {
  @Field(() => ReviewQueue) reviewQueue!: ReviewQueue;
}

@ObjectType()
class ReviewSettingsPayload {
  @Field(() => ReviewSettings) reviewSettings!: ReviewSettings;
}

@ObjectType()
class ReviewDelegationPayload {
  @Field(() => ReviewDelegation) delegation!: ReviewDelegation;
}

const taskPayload = (row: Parameters<typeof ReviewTask.from>[0]) =>
  Object.assign(new ReviewTaskPayload(), { reviewTask: ReviewTask.from(row) });

@Resolver()
export class ReviewResolver {
  @Query(() => ReviewTaskConnection, {
    description: 'Tasks of one queue you may work, oldest first.',
  })
  @Can('read', 'ReviewTask')
  async reviewQueue(
    @Arg('queue', () => String) queue: string,
    @Ctx() ctx: RequestContext,
    @Arg('status', () => String, { nullable: true, description: 'Default open.' }) status?: string,
    @Arg('claim', () => String, { nullable: true, description: 'unclaimed or mine; default any.' })
    claim?: string,
    @Arg('overdue', () => Boolean, { nullable: true, description: 'Only tasks past their SLA.' })
    overdue?: boolean,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    if (claim != null && claim !== 'unclaimed' && claim !== 'mine') {
      throw badInput('claim', 'claim is unclaimed or mine (or leave it out).');
    }
    const page = await reviewQueueTasks(
      ctx.appPool,
      callerOf(ctx),
      queue,
      {
        status: status ?? null,
        claim: (claim as 'unclaimed' | 'mine' | undefined) ?? null,
        overdue: overdue ?? false,
      },
      pageRequest({ first, after }),
    );
    return ReviewTaskConnection.from({ ...page, nodes: page.nodes.map((t) => ReviewTask.from(t)) });
  }

  @Query(() => ReviewTaskConnection, {
    description: 'Open tasks you hold (or hold for someone who delegated to you), oldest first.',
  })
  @Can('read', 'ReviewTask')
  async myReviewTasks(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const page = await myReviewTasks(ctx.appPool, callerOf(ctx), pageRequest({ first, after }));
    return ReviewTaskConnection.from({ ...page, nodes: page.nodes.map((t) => ReviewTask.from(t)) });
  }

  @Query(() => ReviewTask)
  @Can('read', 'ReviewTask')
  async reviewTask(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    return ReviewTask.from(await reviewTask(ctx.appPool, callerOf(ctx), taskIdOf(id, 'id')));
  }

  @Query(() => [ReviewComment])
  @Can('read', 'ReviewTask')
  async reviewComments(@Arg('taskId', () => ID) taskId: string, @Ctx() ctx: RequestContext) {
    const rows = await reviewComments(ctx.appPool, callerOf(ctx), taskIdOf(taskId, 'taskId'));
    return rows.map(ReviewComment.from);
  }

  @Query(() => [ReviewQueue], {
    description: 'Configured queues you serve (all of them for admins).',
  })
  @Can('read', 'ReviewTask')
  async reviewQueues(@Ctx() ctx: RequestContext) {
    return (await reviewQueues(ctx.appPool, callerOf(ctx))).map(ReviewQueue.from);
  }

  @Query(() => ReviewSettings)
  @Can('read', 'Policy')
  async reviewSettings(@Ctx() ctx: RequestContext) {
    return ReviewSettings.from(await reviewSettings(ctx.appPool, callerOf(ctx).tenantId));
  }

  @Query(() => [ReviewDelegation], {
    description: 'Current delegations to or from you (all for admins).',
  })
  @Can('read', 'ReviewTask')
  async reviewDelegations(@Ctx() ctx: RequestContext) {
    return (await reviewDelegations(ctx.appPool, callerOf(ctx))).map(ReviewDelegation.from);
  }

  @Mutation(() => ReviewTaskPayload, {
    description: 'Takes the task for yourself until the claim expires.',
  })
  @Can('claim', 'ReviewTask')
  async claimReviewTask(
    @Arg('input', () => ReviewTaskInput) input: ReviewTaskInput,
    @Ctx() ctx: RequestContext,
  ) {
    return taskPayload(await claimReviewTask(ctx.appPool, callerOf(ctx), taskIdOf(input.id)));
  }

  @Mutation(() => ReviewTaskPayload)
  @Can('claim', 'ReviewTask')
  async releaseReviewTask(
    @Arg('input', () => ReviewTaskInput) input: ReviewTaskInput,
    @Ctx() ctx: RequestContext,
  ) {
    return taskPayload(await releaseReviewTask(ctx.appPool, callerOf(ctx), taskIdOf(input.id)));
  }

  @Mutation(() => ApproveReviewTaskPayload, {
    description:
      'Approves (claiming it if free); four-eyes tasks resume the run at the second approver.',
  })
  @Can('decide', 'ReviewTask')
  async approveReviewTask(
    @Arg('input', () => ReviewTaskInput) input: ReviewTaskInput,
    @Ctx() ctx: RequestContext,
  ) {
    const result = await approveReviewTask(ctx.appPool, callerOf(ctx), taskIdOf(input.id));
    return Object.assign(new ApproveReviewTaskPayload(), {
      reviewTask: ReviewTask.from(result.task),
      approvals: result.approvals,
      requiredApprovals: result.requiredApprovals,
      complete: result.approvals >= result.requiredApprovals,
    });
  }

  @Mutation(() => ReviewTaskPayload)
  @Can('decide', 'ReviewTask')
  async rejectReviewTask(
    @Arg('input', () => RejectReviewTaskInput) input: RejectReviewTaskInput,
    @Ctx() ctx: RequestContext,
  ) {
    return taskPayload(
      await rejectReviewTask(ctx.appPool, callerOf(ctx), taskIdOf(input.id), {
        reason: input.reason ?? null,
      }),
    );
  }

  @Mutation(() => ReviewTaskPayload, {
    description:
      "Resumes the run with your corrected output (e.g. the right label); the model's is kept.",
  })
  @Can('decide', 'ReviewTask')
  async correctReviewTask(
    @Arg('input', () => CorrectReviewTaskInput) input: CorrectReviewTaskInput,
    @Ctx() ctx: RequestContext,
  ) {
    return taskPayload(
      await correctReviewTask(ctx.appPool, callerOf(ctx), taskIdOf(input.id), {
        label: input.label ?? null,
        output: input.output ?? null,
      }),
    );
  }

  @Mutation(() => AddReviewCommentPayload)
  @Can('claim', 'ReviewTask')
  async addReviewComment(
    @Arg('input', () => AddReviewCommentInput) input: AddReviewCommentInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await addReviewComment(
      ctx.appPool,
      callerOf(ctx),
      taskIdOf(input.taskId, 'input.taskId'),
      input.body,
    );
    return Object.assign(new AddReviewCommentPayload(), { comment: ReviewComment.from(row) });
  }

  @Mutation(() => ReviewTaskPayload, {
    description: 'Moves an open task to another queue, unclaimed.',
  })
  @Can('update', 'ReviewTask')
  async reassignReviewTask(
    @Arg('input', () => ReassignReviewTaskInput) input: ReassignReviewTaskInput,
    @Ctx() ctx: RequestContext,
  ) {
    return taskPayload(
      await reassignReviewTask(ctx.appPool, callerOf(ctx), taskIdOf(input.id), input.queue),
    );
  }

  @Mutation(() => ReviewQueuePayload, {
    description: 'Creates or changes a queue: SLA, four-eyes, next tier, members.',
  })
  @Can('update', 'Policy')
  async configureReviewQueue(
    @Arg('input', () => ConfigureReviewQueueInput) input: ConfigureReviewQueueInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await configureReviewQueue(ctx.appPool, callerOf(ctx), {
      name: input.name,
      slaMinutes: input.slaMinutes ?? null,
      fourEyes: input.fourEyes ?? false,
      escalateTo: input.escalateTo ?? null,
      memberIds: (input.memberIds ?? []).map((id, i) => memberIdOf(id, `input.memberIds.${i}`)),
    });
    return Object.assign(new ReviewQueuePayload(), { reviewQueue: ReviewQueue.from(row) });
  }

  @Mutation(() => ReviewSettingsPayload, {
    description: "Sets the tenant's business calendar and review options.",
  })
  @Can('update', 'Policy')
  async updateReviewSettings(
    @Arg('input', () => UpdateReviewSettingsInput) input: UpdateReviewSettingsInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await updateReviewSettings(ctx.appPool, callerOf(ctx), {
      timeZone: input.timeZone,
      workDays: input.workDays ?? [1, 2, 3, 4, 5],
      dayStart: input.dayStart ?? '09:00',
      dayEnd: input.dayEnd ?? '17:00',
      holidays: input.holidays ?? [],
      claimMinutes: input.claimMinutes ?? 30,
      escalationWorkflowId: input.escalationWorkflowId
        ? uuidFromGlobalId(input.escalationWorkflowId, 'Workflow', 'input.escalationWorkflowId')
        : null,
    });
    return Object.assign(new ReviewSettingsPayload(), { reviewSettings: ReviewSettings.from(row) });
  }

  @Mutation(() => ReviewDelegationPayload, {
    description: 'Hands your review tasks (or one task) to another member for a period.',
  })
  @Can('claim', 'ReviewTask')
  async createReviewDelegation(
    @Arg('input', () => CreateReviewDelegationInput) input: CreateReviewDelegationInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await createReviewDelegation(ctx.appPool, callerOf(ctx), {
      delegatorId: input.delegatorId ? memberIdOf(input.delegatorId, 'input.delegatorId') : null,
      delegateId: memberIdOf(input.delegateId, 'input.delegateId'),
      taskId: input.taskId ? taskIdOf(input.taskId, 'input.taskId') : null,
      startsAt: input.startsAt ? dateOf(input.startsAt, 'input.startsAt') : null,
      endsAt: dateOf(input.endsAt, 'input.endsAt'),
    });
    return Object.assign(new ReviewDelegationPayload(), { delegation: ReviewDelegation.from(row) });
  }

  @Mutation(() => ReviewDelegationPayload)
  @Can('claim', 'ReviewTask')
  async revokeReviewDelegation(
    @Arg('input', () => RevokeReviewDelegationInput) input: RevokeReviewDelegationInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await revokeReviewDelegation(
      ctx.appPool,
      callerOf(ctx),
      uuidFromGlobalId(input.id, 'ReviewDelegation', 'input.id'),
    );
    return Object.assign(new ReviewDelegationPayload(), { delegation: ReviewDelegation.from(row) });
  }
}
