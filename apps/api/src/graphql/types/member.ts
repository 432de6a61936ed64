import { Field, ObjectType } from 'type-graphql';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

@ObjectType({ implements: Node, description: "A person's membership in this tenant." })
export class Member extends Node {
  /** The user id (the member's key inside the tenant); not exposed, used for cursors. */
  userId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Null when your role may not read e-mail addresses.',
  })
  email!: string | null;

  @Field(() => String)
  displayName!: string;

  @Field(() => String)
  role!: string;

  @Field(() => Date)
  joinedAt!: Date;

  createdAt!: Date;

  static from(row: {
    userId: string;
    email: string | null;
    name: string;
    role: string;
    createdAt: Date;
  }): Member {
    return Object.assign(new Member(), {
      id: toGlobalId('Member', row.userId),
      userId: row.userId,
      email: row.email,
      displayName: row.name,
      role: row.role,
      joinedAt: row.createdAt,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType({ description: 'An invitation to join this tenant.' })
export class Invitation extends Node {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  role!: string;

  @Field(() => Date)
  expiresAt!: Date;

  static from(row: { id: string; email: string; role: string; expiresAt: Date }): Invitation {
    return Object.assign(new Invitation(), { ...row, id: toGlobalId('Invitation', row.id) });
  }
}
