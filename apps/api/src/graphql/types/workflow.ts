import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

export enum WorkflowStatus {
  ACTIVE = 'active',
  ARCHIVED = 'archived',
}
registerEnumType(WorkflowStatus, { name: 'WorkflowStatus' });

export interface WorkflowRow {
  id: string;
  name: string;
  description: string;
  status: 'active' | 'archived';
  latestVersion: number;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

@ObjectType({
  implements: Node,
  description: 'A named digital-worker job; its definitions are immutable versions.',
})
export class Workflow extends Node {
  workflowId!: string;
  createdBy!: string | null;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => WorkflowStatus)
  status!: WorkflowStatus;

  @Field(() => Int, { description: 'Number of the newest version; 0 before the first.' })
  latestVersion!: number;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  static from(row: WorkflowRow): Workflow {
    return Object.assign(new Workflow(), {
      ...row,
      workflowId: row.id,
      id: toGlobalId('Workflow', row.id),
      status: row.status === 'archived' ? WorkflowStatus.ARCHIVED : WorkflowStatus.ACTIVE,
    });
  }
}

@ObjectType({ implements: Node, description: 'One immutable definition of a workflow.' })
export class WorkflowVersion extends Node {
  @Field(() => Int)
  version!: number;

  @Field(() => GraphQLJSONObject)
  definition!: Record<string, unknown>;

  @Field(() => Date)
  createdAt!: Date;

  static from(row: {
    workflowId: string;
    version: number;
    definition: unknown;
    createdAt: Date;
  }): WorkflowVersion {
    return Object.assign(new WorkflowVersion(), {
      id: toGlobalId('WorkflowVersion', `${row.workflowId}:${row.version}`),
      version: row.version,
      definition: row.definition as Record<string, unknown>,
      createdAt: row.createdAt,
    });
  }
}
