import { GraphQLJSONObject } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { notFound } from '../../errors.js';
import {
  getWorkflow,
  listWorkflows,
  listWorkflowVersions,
} from '../../services/workflow-presenter.js';
import {
  archiveWorkflow,
  createWorkflow,
  createWorkflowVersion,
  renameWorkflow,
} from '../../services/workflow-service.js';
import { type RequestContext, requireAuth } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, MAX_PAGE_SIZE, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { Connection } from '../types/connection.js';
import { Workflow, WorkflowStatus, WorkflowVersion } from '../types/workflow.js';

export const WorkflowConnection = Connection('Workflow', Workflow, (w) =>
  encodeCursor({ createdAt: w.createdAt, id: w.workflowId }),
);

@InputType()
class CreateWorkflowInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@InputType()
class RenameWorkflowInput {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
}

@InputType()
class ArchiveWorkflowInput {
  @Field(() => ID) id!: string;
}

@InputType()
class CreateWorkflowVersionInput {
  @Field(() => ID) workflowId!: string;
  @Field(() => GraphQLJSONObject, {
    description:
      'The definition (workflow DSL, packages/core); validated with every problem listed.',
  })
  definition!: Record<string, unknown>;
}

@ObjectType()
class WorkflowPayload {
  @Field(() => Workflow) workflow!: Workflow;
}

@ObjectType()
class CreateWorkflowVersionPayload {
  @Field(() => WorkflowVersion) workflowVersion!: WorkflowVersion;
}

const payload = (row: Parameters<typeof Workflow.from>[0]) =>
  Object.assign(new WorkflowPayload(), { workflow: Workflow.from(row) });

@Resolver(() => Workflow)
export class WorkflowResolver {
  @Query(() => WorkflowConnection)
  @Can('read', 'Workflow')
  async workflows(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('status', () => WorkflowStatus, { nullable: true }) status?: WorkflowStatus,
  ) {
    const { actor, ability } = requireAuth(ctx);
    const page = await listWorkflows(
      ctx.appPool,
      actor.tenantId,
      ability,
      pageRequest({ first, after }),
      status ?? null,
    );
    return WorkflowConnection.from({ ...page, nodes: page.nodes.map(Workflow.from) });
  }

  @Query(() => Workflow)
  @Can('read', 'Workflow')
  async workflow(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Workflow> {
    const { actor } = requireAuth(ctx);
    const row = await getWorkflow(
      ctx.appPool,
      actor.tenantId,
      uuidFromGlobalId(id, 'Workflow', 'id'),
    );
    if (!row) throw notFound('That workflow');
    return Workflow.from(row);
  }

  @FieldResolver(() => [WorkflowVersion], { description: 'Newest first.' })
  async versions(
    @Root() workflow: Workflow,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
  ): Promise<WorkflowVersion[]> {
    const { actor, ability } = requireAuth(ctx);
    ability.assert('read', 'WorkflowVersion');
    const limit = pageRequest({ first: first ?? 10 }).limit;
    const rows = await listWorkflowVersions(
      ctx.appPool,
      actor.tenantId,
      workflow.workflowId,
      Math.min(limit, MAX_PAGE_SIZE),
    );
    return rows.map(WorkflowVersion.from);
  }

  @Mutation(() => WorkflowPayload)
  @Can('create', 'Workflow')
  async createWorkflow(
    @Arg('input', () => CreateWorkflowInput) input: CreateWorkflowInput,
    @Ctx() ctx: RequestContext,
  ) {
    return payload(await createWorkflow(ctx.appPool, actorOf(ctx), input));
  }

  @Mutation(() => WorkflowPayload)
  @Can('update', 'Workflow')
  async renameWorkflow(
    @Arg('input', () => RenameWorkflowInput) input: RenameWorkflowInput,
    @Ctx() ctx: RequestContext,
  ) {
    return payload(
      await renameWorkflow(
        ctx.appPool,
        actorOf(ctx),
        uuidFromGlobalId(input.id, 'Workflow', 'input.id'),
        input.name,
      ),
    );
  }

  @Mutation(() => WorkflowPayload)
  @Can('archive', 'Workflow')
  async archiveWorkflow(
    @Arg('input', () => ArchiveWorkflowInput) input: ArchiveWorkflowInput,
    @Ctx() ctx: RequestContext,
  ) {
    return payload(
      await archiveWorkflow(
        ctx.appPool,
        actorOf(ctx),
        uuidFromGlobalId(input.id, 'Workflow', 'input.id'),
      ),
    );
  }

  @Mutation(() => CreateWorkflowVersionPayload, {
    description: 'Adds the next immutable version of a workflow.',
  })
  @Can('create', 'WorkflowVersion')
  async createWorkflowVersion(
    @Arg('input', () => CreateWorkflowVersionInput) input: CreateWorkflowVersionInput,
    @Ctx() ctx: RequestContext,
  ) {
    const created = await createWorkflowVersion(
      ctx.appPool,
      actorOf(ctx),
      uuidFromGlobalId(input.workflowId, 'Workflow', 'input.workflowId'),
      input.definition,
      ctx.limits.maxDefinitionBytes,
    );
    return Object.assign(new CreateWorkflowVersionPayload(), {
      workflowVersion: WorkflowVersion.from(created),
    });
  }
}
