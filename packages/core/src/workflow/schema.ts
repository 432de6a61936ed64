import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';

/**
 * The workflow DSL as one zod schema. It is the source of the TypeScript types, of the JSON
 * Schema the portal editor uses, and of the shape checks in `validateWorkflowDefinition`
 * (which adds the checks a schema cannot express: references, cycles, reachability,
 * expressions).
 */

/** Step ids are identifiers so that `steps.<id>` works in expressions without backticks. */
export const STEP_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Error codes are UPPER_SNAKE_CASE, like the engine's own (`TIMEOUT`) and the API's. */
export const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

export const STEP_TYPES = [
  'connector',
  'decision',
  'review',
  'approval',
  'condition',
  'transform',
  'parallel',
  'map',
  'wait',
  'callWorkflow',
  'succeed',
  'fail',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

const StepId = z
  .string()
  .regex(STEP_ID_PATTERN)
  .meta({ description: 'A step id: a letter, then letters, digits or _ (64 at most).' });
const Duration = z
  .string()
  .regex(DURATION_PATTERN)
  .meta({ description: 'A duration such as 250ms, 30s, 5m, 1h30m or 7d.', examples: ['30s'] });
const Expression = z.string().min(1).meta({
  description:
    'A JSONata expression over { input, steps, run } (and item, index inside a map iterator).',
});
const ErrorCode = z.string().regex(ERROR_CODE_PATTERN);

export const BackoffSchema = z.strictObject({
  /** Delay cap before the second attempt. */
  initial: Duration.optional(),
  /** Largest delay between attempts. */
  max: Duration.optional(),
  multiplier: z.number().min(1).max(10).optional(),
  /** `full`: a uniform random delay between 0 and the exponential cap (AWS "full jitter"). */
  jitter: z.enum(['full', 'none']).optional(),
});

export const RetryPolicySchema = z.strictObject({
  /** Attempts in all, the first included. */
  maxAttempts: z.int().min(1).max(100).optional(),
  backoff: BackoffSchema.optional(),
  /** When given, only these error codes are retried. */
  retryable: z.array(ErrorCode).optional(),
  /** These error codes are never retried (they win over `retryable`). */
  fatal: z.array(ErrorCode).optional(),
});

export const CatchClauseSchema = z.strictObject({
  /** Error codes this clause handles; `*` handles any. */
  errors: z.array(z.union([ErrorCode, z.literal('*')])).min(1),
  next: StepId,
});

const transition = {
  next: StepId.optional(),
  /** `true` ends the enclosing scope (the run, a parallel branch or a map iteration). */
  end: z.boolean().optional(),
};
const labels = { name: z.string().max(200).optional(), description: z.string().optional() };
/** Fields of steps that do work that can take time and fail. */
const task = {
  timeout: Duration.optional(),
  retry: RetryPolicySchema.optional(),
  catch: z.array(CatchClauseSchema).optional(),
};

export const ConnectorStepSchema = z.strictObject({
  type: z.literal('connector'),
  ...labels,
  /** The installed plugin, e.g. `slack`. */
  connector: z.string().min(1),
  /** The plugin action, e.g. `postMessage`. */
  action: z.string().min(1),
  /** The tenant connection (credentials) to use; default: the plugin's only connection. */
  connection: z.string().min(1).optional(),
  /** Expression producing the action input. */
  input: Expression.optional(),
  ...task,
  ...transition,
});

export const DecisionStepSchema = z.strictObject({
  type: z.literal('decision'),
  ...labels,
  /** The model name; its live deployment serves the request. */
  model: z.string().min(1),
  /** Pin a model version instead of the live deployment. */
  version: z.int().min(1).optional(),
  input: Expression,
  ...task,
  ...transition,
});

export const ReviewStepSchema = z.strictObject({
  type: z.literal('review'),
  ...labels,
  title: z.string().min(1),
  instructions: z.string().optional(),
  /** Expression producing what the reviewer sees. */
  data: Expression.optional(),
  /** Labels the reviewer may choose from. */
  labels: z.array(z.string().min(1)).min(1).optional(),
  /** Role allowed to handle the task; default: any member with review rights. */
  role: z.string().min(1).optional(),
  ...task,
  ...transition,
});

export const ApprovalStepSchema = z.strictObject({
  type: z.literal('approval'),
  ...labels,
  title: z.string().min(1),
  data: Expression.optional(),
  /** At least one of role / members. */
  approvers: z.strictObject({
    role: z.string().min(1).optional(),
    members: z.array(z.string().min(1)).min(1).optional(),
  }),
  minApprovals: z.int().min(1).max(20).default(1),
  /** Where a rejection goes; without it a rejection fails the scope with APPROVAL_REJECTED. */
  rejected: StepId.optional(),
  ...task,
  ...transition,
});

export const ConditionStepSchema = z.strictObject({
  type: z.literal('condition'),
  ...labels,
  /** Tried in order; the first whose `when` is truthy wins. */
  branches: z.array(z.strictObject({ when: Expression, next: StepId })).min(1),
  /** Taken when no branch matches. */
  default: StepId,
});

export const TransformStepSchema = z.strictObject({
  type: z.literal('transform'),
  ...labels,
  /** Expression whose value is the step output. */
  value: Expression,
  ...task,
  ...transition,
});

export const WaitStepSchema = z.strictObject({
  type: z.literal('wait'),
  ...labels,
  /** Wait this long (exactly one of duration / until). */
  duration: Duration.optional(),
  /** Expression giving an ISO 8601 timestamp or epoch milliseconds to wait until. */
  until: Expression.optional(),
  ...transition,
});

export const CallWorkflowStepSchema = z.strictObject({
  type: z.literal('callWorkflow'),
  ...labels,
  /** The called workflow's name in the same tenant. */
  workflow: z.string().min(1),
  /** Pin a version; default: the latest published version when the step starts. */
  version: z.int().min(1).optional(),
  input: Expression.optional(),
  ...task,
  ...transition,
});

export const SucceedStepSchema = z.strictObject({
  type: z.literal('succeed'),
  ...labels,
  /** Expression giving the scope's output; default: the previous step's output. */
  output: Expression.optional(),
});

export const FailStepSchema = z.strictObject({
  type: z.literal('fail'),
  ...labels,
  error: ErrorCode,
  message: z.string().optional(),
});

// The two steps that hold sub-graphs make the schema recursive; the getters defer the reference.
export const ParallelStepSchema = z.strictObject({
  type: z.literal('parallel'),
  ...labels,
  /** Named branches; each is its own scope whose step `next`s stay inside it. */
  get branches() {
    return z.record(StepId, SubGraphSchema);
  },
  /** `all`: proceed when every branch succeeded (fail fast). `any`: proceed on the first. */
  join: z.enum(['all', 'any']).default('all'),
  ...task,
  ...transition,
});

export const MapStepSchema = z.strictObject({
  type: z.literal('map'),
  ...labels,
  /** Expression giving the array to fan out over. */
  items: Expression,
  /** Iterations running at once. */
  concurrency: z.int().min(1).max(1000).default(10),
  /** Runs with more items fail with MAP_TOO_MANY_ITEMS instead of fanning out. */
  maxItems: z.int().min(1).max(100_000).default(1000),
  /** Iterations allowed to fail before the map step fails. */
  toleratedFailures: z.int().min(0).default(0),
  /** The sub-graph run once per item; its expressions also see `item` and `index`. */
  get iterator() {
    return SubGraphSchema;
  },
  ...task,
  ...transition,
});

export const StepSchema = z.discriminatedUnion('type', [
  ConnectorStepSchema,
  DecisionStepSchema,
  ReviewStepSchema,
  ApprovalStepSchema,
  ConditionStepSchema,
  TransformStepSchema,
  ParallelStepSchema,
  MapStepSchema,
  WaitStepSchema,
  CallWorkflowStepSchema,
  SucceedStepSchema,
  FailStepSchema,
]);

export const SubGraphSchema: z.ZodType<SubGraph, SubGraphInput> = z.strictObject({
  start: StepId,
  steps: z.record(StepId, StepSchema),
});

export const WorkflowDefinitionSchema = z
  .strictObject({
    /** The DSL version this definition is written in. */
    dsl: z.literal(1).default(1),
    name: z.string().min(1).max(200).optional(),
    description: z.string().optional(),
    start: StepId,
    /** The run deadline; default 7d. */
    deadline: Duration.optional(),
    concurrency: z
      .strictObject({
        /** Runs of this workflow in flight at once, per tenant. */
        maxRuns: z.int().min(1).optional(),
        /** Expression over { input } grouping runs; needs maxRunsPerKey. */
        key: Expression.optional(),
        maxRunsPerKey: z.int().min(1).optional(),
      })
      .optional(),
    /** Defaults for every step's timeout and retry. */
    defaults: z
      .strictObject({ timeout: Duration.optional(), retry: RetryPolicySchema.optional() })
      .optional(),
    steps: z.record(StepId, StepSchema),
    /** Expression giving the run output; default: the last step's output. */
    output: Expression.optional(),
  })
  .meta({ title: 'Roster workflow definition' });

export type Step = z.output<typeof StepSchema>;
export type StepInput = z.input<typeof StepSchema>;
export interface SubGraph {
  start: string;
  steps: Record<string, Step>;
}
export interface SubGraphInput {
  start: string;
  steps: Record<string, StepInput>;
}
export type WorkflowDefinition = z.output<typeof WorkflowDefinitionSchema>;
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinitionSchema>;
export type RetryPolicy = z.output<typeof RetryPolicySchema>;
export type BackoffPolicy = z.output<typeof BackoffSchema>;
export type CatchClause = z.output<typeof CatchClauseSchema>;
export type ConnectorStep = z.output<typeof ConnectorStepSchema>;
export type DecisionStep = z.output<typeof DecisionStepSchema>;
export type ReviewStep = z.output<typeof ReviewStepSchema>;
export type ApprovalStep = z.output<typeof ApprovalStepSchema>;
export type ConditionStep = z.output<typeof ConditionStepSchema>;
export type TransformStep = z.output<typeof TransformStepSchema>;
export type ParallelStep = z.output<typeof ParallelStepSchema>;
export type MapStep = z.output<typeof MapStepSchema>;
export type WaitStep = z.output<typeof WaitStepSchema>;
export type CallWorkflowStep = z.output<typeof CallWorkflowStepSchema>;
export type SucceedStep = z.output<typeof SucceedStepSchema>;
export type FailStep = z.output<typeof FailStepSchema>;

/** A JSON Schema (draft 2020-12) of the DSL, for the portal editor. */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowDefinitionSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
}
