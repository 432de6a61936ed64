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
import {
  createEmailTrigger,
  DEFAULT_INBOUND_EMAIL_DOMAIN,
  deleteEmailTrigger,
  listEmailTriggers,
} from '../../services/email-trigger-service.js';
import { type RequestContext } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { Connection } from '../types/connection.js';
import { EmailTrigger } from '../types/email-trigger.js';

// E-mail triggers reuse the WebhookTrigger subject: both are inbound doors that start a
// workflow's runs, and the roles grant them alike.

export const EmailTriggerConnection = Connection('EmailTrigger', EmailTrigger, (t) =>
  encodeCursor({ createdAt: t.createdAt, id: t.triggerId }),
);

@InputType()
class CreateEmailTriggerInput {
  @Field(() => ID) workflowId!: string;
}

@InputType()
class DeleteEmailTriggerInput {
  @Field(() => ID) id!: string;
}

@ObjectType()
class CreateEmailTriggerPayload {
  @Field(() => EmailTrigger) emailTrigger!: EmailTrigger;
}

@ObjectType()
class DeleteEmailTriggerPayload {
  @Field(() => ID) deletedId!: string;
}

const domainOf = (ctx: RequestContext) => ctx.inboundEmailDomain ?? DEFAULT_INBOUND_EMAIL_DOMAIN;

@Resolver()
export class EmailTriggerResolver {
  @Mutation(() => CreateEmailTriggerPayload, {
    description: 'Creates a random inbound address whose mail starts runs of the workflow.',
  })
  @Can('create', 'WebhookTrigger')
  async createEmailTrigger(
    @Arg('input', () => CreateEmailTriggerInput) input: CreateEmailTriggerInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await createEmailTrigger(ctx.appPool, actorOf(ctx), {
      workflowId: uuidFromGlobalId(input.workflowId, 'Workflow', 'input.workflowId'),
    });
    return Object.assign(new CreateEmailTriggerPayload(), {
      emailTrigger: EmailTrigger.from(row, domainOf(ctx)),
    });
  }

  @Mutation(() => DeleteEmailTriggerPayload)
  @Can('delete', 'WebhookTrigger')
  async deleteEmailTrigger(
    @Arg('input', () => DeleteEmailTriggerInput) input: DeleteEmailTriggerInput,
    @Ctx() ctx: RequestContext,
  ) {
    await deleteEmailTrigger(
      ctx.appPool,
      actorOf(ctx),
      uuidFromGlobalId(input.id, 'EmailTrigger', 'input.id'),
    );
    return Object.assign(new DeleteEmailTriggerPayload(), { deletedId: input.id });
  }

  @Query(() => EmailTriggerConnection)
  @Can('read', 'WebhookTrigger')
  async emailTriggers(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('workflowId', () => ID, { nullable: true }) workflowId?: string,
  ) {
    const { tenantId } = actorOf(ctx);
    const page = await listEmailTriggers(
      ctx.appPool,
      tenantId,
      { workflowId: workflowId ? uuidFromGlobalId(workflowId, 'Workflow', 'workflowId') : null },
      pageRequest({ first, after }),
    );
    const domain = domainOf(ctx);
    return EmailTriggerConnection.from({
      ...page,
      nodes: page.nodes.map((t) => EmailTrigger.from(t, domain)),
    });
  }
}
