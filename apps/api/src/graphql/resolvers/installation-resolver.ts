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
import {
  createConnection,
  deleteConnection,
  rotateConnection,
  testConnection,
} from '../../services/connection-service.js';
import { listConnections, listInstallations } from '../../services/installation-presenter.js';
import {
  installPlugin,
  uninstallPlugin,
  upgradeInstallation,
} from '../../services/installation-service.js';
import { type RequestContext, requireAuth } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { encodeCursor, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { Connection as RelayConnection } from '../types/connection.js';
import {
  CapabilityDiffType,
  Connection,
  ConnectionTestResultType,
  Installation,
} from '../types/marketplace.js';

export const InstallationConnection = RelayConnection('Installation', Installation, (i) =>
  encodeCursor({ createdAt: i.createdAt, id: uuidFromGlobalId(i.id, 'Installation', 'id') }),
);
export const ConnectionConnection = RelayConnection('Connection', Connection, (c) =>
  encodeCursor({ createdAt: c.createdAt, id: uuidFromGlobalId(c.id, 'Connection', 'id') }),
);

@InputType()
class InstallPluginInput {
  @Field(() => ID) versionId!: string;
  @Field(() => [String], {
    description: 'Consent: exactly the capabilities the version requests (requestedCapabilities).',
  })
  grantedCapabilities!: string[];
}

@InputType()
class UpgradeInstallationInput {
  @Field(() => ID) installationId!: string;
  @Field(() => ID) versionId!: string;
  @Field(() => [String]) grantedCapabilities!: string[];
}

@InputType()
class InstallationIdInput {
  @Field(() => ID) id!: string;
}

@InputType()
class CreateConnectionInput {
  @Field(() => ID) installationId!: string;
  @Field(() => String) name!: string;
  @Field(() => GraphQLJSONObject, {
    description: 'Credentials (string values). Encrypted at rest; never returned.',
  })
  secrets!: Record<string, unknown>;
}

@InputType()
class RotateConnectionInput {
  @Field(() => ID) id!: string;
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'New credentials; omitted: the same ones are re-encrypted under the newest key.',
  })
  secrets?: Record<string, unknown> | null;
}

@InputType()
class ConnectionIdInput {
  @Field(() => ID) id!: string;
}

@ObjectType()
class InstallationPayload {
  @Field(() => Installation) installation!: Installation;
}

@ObjectType()
class UpgradeInstallationPayload {
  @Field(() => Installation) installation!: Installation;
  @Field(() => CapabilityDiffType) capabilityDiff!: CapabilityDiffType;
}

@ObjectType()
class ConnectionPayload {
  @Field(() => Connection) connection!: Connection;
}

@ObjectType()
class TestConnectionPayload {
  @Field(() => ConnectionTestResultType) result!: ConnectionTestResultType;
}

const installationId = (id: string, field: string) => uuidFromGlobalId(id, 'Installation', field);
const connectionId = (id: string) => uuidFromGlobalId(id, 'Connection', 'input.id');

/** A tenant's installations (with consent to capabilities) and their encrypted connections. */
@Resolver(() => Installation)
export class InstallationResolver {
  @Query(() => InstallationConnection)
  @Can('read', 'Installation')
  async installations(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { actor } = requireAuth(ctx);
    const page = await listInstallations(
      ctx.appPool,
      actor.tenantId,
      pageRequest({ first, after }),
    );
    return InstallationConnection.from({ ...page, nodes: page.nodes.map(Installation.from) });
  }

  @Query(() => ConnectionConnection, { description: 'Connection metadata; never the secrets.' })
  @Can('read', 'Connection')
  async connections(
    @Ctx() ctx: RequestContext,
    @Arg('installationId', () => ID, { nullable: true }) installation?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const { actor } = requireAuth(ctx);
    const page = await listConnections(
      ctx.appPool,
      actor.tenantId,
      pageRequest({ first, after }),
      installation ? installationId(installation, 'installationId') : null,
    );
    return ConnectionConnection.from({ ...page, nodes: page.nodes.map(Connection.from) });
  }

  @Mutation(() => InstallationPayload)
  @Can('create', 'Installation')
  async installPlugin(
    @Arg('input', () => InstallPluginInput) input: InstallPluginInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await installPlugin(ctx.appPool, actorOf(ctx), {
      versionId: uuidFromGlobalId(input.versionId, 'PluginVersion', 'input.versionId'),
      grantedCapabilities: input.grantedCapabilities,
    });
    return Object.assign(new InstallationPayload(), { installation: Installation.from(row) });
  }

  @Mutation(() => UpgradeInstallationPayload, {
    description: 'Moves to another approved version; newly requested capabilities need consent.',
  })
  @Can('update', 'Installation')
  async upgradeInstallation(
    @Arg('input', () => UpgradeInstallationInput) input: UpgradeInstallationInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { installation, diff } = await upgradeInstallation(ctx.appPool, actorOf(ctx), {
      installationId: installationId(input.installationId, 'input.installationId'),
      versionId: uuidFromGlobalId(input.versionId, 'PluginVersion', 'input.versionId'),
      grantedCapabilities: input.grantedCapabilities,
    });
    return Object.assign(new UpgradeInstallationPayload(), {
      installation: Installation.from(installation),
      capabilityDiff: Object.assign(new CapabilityDiffType(), diff),
    });
  }

  @Mutation(() => InstallationPayload, { description: 'Uninstalls and deletes its connections.' })
  @Can('delete', 'Installation')
  async uninstallPlugin(
    @Arg('input', () => InstallationIdInput) input: InstallationIdInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await uninstallPlugin(
      ctx.appPool,
      actorOf(ctx),
      installationId(input.id, 'input.id'),
    );
    return Object.assign(new InstallationPayload(), { installation: Installation.from(row) });
  }

  @Mutation(() => ConnectionPayload)
  @Can('create', 'Connection')
  async createConnection(
    @Arg('input', () => CreateConnectionInput) input: CreateConnectionInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await createConnection(ctx.appPool, actorOf(ctx), ctx.marketplace, {
      installationId: installationId(input.installationId, 'input.installationId'),
      name: input.name,
      secrets: input.secrets,
    });
    return Object.assign(new ConnectionPayload(), { connection: Connection.from(row) });
  }

  @Mutation(() => ConnectionPayload, {
    description: 'Re-encrypts under the newest data key, with new secrets when given.',
  })
  @Can('update', 'Connection')
  async rotateConnection(
    @Arg('input', () => RotateConnectionInput) input: RotateConnectionInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await rotateConnection(ctx.appPool, actorOf(ctx), ctx.marketplace, {
      id: connectionId(input.id),
      secrets: input.secrets ?? null,
    });
    return Object.assign(new ConnectionPayload(), { connection: Connection.from(row) });
  }

  @Mutation(() => ConnectionPayload)
  @Can('delete', 'Connection')
  async deleteConnection(
    @Arg('input', () => ConnectionIdInput) input: ConnectionIdInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await deleteConnection(ctx.appPool, actorOf(ctx), connectionId(input.id));
    return Object.assign(new ConnectionPayload(), { connection: Connection.from(row) });
  }

  @Mutation(() => TestConnectionPayload, {
    description: "Runs the connector's test action in the sandbox with this connection.",
  })
  @Can('read', 'Connection')
  async testConnection(
    @Arg('input', () => ConnectionIdInput) input: ConnectionIdInput,
    @Ctx() ctx: RequestContext,
  ) {
    const result = await testConnection(
      ctx.appPool,
      actorOf(ctx),
      ctx.marketplace,
      connectionId(input.id),
    );
    return Object.assign(new TestConnectionPayload(), {
      result: Object.assign(new ConnectionTestResultType(), result),
    });
  }
}
