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
import { createApiKey, listApiKeys, revokeApiKey } from '../../services/api-key-service.js';
import { auditContextOf } from '../../services/audit-actor.js';
import { type RequestContext, requireAuth, requireSession } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { ApiKey } from '../types/api-key.js';
import { Connection } from '../types/connection.js';

export const ApiKeyConnection = Connection('ApiKey', ApiKey, (k) =>
  encodeCursor({ createdAt: k.createdAt, id: k.keyId }),
);

@InputType()
class CreateApiKeyInput {
  @Field(() => String) name!: string;
  @Field(() => [String], {
    description: 'Scopes from policies/roles.yaml; the key can never do more than you.',
  })
  scopes!: string[];
  @Field(() => Date, { nullable: true }) expiresAt?: Date | null;
}

@InputType()
class RevokeApiKeyInput {
  @Field(() => ID) id!: string;
}

@ObjectType()
class CreateApiKeyPayload {
  @Field(() => ApiKey) apiKey!: ApiKey;
  @Field(() => String, { description: 'The key itself (`rk_…`). Shown once: store it now.' })
  token!: string;
}

@ObjectType()
class RevokeApiKeyPayload {
  @Field(() => ApiKey) apiKey!: ApiKey;
}

@Resolver()
export class ApiKeyResolver {
  @Query(() => ApiKeyConnection)
  @Can('read', 'ApiKey')
  async apiKeys(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { actor } = requireAuth(ctx);
    const page = await listApiKeys(ctx.appPool, actor.tenantId, pageRequest({ first, after }));
    return ApiKeyConnection.from({ ...page, nodes: page.nodes.map(ApiKey.from) });
  }

  @Mutation(() => CreateApiKeyPayload)
  @Can('create', 'ApiKey')
  async createApiKey(
    @Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput,
    @Ctx() ctx: RequestContext,
  ) {
    // Keys are made by people, so every key has a creator whose role bounds it.
    const auth = requireSession(ctx);
    const { apiKey, token } = await createApiKey(
      ctx.appPool,
      ctx.policy,
      { tenantId: auth.actor.tenantId, userId: auth.userId, audit: auditContextOf(ctx, auth) },
      input,
    );
    return Object.assign(new CreateApiKeyPayload(), { apiKey: ApiKey.from(apiKey), token });
  }

  @Mutation(() => RevokeApiKeyPayload)
  @Can('revoke', 'ApiKey')
  async revokeApiKey(
    @Arg('input', () => RevokeApiKeyInput) input: RevokeApiKeyInput,
    @Ctx() ctx: RequestContext,
  ) {
    const auth = requireAuth(ctx);
    const row = await revokeApiKey(
      ctx.appPool,
      auth.ability,
      auth.actor.tenantId,
      uuidFromGlobalId(input.id, 'ApiKey', 'input.id'),
      auditContextOf(ctx, auth),
    );
    ctx.authCache.evict((a) => a.actor.kind === 'apiKey' && a.actor.keyId === row.id);
    return Object.assign(new RevokeApiKeyPayload(), { apiKey: ApiKey.from(row) });
  }
}
