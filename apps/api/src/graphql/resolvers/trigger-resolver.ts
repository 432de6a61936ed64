import { getRun, listCallbackDeliveries } from '@roster/engine';
import { GraphQLJSONObject } from 'graphql-scalars';
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
import { listSchedules, listWebhookTriggers } from '../../services/trigger-presenter.js';
import {
  addSchedule,
  changeSchedule,
  createTrigger,
  deleteTrigger,
  removeSchedule,
  setCallback,
} from '../../services/trigger-service.js';
import { getWorkflow } from '../../services/workflow-presenter.js';
import { type RequestContext } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { Connection } from '../types/connection.js';
import { CallbackDelivery, Schedule, WebhookTrigger, WorkflowCallback } from '../types/trigger.js';

export const WebhookTriggerConnection = Connection('WebhookTrigger', WebhookTrigger, (t) =>
  encodeCursor({ createdAt: t.createdAt, id: t.triggerId }),
);
export const ScheduleConnection = Connection('Schedule', Schedule, (s) =>
  encodeCursor({ createdAt: s.createdAt, id: s.scheduleId }),
);

@InputType()
class CreateWebhookTriggerInput {
  @Field(() => ID) workflowId!: string;
  @Field(() => String) name!: string;
}

@InputType()
class DeleteWebhookTriggerInput {
  @Field(() => ID) id!: string;
}

@InputType()
class CreateScheduleInput {
  @Field(() => ID) workflowId!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'Five cron fields, e.g. "*/15 * * * *".' }) cron!: string;
  @Field(() => String, { nullable: true, description: 'IANA time zone. Default UTC.' })
  timezone?: string | null;
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Input of every run. Default {}.',
  })
  input?: Record<string, unknown> | null;
  @Field(() => Boolean, { nullable: true, description: 'Default true.' }) enabled?: boolean | null;
}

@InputType()
class UpdateScheduleInput {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) cron?: string | null;
  @Field(() => String, { nullable: true }) timezone?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) input?: Record<string, unknown> | null;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
}

@InputType()
class DeleteScheduleInput {
  @Field(() => ID) id!: string;
}

@InputType()
class SetWorkflowCallbackInput {
  @Field(() => ID) workflowId!: string;
  @Field(() => String, { nullable: true, description: 'http(s) URL; null removes the callback.' })
  url?: string | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Issue a new signing secret. Default false.',
  })
  rotateSecret?: boolean | null;
}

@ObjectType()
class CreateWebhookTriggerPayload {
  @Field(() => WebhookTrigger) webhookTrigger!: WebhookTrigger;
  @Field(() => String, {
    description: 'The `whsec_…` signing secret. Shown only here: store it now.',
  })
  signingSecret!: string;
}

@ObjectType()
class DeletePayload {
  @Field(() => ID) deletedId!: string;
}

@ObjectType()
class SchedulePayload {
  @Field(() => Schedule) schedule!: Schedule;
}

@ObjectType()
class SetWorkflowCallbackPayload {
  @Field(() => WorkflowCallback, { nullable: true }) callback!: WorkflowCallback | null;
  @Field(() => String, {
    nullable: true,
    description:
      'The `whsec_…` secret callbacks are signed with: only when it was created or rotated now.',
  })
  signingSecret!: string | null;
}

const optional = <T>(value: T | null | undefined): value is T =>
  value !== null && value !== undefined;

@Resolver()
export class TriggerResolver {
  @Mutation(() => CreateWebhookTriggerPayload, {
    description: 'Creates a signed webhook trigger for a workflow; returns its secret once.',
  })
  @Can('create', 'WebhookTrigger')
  async createWebhookTrigger(
    @Arg('input', () => CreateWebhookTriggerInput) input: CreateWebhookTriggerInput,
    @Ctx() ctx: RequestContext,
  ) {
    const actor = actorOf(ctx);
    const { trigger, secret } = await createTrigger(ctx.appPool, actor, {
      workflowId: uuidFromGlobalId(input.workflowId, 'Workflow', 'input.workflowId'),
      name: input.name,
    });
    return Object.assign(new CreateWebhookTriggerPayload(), {
      webhookTrigger: WebhookTrigger.from(trigger, actor.tenantId),
      signingSecret: secret,
    });
  }

  @Mutation(() => DeletePayload)
  @Can('delete', 'WebhookTrigger')
  async deleteWebhookTrigger(
    @Arg('input', () => DeleteWebhookTriggerInput) input: DeleteWebhookTriggerInput,
    @Ctx() ctx: RequestContext,
  ) {
    await deleteTrigger(
      ctx.appPool,
      actorOf(ctx),
      uuidFromGlobalId(input.id, 'WebhookTrigger', 'input.id'),
    );
    return Object.assign(new DeletePayload(), { deletedId: input.id });
  }

  @Query(() => WebhookTriggerConnection)
  @Can('read', 'WebhookTrigger')
  async webhookTriggers(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('workflowId', () => ID, { nullable: true }) workflowId?: string,
  ) {
    const { tenantId } = actorOf(ctx);
    const page = await listWebhookTriggers(
      ctx.appPool,
      tenantId,
      { workflowId: workflowId ? uuidFromGlobalId(workflowId, 'Workflow', 'workflowId') : null },
      pageRequest({ first, after }),
    );
    return WebhookTriggerConnection.from({
      ...page,
      nodes: page.nodes.map((t) => WebhookTrigger.from(t, tenantId)),
    });
  }

  @Mutation(() => SchedulePayload)
  @Can('create', 'Schedule')
  async createSchedule(
    @Arg('input', () => CreateScheduleInput) input: CreateScheduleInput,
    @Ctx() ctx: RequestContext,
  ) {
    const schedule = await addSchedule(ctx.appPool, actorOf(ctx), {
      ...input,
      workflowId: uuidFromGlobalId(input.workflowId, 'Workflow', 'input.workflowId'),
    });
    return Object.assign(new SchedulePayload(), { schedule: Schedule.from(schedule) });
  }

  @Mutation(() => SchedulePayload, {
    description:
      'Changes a schedule (enable/disable, cron, zone, input); the next fire is recomputed.',
  })
  @Can('update', 'Schedule')
  async updateSchedule(
    @Arg('input', () => UpdateScheduleInput) input: UpdateScheduleInput,
    @Ctx() ctx: RequestContext,
  ) {
    const schedule = await changeSchedule(
      ctx.appPool,
      actorOf(ctx),
      uuidFromGlobalId(input.id, 'Schedule', 'input.id'),
      {
        ...(optional(input.name) ? { name: input.name } : {}),
        ...(optional(input.cron) ? { cron: input.cron } : {}),
        ...(optional(input.timezone) ? { timezone: input.timezone } : {}),
        ...(optional(input.input) ? { input: input.input } : {}),
        ...(optional(input.enabled) ? { enabled: input.enabled } : {}),
      },
    );
    return Object.assign(new SchedulePayload(), { schedule: Schedule.from(schedule) });
  }

  @Mutation(() => DeletePayload)
  @Can('delete', 'Schedule')
  async deleteSchedule(
    @Arg('input', () => DeleteScheduleInput) input: DeleteScheduleInput,
    @Ctx() ctx: RequestContext,
  ) {
    await removeSchedule(
      ctx.appPool,
      actorOf(ctx),
      uuidFromGlobalId(input.id, 'Schedule', 'input.id'),
    );
    return Object.assign(new DeletePayload(), { deletedId: input.id });
  }

  @Query(() => ScheduleConnection)
  @Can('read', 'Schedule')
  async schedules(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('workflowId', () => ID, { nullable: true }) workflowId?: string,
  ) {
    const { tenantId } = actorOf(ctx);
    const page = await listSchedules(
      ctx.appPool,
      tenantId,
      { workflowId: workflowId ? uuidFromGlobalId(workflowId, 'Workflow', 'workflowId') : null },
      pageRequest({ first, after }),
    );
    return ScheduleConnection.from({ ...page, nodes: page.nodes.map(Schedule.from) });
  }

  @Mutation(() => SetWorkflowCallbackPayload, {
    description:
      "Sets where the workflow's runs report when they end (signed Standard Webhooks POST); a null url removes it.",
  })
  @Can('update', 'Workflow')
  async setWorkflowCallback(
    @Arg('input', () => SetWorkflowCallbackInput) input: SetWorkflowCallbackInput,
    @Ctx() ctx: RequestContext,
  ) {
    const actor = actorOf(ctx);
    const workflowId = uuidFromGlobalId(input.workflowId, 'Workflow', 'input.workflowId');
    const workflow = await getWorkflow(ctx.appPool, actor.tenantId, workflowId);
    const { callback, secret } = await setCallback(ctx.appPool, actor, workflow, {
      workflowId,
      url: input.url ?? null,
      rotateSecret: input.rotateSecret === true,
    });
    return Object.assign(new SetWorkflowCallbackPayload(), {
      callback: callback ? WorkflowCallback.from(callback) : null,
      signingSecret: secret,
    });
  }

  @Query(() => [CallbackDelivery], {
    description: "A run's callback delivery log: each event with every attempt.",
  })
  @Can('read', 'Run')
  async callbackDeliveries(@Arg('runId', () => ID) runId: string, @Ctx() ctx: RequestContext) {
    const { tenantId } = actorOf(ctx);
    const id = uuidFromGlobalId(runId, 'Run', 'runId');
    await getRun(ctx.appPool, tenantId, id); // NOT_FOUND for another tenant's run
    return (await listCallbackDeliveries(ctx.appPool, tenantId, id)).map(CallbackDelivery.from);
  }
}
