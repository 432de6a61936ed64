import type { QueueReason } from '@roster/engine';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

@ObjectType({ description: 'Why something failed: a stable code and a message.' })
export class RunError {
  @Field(() => String) code!: string;
  @Field(() => String) message!: string;
}

@ObjectType({ description: 'One failed attempt of a step.' })
export class StepAttempt {
  @Field(() => Int) attempt!: number;
  @Field(() => String) code!: string;
  @Field(() => String) message!: string;
  @Field(() => Date) at!: Date;
}

@ObjectType({
  description:
    'One entry of the run timeline: a step instance with its attempts, or (kind) a branch of a parallel step or an iteration of a map step.',
})
export class StepRun {
  @Field(() => String, {
    description:
      'The entry key: a step id; `<step>@<item indexes>` for an instance inside map iterations; `<parallel>#<branch>` for a branch; `<map>#<index>` for an iteration.',
  })
  stepId!: string;
  @Field(() => String, { description: 'step, branch or iteration.' }) kind!: string;
  @Field(() => String, {
    description:
      "The step's id in the definition (`post` for `post@3`; the parallel or map step of a branch or iteration).",
  })
  definitionStepId!: string;
  @Field(() => String, {
    nullable: true,
    description:
      "stepId of the entry this one is grouped under: a step in a branch or iteration under that branch's or iteration's entry, a branch or iteration under its parallel or map step; null at the top level.",
  })
  parentId!: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'The branch name: of a branch, or of the innermost branch a step runs in.',
  })
  branch!: string | null;
  @Field(() => Int, {
    nullable: true,
    description: 'The item index: of an iteration, or of the innermost iteration a step runs in.',
  })
  iteration!: number | null;
  @Field(() => String, {
    description:
      'running (a call in flight for more than a second, or a branch or iteration still going), waiting, retrying, pending (an iteration not started yet), succeeded, failed or cancelled.',
  })
  status!: string;
  @Field(() => Int, { description: 'Attempts made so far.' }) attempt!: number;
  @Field(() => [StepAttempt]) attempts!: StepAttempt[];
  @Field(() => GraphQLJSON, { nullable: true }) output!: unknown;
  @Field(() => RunError, { nullable: true }) error!: RunError | null;
  @Field(() => Date, { nullable: true, description: 'When a waiting step wakes up.' })
  wakeAt!: Date | null;
  @Field(() => Date) startedAt!: Date;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => Int, { nullable: true, description: 'Milliseconds from start to finish.' })
  durationMs!: number | null;
}

const INITIATOR_TYPES: Record<string, string> = {
  member: 'Member',
  apiKey: 'ApiKey',
  schedule: 'Schedule',
  webhook: 'WebhookTrigger',
  emailTrigger: 'EmailTrigger',
  run: 'Run',
};

@ObjectType({ description: 'Who or what started a run.' })
export class RunInitiator {
  @Field(() => String, {
    description: 'member, apiKey, schedule, webhook, emailTrigger, run (callWorkflow) or system.',
  })
  kind!: string;
  @Field(() => ID, {
    nullable: true,
    description:
      'Global id of the Member, ApiKey, Schedule, WebhookTrigger, EmailTrigger or parent Run; null for the system.',
  })
  id!: string | null;
  /** The accountable member's user id (an API key's creator); resolves `member`. */
  memberId!: string | null;

  static from(row: { kind: string; id: string | null; memberId: string | null }): RunInitiator {
    const type = INITIATOR_TYPES[row.kind];
    return Object.assign(new RunInitiator(), {
      kind: row.kind,
      id: type && row.id ? toGlobalId(type, row.id) : null,
      memberId: row.memberId,
    });
  }
}

/** What a queued run waits for (see the integrator guide's "Concurrency per key"). */
export enum RunQueueReason {
  TENANT = 'tenant',
  WORKFLOW = 'workflow',
  KEY = 'key',
}
registerEnumType(RunQueueReason, {
  name: 'RunQueueReason',
  description: 'What a queued run waits for.',
  valuesConfig: {
    TENANT: { description: "A slot of the tenant's limit of running runs, in queue order." },
    WORKFLOW: { description: 'A slot of its workflow, which is at concurrency.maxRuns.' },
    KEY: { description: 'A slot of its concurrency key, which is at concurrency.maxRunsPerKey.' },
  },
});

export interface RunRow {
  id: string;
  workflowId: string;
  version: number;
  status: string;
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  failedStep: string | null;
  idempotencyKey: string | null;
  queuedFor: QueueReason | null;
  concurrencyKey: unknown;
  deadlineAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  startedBy?: { kind: string; id: string | null; memberId: string | null };
  steps?: Array<{
    stepId: string;
    kind: string;
    definitionStepId: string;
    parentId: string | null;
    branch: string | null;
    iteration: number | null;
    status: string;
    attempt: number;
    attempts: Array<{ attempt: number; code: string; message: string; at: string }>;
    output: unknown;
    error: { code: string; message: string } | null;
    wakeAt: Date | null;
    startedAt: Date;
    finishedAt: Date | null;
  }>;
}

@ObjectType({ implements: Node, description: 'One execution of a workflow version.' })
export class Run extends Node {
  runId!: string;

  @Field(() => String, { description: 'Global id of the workflow.' }) workflowId!: string;
  @Field(() => Int) version!: number;
  @Field(() => String, {
    description: 'queued, running, waiting, succeeded, failed, dead_lettered, cancelled, ...',
  })
  status!: string;
  @Field(() => GraphQLJSON) input!: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) output!: unknown;
  @Field(() => RunError, { nullable: true }) error!: RunError | null;
  @Field(() => String, { nullable: true }) failedStep!: string | null;
  @Field(() => String, { nullable: true }) idempotencyKey!: string | null;
  @Field(() => RunQueueReason, {
    nullable: true,
    description: 'While the run is queued, what it waits for; null once it has started.',
  })
  queuedFor!: RunQueueReason | null;
  @Field(() => GraphQLJSON, {
    nullable: true,
    description: "The value of the run's concurrency key, when its workflow has concurrency.key.",
  })
  concurrencyKey!: unknown;
  @Field(() => Date) deadlineAt!: Date;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => RunInitiator) startedBy!: RunInitiator;
  @Field(() => [StepRun], {
    description: 'The step timeline, in the order steps started (empty in lists).',
  })
  steps!: StepRun[];

  static from(row: RunRow): Run {
    return Object.assign(new Run(), {
      ...row,
      runId: row.id,
      id: toGlobalId('Run', row.id),
      workflowId: toGlobalId('Workflow', row.workflowId),
      startedBy: RunInitiator.from(row.startedBy ?? { kind: 'system', id: null, memberId: null }),
      steps: (row.steps ?? []).map((s) =>
        Object.assign(new StepRun(), {
          ...s,
          attempts: s.attempts.map((a) =>
            Object.assign(new StepAttempt(), { ...a, at: new Date(a.at) }),
          ),
          durationMs: s.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null,
        }),
      ),
    });
  }
}

@ObjectType({ description: 'A run that exhausted a step: replay the step or retry the run.' })
export class DeadLetter {
  @Field(() => Run) run!: Run;
  @Field(() => String, { nullable: true }) failedStep!: string | null;
  @Field(() => RunError, { nullable: true }) error!: RunError | null;
  @Field(() => Date) deadLetteredAt!: Date;
}
