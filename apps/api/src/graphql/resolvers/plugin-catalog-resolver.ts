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
  getPlugin,
  listApprovedVersions,
  listPlugins,
} from '../../services/plugin-catalog-presenter.js';
import {
  addPublisherKey,
  publishPluginVersion,
  registerPublisher,
  reviewPluginVersion,
} from '../../services/plugin-catalog-service.js';
import { type RequestContext, requireAuth } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, MAX_PAGE_SIZE, pageRequest } from '../pagination.js';
import { Can, SignedIn } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { Connection } from '../types/connection.js';
import { Plugin, PluginVersion, Publisher, ReviewDecision } from '../types/marketplace.js';

export const PluginConnection = Connection('Plugin', Plugin, (p) =>
  encodeCursor({ createdAt: p.createdAt, id: p.pluginId }),
);

@InputType()
class RegisterPublisherInput {
  @Field(() => String, { description: 'Lower-case publisher name packages are signed with.' })
  name!: string;
  @Field(() => String, { description: 'base64 ed25519 SPKI (the `publicKey` of a .pub.json).' })
  publicKey!: string;
}

@InputType()
class AddPublisherKeyInput {
  @Field(() => ID) publisherId!: string;
  @Field(() => String) publicKey!: string;
}

@InputType()
class PublishPluginVersionInput {
  @Field(() => GraphQLJSONObject, { description: 'The signed package from `roster plugin pack`.' })
  package!: Record<string, unknown>;
  @Field(() => String, { nullable: true }) changelog?: string | null;
}

@InputType()
class ReviewPluginVersionInput {
  @Field(() => ID) id!: string;
  @Field(() => ReviewDecision) decision!: ReviewDecision;
  @Field(() => String, { nullable: true }) note?: string | null;
}

@ObjectType()
class PublisherPayload {
  @Field(() => Publisher) publisher!: Publisher;
}

@ObjectType()
class PluginVersionPayload {
  @Field(() => PluginVersion) pluginVersion!: PluginVersion;
}

const versionPayload = (row: Parameters<typeof PluginVersion.from>[0]) =>
  Object.assign(new PluginVersionPayload(), { pluginVersion: PluginVersion.from(row) });

/**
 * The marketplace catalog: listings (approved versions only), publishing and review. The catalog
 * is global; publishing acts for the caller's tenant, so it needs `update Tenant` (owner, admin).
 */
@Resolver(() => Plugin)
export class PluginCatalogResolver {
  @Query(() => PluginConnection, { description: 'Listed plugins (with an approved version).' })
  @Can('read', 'Plugin')
  async plugins(
    @Ctx() ctx: RequestContext,
    @Arg('search', () => String, { nullable: true }) search?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { actor } = requireAuth(ctx);
    const page = await listPlugins(
      ctx.appPool,
      actor.tenantId,
      pageRequest({ first, after }),
      search?.trim().slice(0, 200) || null,
    );
    return PluginConnection.from({ ...page, nodes: page.nodes.map(Plugin.from) });
  }

  @Query(() => Plugin)
  @Can('read', 'Plugin')
  async plugin(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Plugin> {
    const { actor } = requireAuth(ctx);
    const row = await getPlugin(ctx.appPool, actor.tenantId, uuidFromGlobalId(id, 'Plugin', 'id'));
    if (!row) throw notFound('That plugin');
    return Plugin.from(row);
  }

  @FieldResolver(() => [PluginVersion], { description: 'Approved versions, newest first.' })
  async versions(
    @Root() plugin: Plugin,
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
  ): Promise<PluginVersion[]> {
    const { actor } = requireAuth(ctx);
    const limit = Math.min(pageRequest({ first: first ?? 20 }).limit, MAX_PAGE_SIZE);
    const rows = await listApprovedVersions(ctx.appPool, actor.tenantId, plugin.pluginId, limit);
    return rows.map(PluginVersion.from);
  }

  @Mutation(() => PublisherPayload, {
    description: "Registers a publisher for the caller's tenant with its first signing key.",
  })
  @Can('update', 'Tenant')
  async registerPublisher(
    @Arg('input', () => RegisterPublisherInput) input: RegisterPublisherInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await registerPublisher(ctx.appPool, actorOf(ctx), input);
    return Object.assign(new PublisherPayload(), { publisher: Publisher.from(row) });
  }

  @Mutation(() => PublisherPayload, { description: 'Adds a signing key (key rotation).' })
  @Can('update', 'Tenant')
  async addPublisherKey(
    @Arg('input', () => AddPublisherKeyInput) input: AddPublisherKeyInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await addPublisherKey(ctx.appPool, actorOf(ctx), {
      publisherId: uuidFromGlobalId(input.publisherId, 'Publisher', 'input.publisherId'),
      publicKey: input.publicKey,
    });
    return Object.assign(new PublisherPayload(), { publisher: Publisher.from(row) });
  }

  @Mutation(() => PluginVersionPayload, {
    description:
      'Publishes an immutable version (review state PENDING). Integrity and signature are verified with the publisher’s registered keys before it is stored.',
  })
  @Can('update', 'Tenant')
  async publishPluginVersion(
    @Arg('input', () => PublishPluginVersionInput) input: PublishPluginVersionInput,
    @Ctx() ctx: RequestContext,
  ) {
    return versionPayload(await publishPluginVersion(ctx.appPool, actorOf(ctx), input));
  }

  @Mutation(() => PluginVersionPayload, {
    description: 'Approves or rejects a pending version. Platform admins only; final.',
  })
  @SignedIn()
  async reviewPluginVersion(
    @Arg('input', () => ReviewPluginVersionInput) input: ReviewPluginVersionInput,
    @Ctx() ctx: RequestContext,
  ) {
    return versionPayload(
      await reviewPluginVersion(ctx.appPool, actorOf(ctx), ctx.marketplace.platformAdmins ?? [], {
        id: uuidFromGlobalId(input.id, 'PluginVersion', 'input.id'),
        decision: input.decision as 'approved' | 'rejected',
        note: input.note ?? null,
      }),
    );
  }
}
