import { Field, ObjectType } from 'type-graphql';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

@ObjectType({
  implements: Node,
  description: 'An integrator credential. The secret is shown once, at creation.',
})
export class ApiKey extends Node {
  keyId!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, {
    description: 'The visible part of the key (`rk_<prefix>_…`), to tell keys apart.',
  })
  prefix!: string;

  @Field(() => [String])
  scopes!: string[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Updated at most once a minute.' })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  static from(row: {
    id: string;
    name: string;
    prefix: string;
    scopes: string[];
    createdAt: Date;
    expiresAt: Date | null;
    lastUsedAt: Date | null;
    revokedAt: Date | null;
  }): ApiKey {
    return Object.assign(new ApiKey(), { ...row, keyId: row.id, id: toGlobalId('ApiKey', row.id) });
  }
}
