import { type Actor, subjectRecord } from '@roster/authz';
import { withAuditContext } from '@roster/db';
import {
  cancelRun,
  type RunInitiator as EngineRunInitiator,
  type StartRunInput as EngineStartRunInput,
  getRun,
  listDeadLetters,
  MAX_RUNS_PER_CALL,
  replayStep,
  retryRun,
  startRun,
  startRuns,
} from '@roster/engine';
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
import { badInput, notFound } from '../../errors.js';
import { auditContextOf } from '../../services/audit-actor.js';
import { runEngineOptions } from '../../services/run-engine-options.js';
import { initiatorMember, listRuns, runsByIds } from '../../services/run-presenter.js';
import { type RequestContext, requireAuth } from '../context.js';
import { toGlobalId, uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { Connection } from '../types/connection.js';
import { Member } from '../types/member.js';
import { DeadLetter, Run, RunInitiator } from '../types/run.js';

export const RunConnection = Connection('Run', Run, (r) =>
  encodeCursor({ createdAt: r.createdAt, id: r.runId }),
);

@InputType()
class StartRunInput {
  @Field(() => ID) workflowId!: string;
  @Field(() => Int, { nullable: true, description: "Default: the workflow's latest version." })
  version?: number | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) input?: Record<string, unknown> | null;
  @Field(() => String, {
    nullable: true,
    description: 'A repeat with the same key returns the same run; CONFLICT if its input differs.',
  })
  idempotencyKey?: string | null;
}

@InputType()
class StartRunsInput {
  @Field(() => [StartRunInput], {
    description: `Up to ${MAX_RUNS_PER_CALL} runs, started in one transaction.`,
  })
  runs!: StartRunInput[];
}

@InputType()
class RunIdInput {
  @Field(() => ID) id!: string;
}

@InputType()
class ReplayStepInput {
  @Field(() => ID) runId!: string;
  @Field(() => String) stepId!: string;
}

@ObjectType()
class StartRunPayload {
  @Field(() => Run) run!: Run;
  @Field(() => Boolean, { description: 'False when the idempotency key matched an existing run.' })
  created!: boolean;
}

@ObjectType()
class StartRunsPayload {
  @Field(() => [StartRunPayload]) results!: StartRunPayload[];
}

@ObjectType()
class RunPayload {
  @Field(() => Run) run!: Run;
}

const MAX_INPUT_BYTES = 256 * 1024;

/** The caller as a run's initiator: the member, or the API key and the member who made it. */
function initiatorOf(actor: Actor): Extract<EngineRunInitiator, { memberId: string }> {
  return actor.kind === 'apiKey'
    ? { kind: 'apiKey', apiKeyId: actor.keyId, memberId: actor.creator.memberId }
    : { kind: 'member', memberId: actor.memberId };
}

function toEngineInput(
  input: StartRunInput,
  field: string,
  startedBy: EngineRunInitiator,
): EngineStartRunInput {
  const bytes = Buffer.byteLength(JSON.stringify(input.input ?? {}));
  if (bytes > MAX_INPUT_BYTES)
    throw badInput(
      `${field}.input`,
      `${field}.input is ${bytes} bytes; the limit is ${MAX_INPUT_BYTES}.`,
    );
  if (
    input.idempotencyKey !== undefined &&
    input.idempotencyKey !== null &&
    !/^[\x21-\x7e]{1,200}$/.test(input.idempotencyKey)
  ) {
    throw badInput(
      `${field}.idempotencyKey`,
      `${field}.idempotencyKey must be 1 to 200 visible ASCII characters.`,
    );
  }
  return {
    workflowId: uuidFromGlobalId(input.workflowId, 'Workflow', `${field}.workflowId`),
    ...(input.version ? { version: input.version } : {}),
    input: input.input ?? {},
    ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
    startedBy,
  };
}

async function runPayload(
  ctx: RequestContext,
  tenantId: string,
  runId: string,
): Promise<RunPayload> {
  return Object.assign(new RunPayload(), {
    run: Run.from(await getRun(ctx.appPool, tenantId, runId)),
  });
}

/**
 * Runs `fn` (an engine service that opens its own transaction) so that the audit events the
 * engine writes (run.created, run.cancelled, ...) name this caller, trace and request.
 */
function asCaller<T>(ctx: RequestContext, fn: () => Promise<T>): Promise<T> {
  const audit = auditContextOf(ctx, requireAuth(ctx));
  return withAuditContext(
    {
      actorType: audit.actor.type,
      actorId: audit.actor.id,
      traceId: audit.traceId,
      requestId: audit.requestId,
    },
    fn,
  );
}

@Resolver()
export class RunResolver {
  @Mutation(() => StartRunPayload, {
    description: 'Starts a run of a workflow (the integrator entry point).',
  })
  @Can('create', 'Run')
  async startRun(
    @Arg('input', () => StartRunInput) input: StartRunInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    const started = await asCaller(ctx, () =>
      startRun(
        ctx.appPool,
        actor.tenantId,
        toEngineInput(input, 'input', initiatorOf(actor)),
        runEngineOptions(ctx),
      ),
    );
    const { run } = await runPayload(ctx, actor.tenantId, started.runId);
    return Object.assign(new StartRunPayload(), { run, created: started.created });
  }

  @Mutation(() => StartRunsPayload, {
    description: 'Starts many runs in one transaction: all or none.',
  })
  @Can('create', 'Run')
  async startRuns(
    @Arg('input', () => StartRunsInput) input: StartRunsInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    if (input.runs.length === 0 || input.runs.length > MAX_RUNS_PER_CALL) {
      throw badInput('input.runs', `input.runs must hold 1 to ${MAX_RUNS_PER_CALL} runs.`);
    }
    const startedBy = initiatorOf(actor);
    const inputs = input.runs.map((r, i) => toEngineInput(r, `input.runs.${i}`, startedBy));
    const started = await asCaller(ctx, () =>
      startRuns(ctx.appPool, actor.tenantId, inputs, runEngineOptions(ctx)),
    );
    // The runs as stored (a repeated idempotency key returns a run someone else may have started).
    const runs = await runsByIds(
      ctx.appPool,
      actor.tenantId,
      started.map((s) => s.runId),
    );
    const results = started.map((s, i) => {
      const run = runs[i];
      // Missing only if the run was deleted between its start and this read.
      if (!run) throw notFound(`Run ${toGlobalId('Run', s.runId)}`);
      return Object.assign(new StartRunPayload(), { created: s.created, run: Run.from(run) });
    });
    return Object.assign(new StartRunsPayload(), { results });
  }

  @Mutation(() => RunPayload)
  @Can('cancel', 'Run')
  async cancelRun(@Arg('input', () => RunIdInput) input: RunIdInput, @Ctx() ctx: RequestContext) {
    const { actor, ability } = requireAuth(ctx);
    const runId = uuidFromGlobalId(input.id, 'Run', 'input.id');
    // NOT_FOUND before FORBIDDEN for other tenants' ids; then ownership rules (a builder cancels
    // only the runs they started, by hand or through their API keys) on this run.
    const run = await getRun(ctx.appPool, actor.tenantId, runId);
    ability.assert(
      'cancel',
      subjectRecord('Run', { tenantId: actor.tenantId, createdBy: run.startedBy.memberId }),
    );
    await asCaller(ctx, () => cancelRun(ctx.appPool, actor.tenantId, runId, runEngineOptions(ctx)));
    return runPayload(ctx, actor.tenantId, runId);
  }

  @Mutation(() => RunPayload, {
    description:
      'Retries a failed or dead-lettered run from the step that stopped it, with fresh attempts and a fresh deadline. The run is QUEUED when its tenant, workflow or key is at its limit.',
  })
  @Can('retry', 'Run')
  async retryRun(@Arg('input', () => RunIdInput) input: RunIdInput, @Ctx() ctx: RequestContext) {
    const { actor } = requireAuth(ctx);
    const runId = uuidFromGlobalId(input.id, 'Run', 'input.id');
    await asCaller(ctx, () => retryRun(ctx.appPool, actor.tenantId, runId, runEngineOptions(ctx)));
    return runPayload(ctx, actor.tenantId, runId);
  }

  @Mutation(() => RunPayload, {
    description:
      'Runs one top-level step of a failed or dead-lettered run again, keeping its idempotency key, with a fresh deadline. The run is QUEUED when its tenant, workflow or key is at its limit.',
  })
  @Can('replay', 'DeadLetter')
  async replayStep(
    @Arg('input', () => ReplayStepInput) input: ReplayStepInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    const runId = uuidFromGlobalId(input.runId, 'Run', 'input.runId');
    await asCaller(ctx, () =>
      replayStep(ctx.appPool, actor.tenantId, runId, input.stepId, runEngineOptions(ctx)),
    );
    return runPayload(ctx, actor.tenantId, runId);
  }

  @Query(() => Run, {
    description: 'A run with its step timeline, attempts, errors and durations.',
  })
  @Can('read', 'Run')
  async run(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Run> {
    const { actor } = requireAuth(ctx);
    return Run.from(await getRun(ctx.appPool, actor.tenantId, uuidFromGlobalId(id, 'Run', 'id')));
  }

  @Query(() => RunConnection)
  @Can('read', 'Run')
  async runs(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('status', () => String, { nullable: true }) status?: string,
    @Arg('workflowId', () => ID, { nullable: true }) workflowId?: string,
    @Arg('createdAfter', () => Date, { nullable: true }) createdAfter?: Date,
    @Arg('createdBefore', () => Date, { nullable: true }) createdBefore?: Date,
  ) {
    const { actor } = requireAuth(ctx);
    const page = await listRuns(
      ctx.appPool,
      actor.tenantId,
      {
        status: status ?? null,
        workflowId: workflowId ? uuidFromGlobalId(workflowId, 'Workflow', 'workflowId') : null,
        createdAfter: createdAfter ?? null,
        createdBefore: createdBefore ?? null,
      },
      pageRequest({ first, after }),
    );
    return RunConnection.from({ ...page, nodes: page.nodes.map(Run.from) });
  }

  @Query(() => [DeadLetter], { description: "The tenant's dead-lettered runs, newest first." })
  @Can('read', 'DeadLetter')
  async deadLetters(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
  ) {
    const { actor } = requireAuth(ctx);
    const limit = pageRequest({ first }).limit;
    const letters = await listDeadLetters(ctx.appPool, actor.tenantId, {
      limit: Math.max(limit, 1),
    });
    return Promise.all(
      letters.map(async (l) =>
        Object.assign(new DeadLetter(), {
          run: Run.from(await getRun(ctx.appPool, actor.tenantId, l.runId)),
          failedStep: l.failedStep,
          error: l.error,
          deadLetteredAt: l.deadLetteredAt,
        }),
      ),
    );
  }
}

@Resolver(() => RunInitiator)
export class RunInitiatorResolver {
  @FieldResolver(() => Member, {
    nullable: true,
    description:
      'The member accountable for the run (for an API key, its creator); null for triggers and the system, after they left, or when your role may not read members.',
  })
  async member(@Root() by: RunInitiator, @Ctx() ctx: RequestContext): Promise<Member | null> {
    const { actor, ability } = requireAuth(ctx);
    if (!by.memberId || !ability.can('read', 'Member')) return null;
    const row = await initiatorMember(ctx.appPool, actor.tenantId, by.memberId);
    if (!row) return null;
    return Member.from({
      ...row,
      email: ability.can('read', 'Member', 'email') ? row.email : null,
    });
  }
}
