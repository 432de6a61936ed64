import { Field, ID, ObjectType } from 'type-graphql';
import type { EmailTriggerRow } from '../../services/email-trigger-service.js';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

@ObjectType({
  implements: Node,
  description:
    'An inbound e-mail address: each message sent to it starts a run of the workflow with { from, to, subject, text, messageId, receivedAt } as input.',
})
export class EmailTrigger {
  triggerId!: string;
  createdBy!: string | null;

  @Field(() => ID) id!: string;
  @Field(() => ID) workflowId!: string;
  @Field(() => String, { description: 'Send mail here, e.g. 3f9c…@inbound.example.com.' })
  address!: string;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Date) createdAt!: Date;

  static from(row: EmailTriggerRow, domain: string): EmailTrigger {
    return Object.assign(new EmailTrigger(), {
      triggerId: row.id,
      createdBy: row.createdBy,
      id: toGlobalId('EmailTrigger', row.id),
      workflowId: toGlobalId('Workflow', row.workflowId),
      address: `${row.localPart}@${domain}`,
      enabled: row.enabled,
      createdAt: row.createdAt,
    });
  }
}
