import type {
  EffectiveGovernancePolicy,
  GovernancePolicyVersion as VersionRow,
} from '@roster/governance';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    "The tenant's governance policy: thresholds, approvals, redaction and retention. policies/governance.yaml holds the defaults; the tenant's override merges over them (objects key by key, lists replace).",
})
export class GovernancePolicy {
  @Field(() => Int, { description: 'The current version; 0 when the tenant never saved one.' })
  version!: number;
  @Field(() => GraphQLJSONObject, { description: 'The policy in force (defaults + override).' })
  effective!: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { description: "The deployment's defaults." })
  defaults!: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: "The tenant's saved override; null when none.",
  })
  override!: Record<string, unknown> | null;

  static from(e: EffectiveGovernancePolicy): GovernancePolicy {
    return Object.assign(new GovernancePolicy(), {
      version: e.version,
      effective: e.policy,
      defaults: e.defaults,
      override: e.override,
    });
  }
}

@ObjectType({ description: "One saved version of the tenant's governance policy override." })
export class GovernancePolicyVersion {
  @Field(() => Int) version!: number;
  @Field(() => GraphQLJSONObject) document!: Record<string, unknown>;
  @Field(() => String, { description: 'Id of the member or API key that saved it.' })
  createdBy!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => String, { nullable: true }) comment!: string | null;

  static from(row: VersionRow): GovernancePolicyVersion {
    return Object.assign(new GovernancePolicyVersion(), row);
  }
}
