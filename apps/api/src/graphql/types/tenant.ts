import { Field, ObjectType } from 'type-graphql';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

@ObjectType({ implements: Node, description: 'An organisation: everything else belongs to one.' })
export class Tenant extends Node {
  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Date)
  createdAt!: Date;

  static from(row: { id: string; slug: string; name: string; createdAt: Date }): Tenant {
    return Object.assign(new Tenant(), { ...row, id: toGlobalId('Tenant', row.id) });
  }
}

@ObjectType({ description: 'A tenant the signed-in person belongs to, with their role there.' })
export class TenantMembership {
  @Field(() => Tenant)
  tenant!: Tenant;

  @Field(() => String)
  role!: string;
}
