import { Field, ID, InterfaceType, ObjectType } from 'type-graphql';

@InterfaceType({ description: 'An object with a global id (Relay).' })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: 'Where a page ends and whether another follows (Relay).' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}
