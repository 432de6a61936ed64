import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ConnectionRow, InstallationRow } from '../../services/installation-presenter.js';
import type { PluginRow, PluginVersionRow } from '../../services/plugin-catalog-presenter.js';
import { requestedCapabilities } from '../../services/plugin-catalog-presenter.js';
import type { PublisherRow } from '../../services/plugin-catalog-service.js';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

export enum ReviewState {
  PENDING = 'pending',
  APPROVED = 'approved',
  REJECTED = 'rejected',
}
registerEnumType(ReviewState, { name: 'ReviewState' });

export enum ReviewDecision {
  APPROVED = 'approved',
  REJECTED = 'rejected',
}
registerEnumType(ReviewDecision, { name: 'ReviewDecision' });

@ObjectType({ description: 'Who signs plugin packages; owned by one tenant.' })
export class Publisher {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => [String], { description: 'Ids of the registered (not revoked) signing keys.' })
  keyIds!: string[];
  @Field(() => Date) createdAt!: Date;

  static from(row: PublisherRow): Publisher {
    return Object.assign(new Publisher(), { ...row, id: toGlobalId('Publisher', row.id) });
  }
}

@ObjectType({ implements: Node, description: 'A connector in the marketplace catalog.' })
export class Plugin extends Node {
  pluginId!: string;
  @Field(() => String, { description: 'The manifest id that workflow steps name as `connector`.' })
  key!: string;
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => String) publisher!: string;
  @Field(() => Date) createdAt!: Date;

  static from(row: PluginRow): Plugin {
    return Object.assign(new Plugin(), {
      id: toGlobalId('Plugin', row.id),
      pluginId: row.id,
      key: row.pluginKey,
      name: row.name,
      description: row.description,
      publisher: row.publisher,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType({ implements: Node, description: 'One immutable, reviewed version of a plugin.' })
export class PluginVersion extends Node {
  @Field(() => String) pluginKey!: string;
  @Field(() => String) version!: string;
  @Field(() => String) changelog!: string;
  @Field(() => ReviewState) reviewState!: ReviewState;
  @Field(() => String, { nullable: true }) reviewNote!: string | null;
  @Field(() => Date, { nullable: true }) reviewedAt!: Date | null;
  @Field(() => [String], { description: 'What an installation must consent to.' })
  requestedCapabilities!: string[];
  @Field(() => GraphQLJSONObject) manifest!: Record<string, unknown>;
  @Field(() => String) integrity!: string;
  @Field(() => String) keyId!: string;
  @Field(() => Date) createdAt!: Date;

  static from(row: PluginVersionRow): PluginVersion {
    return Object.assign(new PluginVersion(), {
      ...row,
      id: toGlobalId('PluginVersion', row.id),
      reviewState: row.reviewState as ReviewState,
      requestedCapabilities: requestedCapabilities(row.manifest),
    });
  }
}

@ObjectType({
  implements: Node,
  description: "A tenant's install of one plugin version with its granted capabilities.",
})
export class Installation extends Node {
  @Field(() => String) pluginKey!: string;
  @Field(() => ID) pluginId!: string;
  @Field(() => ID) pluginVersionId!: string;
  @Field(() => String) version!: string;
  @Field(() => [String]) grantedCapabilities!: string[];
  @Field(() => String) status!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;

  static from(row: InstallationRow): Installation {
    return Object.assign(new Installation(), {
      ...row,
      id: toGlobalId('Installation', row.id),
      pluginId: toGlobalId('Plugin', row.pluginId),
      pluginVersionId: toGlobalId('PluginVersion', row.pluginVersionId),
    });
  }
}

@ObjectType({
  implements: Node,
  description: "A tenant's encrypted credentials for an installation. Secrets are never returned.",
})
export class Connection extends Node {
  @Field(() => ID) installationId!: string;
  @Field(() => String) name!: string;
  @Field(() => Int, { description: 'Version of the tenant data key it is encrypted under.' })
  keyVersion!: number;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;

  static from(row: ConnectionRow): Connection {
    return Object.assign(new Connection(), {
      id: toGlobalId('Connection', row.id),
      installationId: toGlobalId('Installation', row.installationId),
      name: row.name,
      keyVersion: row.keyVersion,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    });
  }
}

@ObjectType('CapabilityDiff')
export class CapabilityDiffType {
  @Field(() => [String], { description: 'Requested by the new version and not granted before.' })
  added!: string[];
  @Field(() => [String], { description: 'Granted before and no longer requested.' })
  removed!: string[];
}

@ObjectType('ConnectionTestResult')
export class ConnectionTestResultType {
  @Field(() => Boolean) ok!: boolean;
  @Field(() => String, { nullable: true }) code!: string | null;
  @Field(() => String) message!: string;
  @Field(() => Int) durationMs!: number;
}
