import { GraphQLJSONObject } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { badInput } from '../../errors.js';
import {
  listGovernancePolicyVersions,
  presentGovernancePolicy,
  saveGovernancePolicy,
} from '../../services/governance-policy-service.js';
import type { RequestContext } from '../context.js';
import { pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { Connection } from '../types/connection.js';
import { GovernancePolicy, GovernancePolicyVersion } from '../types/governance-policy.js';

// Governance policy is the Policy subject of roles.yaml: owner and admin manage it, compliance
// creates and updates it, builders read it.

export const GovernancePolicyVersionConnection = Connection(
  'GovernancePolicyVersion',
  GovernancePolicyVersion,
  (v) => String(v.version),
);

@InputType()
class UpdateGovernancePolicyInput {
  @Field(() => GraphQLJSONObject, {
    description:
      "The tenant's whole override (replaces the previous one); any part of the policy document.",
  })
  document!: Record<string, unknown>;
  @Field(() => Int, {
    description: 'The version you edited (0 when none): a newer one fails with CONFLICT.',
  })
  expectedVersion!: number;
  @Field(() => String, { nullable: true }) comment?: string | null;
}

@ObjectType()
class UpdateGovernancePolicyPayload {
  @Field(() => GovernancePolicy) governancePolicy!: GovernancePolicy;
}

@Resolver()
export class GovernancePolicyResolver {
  @Query(() => GovernancePolicy, { description: "The tenant's governance policy in force." })
  @Can('read', 'Policy')
  async governancePolicy(@Ctx() ctx: RequestContext) {
    const { tenantId } = actorOf(ctx);
    return GovernancePolicy.from(
      await presentGovernancePolicy(ctx.appPool, tenantId, ctx.governanceDefaults),
    );
  }

  @Query(() => GovernancePolicyVersionConnection, { description: 'Saved versions, newest first.' })
  @Can('read', 'Policy')
  async governancePolicyVersions(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { tenantId } = actorOf(ctx);
    const { limit } = pageRequest({ first });
    const beforeVersion = after === undefined || after === null ? undefined : Number(after);
    if (beforeVersion !== undefined && !Number.isInteger(beforeVersion)) {
      throw badInput('after', 'Pass the endCursor of the previous page.');
    }
    const page = await listGovernancePolicyVersions(ctx.appPool, tenantId, {
      limit,
      ...(beforeVersion !== undefined ? { beforeVersion } : {}),
    });
    const nodes = page.nodes.map((v) => GovernancePolicyVersion.from(v));
    return GovernancePolicyVersionConnection.from({
      nodes,
      hasNextPage: page.hasNextPage,
      endCursor: nodes.length ? String(nodes[nodes.length - 1]!.version) : null,
    });
  }

  @Mutation(() => UpdateGovernancePolicyPayload, {
    description:
      'Saves a new version of the tenant override; it applies to the next decision, connector call and export.',
  })
  @Can('update', 'Policy')
  async updateGovernancePolicy(
    @Arg('input', () => UpdateGovernancePolicyInput) input: UpdateGovernancePolicyInput,
    @Ctx() ctx: RequestContext,
  ) {
    const saved = await saveGovernancePolicy(ctx.appPool, actorOf(ctx), ctx.governanceDefaults, {
      document: input.document,
      expectedVersion: input.expectedVersion,
      comment: input.comment ?? null,
    });
    return Object.assign(new UpdateGovernancePolicyPayload(), {
      governancePolicy: GovernancePolicy.from(saved),
    });
  }
}
