import {
  createDeployment,
  createRunnerPool,
  type DeploymentStage,
  type ExecutionProvider,
  type FeaturizerSpec,
  getModel,
  getModelVersion,
  inferSync,
  listDeployments,
  listModels,
  listModelVersions,
  listRunnerPools,
  promoteDeployment,
  registerModelVersion,
  rollbackDeployment,
  shadowComparison,
} from '@roster/inference';
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  Float,
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
import { asAuditCaller, auditContextOf } from '../../services/audit-actor.js';
import { type RequestContext, requireAuth } from '../context.js';
import { toGlobalId, uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, pageRequest, toPage } from '../pagination.js';
import { Can } from '../permissions.js';
import { Connection } from '../types/connection.js';
import {
  Deployment,
  DeploymentStageEnum,
  InferResult,
  Model,
  ModelVersion,
  RunnerPool,
  ShadowReportType,
} from '../types/inference.js';

export const ModelConnection = Connection('Model', Model, (m) =>
  encodeCursor({ createdAt: m.createdAt, id: m.modelId }),
);
export const ModelVersionConnection = Connection('ModelVersion', ModelVersion, (v) =>
  encodeCursor({ createdAt: v.createdAt, id: v.versionId }),
);

/** Largest base64 upload through GraphQL; the 1 MiB body limit applies first (use the CLI beyond). */
const MAX_BASE64_CHARS = 1_048_576;

@InputType()
class RegisterModelVersionInput {
  @Field(() => String, { description: 'Model name; created on its first version.' }) model!: string;
  @Field(() => String, {
    description:
      'The .onnx file, base64. Bodies are limited to 1 MiB: upload larger models with `roster model register`.',
  })
  fileBase64!: string;
  @Field(() => [String], { description: 'One per output column, in order.' }) labels!: string[];
  @Field(() => GraphQLJSONObject, {
    description: 'The featurizer spec the model was trained with.',
  })
  featurizer!: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true }) metrics?: Record<string, unknown> | null;
}

@ObjectType()
class ModelVersionPayload {
  @Field(() => ModelVersion) modelVersion!: ModelVersion;
}

@InputType()
class CreateRunnerPoolInput {
  @Field(() => String) name!: string;
  @Field(() => [String], { nullable: true, description: "Default ['cpu']." }) providers?:
    | string[]
    | null;
  @Field(() => Int, { nullable: true, description: 'Default 64.' }) maxBatch?: number | null;
}

@ObjectType()
class CreateRunnerPoolPayload {
  @Field(() => RunnerPool) runnerPool!: RunnerPool;
  @Field(() => String, { description: 'The pool token: shown once, give it to the runners.' })
  token!: string;
}

@InputType()
class CreateDeploymentInput {
  @Field(() => ID) modelVersionId!: string;
  @Field(() => ID) runnerPoolId!: string;
  @Field(() => DeploymentStageEnum) stage!: DeploymentStageEnum;
  @Field(() => Float, { nullable: true, description: 'Canary only: share in (0, 1].' })
  trafficShare?: number | null;
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Canary only: { minRequests, maxErrorRate, maxLatencyP99Ms, maxDisagreementRate }.',
  })
  rollback?: Record<string, unknown> | null;
}

@InputType()
class DeploymentIdInput {
  @Field(() => ID) id!: string;
  @Field(() => String, { nullable: true, description: 'Why (rollback only; audited).' })
  reason?: string | null;
}

@ObjectType()
class DeploymentPayload {
  @Field(() => Deployment) deployment!: Deployment;
}

@InputType()
class InferInput {
  @Field(() => String) model!: string;
  @Field(() => GraphQLJSON, {
    description: 'A raw email string, an array of numbers, or { kind, ... }.',
  })
  input!: unknown;
  @Field(() => Int, {
    nullable: true,
    description: 'Wait at most this long, ms. Default 2000, max 10000.',
  })
  deadlineMs?: number | null;
}

/** Runs package code that opens its own transactions so its audit events name this caller. */
function asCaller<T>(ctx: RequestContext, fn: () => Promise<T>): Promise<T> {
  return asAuditCaller(auditContextOf(ctx, requireAuth(ctx)), fn);
}

function decodeModelFile(base64: string): Uint8Array {
  if (base64.length > MAX_BASE64_CHARS || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    throw badInput(
      'input.fileBase64',
      'input.fileBase64 must be the model file in standard base64 (at most 1 MiB of text); upload larger models with `roster model register`.',
    );
  }
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

@Resolver(() => Model)
export class InferenceResolver {
  @Query(() => ModelConnection)
  @Can('read', 'Model')
  async models(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { actor } = requireAuth(ctx);
    const page = pageRequest({ first, after });
    const rows = await listModels(ctx.appPool, actor.tenantId, page);
    const p = toPage(rows, page.limit);
    return ModelConnection.from({ ...p, nodes: p.nodes.map(Model.from) });
  }

  @Query(() => Model)
  @Can('read', 'Model')
  async model(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Model> {
    const { actor } = requireAuth(ctx);
    const row = await getModel(ctx.appPool, actor.tenantId, uuidFromGlobalId(id, 'Model', 'id'));
    if (!row) throw notFound('That model');
    return Model.from(row);
  }

  @FieldResolver(() => ModelVersionConnection)
  async versions(
    @Root() model: Model,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { actor, ability } = requireAuth(ctx);
    ability.assert('read', 'ModelVersion');
    const page = pageRequest({ first, after });
    const rows = await listModelVersions(ctx.appPool, actor.tenantId, model.modelId, page);
    const p = toPage(rows, page.limit);
    return ModelVersionConnection.from({ ...p, nodes: p.nodes.map(ModelVersion.from) });
  }

  @FieldResolver(() => [Deployment], { description: 'Every deployment, oldest first.' })
  async deployments(@Root() model: Model, @Ctx() ctx: RequestContext): Promise<Deployment[]> {
    const { actor, ability } = requireAuth(ctx);
    ability.assert('read', 'Deployment');
    return (await listDeployments(ctx.appPool, actor.tenantId, model.modelId)).map(Deployment.from);
  }

  @Query(() => ModelVersion)
  @Can('read', 'ModelVersion')
  async modelVersion(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    const { actor } = requireAuth(ctx);
    const row = await getModelVersion(
      ctx.appPool,
      actor.tenantId,
      uuidFromGlobalId(id, 'ModelVersion', 'id'),
    );
    if (!row) throw notFound('That model version');
    return ModelVersion.from(row);
  }

  @Query(() => ShadowReportType, {
    description: "How a shadow deployment's labels compare with live's and reviewers'.",
  })
  @Can('read', 'Deployment')
  async shadowReport(
    @Arg('deploymentId', () => ID) deploymentId: string,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    const report = await shadowComparison(
      ctx.appPool,
      actor.tenantId,
      uuidFromGlobalId(deploymentId, 'Deployment', 'deploymentId'),
    );
    return Object.assign(new ShadowReportType(), report);
  }

  @Query(() => [RunnerPool])
  @Can('read', 'RunnerPool')
  async runnerPools(@Ctx() ctx: RequestContext): Promise<RunnerPool[]> {
    const { actor } = requireAuth(ctx);
    return (await listRunnerPools(ctx.appPool, actor.tenantId)).map(RunnerPool.from);
  }

  @Mutation(() => ModelVersionPayload, {
    description:
      'Uploads a model version: refused unless onnxruntime loads it and it fits its featurizer and labels.',
  })
  @Can('create', 'ModelVersion')
  async registerModelVersion(
    @Arg('input', () => RegisterModelVersionInput) input: RegisterModelVersionInput,
    @Ctx() ctx: RequestContext,
  ) {
    const auth = requireAuth(ctx);
    const bytes = decodeModelFile(input.fileBase64);
    const row = await asCaller(ctx, () =>
      registerModelVersion(ctx.appPool, auth.actor.tenantId, {
        model: input.model,
        bytes,
        labels: input.labels,
        featurizer: input.featurizer as unknown as FeaturizerSpec,
        metrics: input.metrics ?? {},
        createdBy: auth.actor.kind === 'apiKey' ? null : auth.userId,
      }),
    );
    return Object.assign(new ModelVersionPayload(), { modelVersion: ModelVersion.from(row) });
  }

  @Mutation(() => CreateRunnerPoolPayload)
  @Can('create', 'RunnerPool')
  async createRunnerPool(
    @Arg('input', () => CreateRunnerPoolInput) input: CreateRunnerPoolInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    const created = await asCaller(ctx, () =>
      createRunnerPool(ctx.appPool, actor.tenantId, {
        name: input.name,
        ...(input.providers ? { providers: input.providers as ExecutionProvider[] } : {}),
        ...(input.maxBatch ? { maxBatch: input.maxBatch } : {}),
      }),
    );
    return Object.assign(new CreateRunnerPoolPayload(), {
      runnerPool: RunnerPool.from(created.pool),
      token: created.token,
    });
  }

  @Mutation(() => DeploymentPayload)
  @Can('create', 'Deployment')
  async createDeployment(
    @Arg('input', () => CreateDeploymentInput) input: CreateDeploymentInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    const row = await asCaller(ctx, () =>
      createDeployment(ctx.appPool, actor.tenantId, {
        modelVersionId: uuidFromGlobalId(
          input.modelVersionId,
          'ModelVersion',
          'input.modelVersionId',
        ),
        poolId: uuidFromGlobalId(input.runnerPoolId, 'RunnerPool', 'input.runnerPoolId'),
        stage: input.stage as DeploymentStage,
        ...(input.trafficShare != null ? { trafficShare: input.trafficShare } : {}),
        ...(input.rollback ? { rollback: input.rollback } : {}),
      }),
    );
    return Object.assign(new DeploymentPayload(), { deployment: Deployment.from(row) });
  }

  @Mutation(() => DeploymentPayload, {
    description: 'Makes a canary or shadow the live deployment.',
  })
  @Can('promote', 'Deployment')
  async promoteDeployment(
    @Arg('input', () => DeploymentIdInput) input: DeploymentIdInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    const id = uuidFromGlobalId(input.id, 'Deployment', 'input.id');
    const row = await asCaller(ctx, () => promoteDeployment(ctx.appPool, actor.tenantId, id));
    return Object.assign(new DeploymentPayload(), { deployment: Deployment.from(row) });
  }

  @Mutation(() => DeploymentPayload, { description: 'Takes a canary or shadow out of service.' })
  @Can('rollback', 'Deployment')
  async rollbackDeployment(
    @Arg('input', () => DeploymentIdInput) input: DeploymentIdInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { actor } = requireAuth(ctx);
    const id = uuidFromGlobalId(input.id, 'Deployment', 'input.id');
    const reason = input.reason?.slice(0, 500) ?? undefined;
    const row = await asCaller(ctx, () =>
      rollbackDeployment(ctx.appPool, actor.tenantId, id, reason),
    );
    return Object.assign(new DeploymentPayload(), { deployment: Deployment.from(row) });
  }

  @Mutation(() => InferResult, {
    description:
      "Scores one input now with the model's serving deployment; CONFLICT (reason DEADLINE_EXCEEDED) when no runner answers in time.",
  })
  @Can('infer', 'Model')
  async infer(@Arg('input', () => InferInput) input: InferInput, @Ctx() ctx: RequestContext) {
    const { actor } = requireAuth(ctx);
    const deadlineMs = input.deadlineMs ?? 2000;
    if (deadlineMs < 1 || deadlineMs > 10_000) {
      throw badInput('input.deadlineMs', 'input.deadlineMs must be from 1 to 10000.');
    }
    const result = await asCaller(ctx, () =>
      inferSync(ctx.appPool, actor.tenantId, {
        model: input.model,
        input: input.input,
        deadlineMs,
        signal: ctx.signal,
      }),
    );
    return Object.assign(new InferResult(), {
      ...result,
      deploymentId: toGlobalId('Deployment', result.deploymentId),
    });
  }
}
