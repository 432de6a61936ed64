import { type ClassType, Field, ObjectType } from 'type-graphql';
import { PageInfo } from './common.js';

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** A Relay connection type for `node` (edges with cursors, nodes, pageInfo). */
export function Connection<T extends object>(
  name: string,
  node: ClassType<T>,
  cursorOf: (node: T) => string,
) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => [node])
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    static from(page: Page<T>): ConnectionType {
      const c = new ConnectionType();
      c.nodes = page.nodes;
      c.edges = page.nodes.map((n) => Object.assign(new Edge(), { node: n, cursor: cursorOf(n) }));
      c.pageInfo = { hasNextPage: page.hasNextPage, endCursor: page.endCursor };
      return c;
    }
  }
  return ConnectionType;
}
