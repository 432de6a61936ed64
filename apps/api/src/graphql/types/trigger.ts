import type {
  CallbackDeliveryView,
  ScheduleView,
  WebhookTriggerView,
  WorkflowCallbackView,
} from '@roster/engine';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

@ObjectType({
  implements: Node,
  description:
    'A signed inbound webhook that starts runs: POST /hooks/<tenant>/<trigger> (Standard Webhooks).',
})
export class WebhookTrigger {
  triggerId!: string;
  createdBy!: string | null;

  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => ID) workflowId!: string;
  @Field(() => String, { description: 'Path to POST signed messages to, on the API host.' })
  path!: string;
  @Field(() => Date) createdAt!: Date;

  static from(row: WebhookTriggerView, tenantId: string): WebhookTrigger {
    return Object.assign(new WebhookTrigger(), {
      triggerId: row.id,
      createdBy: row.createdBy,
      id: toGlobalId('WebhookTrigger', row.id),
      name: row.name,
      workflowId: toGlobalId('Workflow', row.workflowId),
      path: `/hooks/${tenantId}/${row.id}`,
      createdAt: row.createdAt,
    });
  }
}

@ObjectType({
  implements: Node,
  description: 'A cron schedule that starts runs of a workflow, once per occurrence.',
})
export class Schedule {
  scheduleId!: string;
  createdBy!: string | null;

  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => ID) workflowId!: string;
  @Field(() => String, { description: 'Five cron fields (minute hour day month weekday).' })
  cron!: string;
  @Field(() => String, { description: 'IANA time zone the cron expression is read in.' })
  timezone!: string;
  @Field(() => GraphQLJSONObject) input!: Record<string, unknown>;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Date, { nullable: true }) nextFireAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastFiredAt!: Date | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;

  static from(row: ScheduleView): Schedule {
    return Object.assign(new Schedule(), {
      ...row,
      scheduleId: row.id,
      id: toGlobalId('Schedule', row.id),
      workflowId: toGlobalId('Workflow', row.workflowId),
    });
  }
}

@ObjectType({ description: "Where a workflow's runs report when they end (signed webhooks)." })
export class WorkflowCallback {
  @Field(() => ID) workflowId!: string;
  @Field(() => String) url!: string;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;

  static from(row: WorkflowCallbackView): WorkflowCallback {
    return Object.assign(new WorkflowCallback(), {
      ...row,
      workflowId: toGlobalId('Workflow', row.workflowId),
    });
  }
}

@ObjectType({ description: 'One POST of a callback delivery.' })
export class CallbackAttempt {
  @Field(() => Int) attempt!: number;
  @Field(() => Date) startedAt!: Date;
  @Field(() => Int) durationMs!: number;
  @Field(() => Int, {
    nullable: true,
    description: 'Null when no answer came (refused, timed out).',
  })
  statusCode!: number | null;
  @Field(() => String, { nullable: true }) error!: string | null;
}

@ObjectType({ description: 'One event sent to a callback URL, with every attempt.' })
export class CallbackDelivery {
  @Field(() => ID, { description: 'Also the `webhook-id` header of every attempt.' })
  id!: string;
  @Field(() => String, {
    description: 'run.succeeded, run.failed, run.cancelled, run.dead_lettered',
  })
  eventType!: string;
  @Field(() => String) url!: string;
  @Field(() => String, { description: 'pending, delivered or failed' }) status!: string;
  @Field(() => [CallbackAttempt]) attempts!: CallbackAttempt[];
  @Field(() => Date, { nullable: true }) nextAttemptAt!: Date | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) deliveredAt!: Date | null;

  static from(row: CallbackDeliveryView): CallbackDelivery {
    return Object.assign(new CallbackDelivery(), {
      ...row,
      attempts: row.attempts.map((a) => Object.assign(new CallbackAttempt(), a)),
    });
  }
}
