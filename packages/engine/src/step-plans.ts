import {
  decideRetry,
  getStep,
  nextSteps,
  type RandomSource,
  resolveStepPolicy,
  type WorkflowDefinition,
} from '@roster/core';
import type { Pool, PoolClient } from '@roster/db';
import type { EngineOptions } from './engine-options.js';
import type { StepFailure } from './errors.js';
import { evaluate } from './expressions.js';
import { flowScope } from './flow-context.js';
import { rowKey } from './flow-keys.js';
import { loadRunContext, type RunContext } from './run-context.js';
import type { StepJob } from './step-job.js';
import { needsContext, needsSteps } from './step-reads.js';
import { stepJob, type TransitionSpec } from './transition.js';

export interface StepBase {
  job: StepJob;
  stepId: string;
  definition: WorkflowDefinition;
  pool: Pool;
  random: RandomSource;
  /**
   * Wakes this process's worker queue for `jobs` newly runnable jobs after a transition commits.
   * Absent outside a worker: the transition then NOTIFYs instead.
   */
  wake?: (jobs: number) => void;
  /** graphile-worker id of the job running this step (completed by the transition). */
  jobId?: string;
  /** Applies a transition, raw result (a worker's TransitionBatcher). Default: its own statement. */
  apply?: (spec: TransitionSpec) => Promise<string>;
  /** Set by the step runner: hand the next step to this worker's pool (inserted locked by it). */
  lockFor?: string;
  /**
   * Set by applyTransition: the next step's job, locked for this worker, its payload, and the run
   * as the transition left it when the next step reads it.
   */
  inline?: { jobId: string; job: StepJob; context?: RunContext };
  /** The run as the transition that handed this step over left it (see TransitionSpec.inlineContext). */
  context?: RunContext;
  /** The worker's engine options, for the child runs a callWorkflow step starts. */
  engine?: Pick<EngineOptions, 'maxRunsPerTenant' | 'sealInput' | 'mayHoldPersonalData'>;
}

/** How a branch or map iteration ended, handed to its parallel or map step (fan-in). */
export type ScopeEnd =
  | { status: 'succeeded'; output: unknown }
  | { status: 'failed'; errorCode: string; message: string };

/**
 * A step's transition. `scopeEnd`: the step ended its branch or iteration, so the fan-in runs in
 * the same transaction. `flow`: a parallel, map or callWorkflow step, whose settling also stops
 * its branches, iterations or child run (see flow-commit.ts).
 */
export interface StepPlan {
  spec: TransitionSpec;
  scopeEnd?: ScopeEnd;
  flow?: boolean;
}

type Extra = Pick<TransitionSpec, 'expectWaiting' | 'closeReview'>;

const FLOW_TYPES: ReadonlySet<string> = new Set(['parallel', 'map', 'callWorkflow']);

/**
 * How a finished step ended: `branch` for a condition; `rejected` for an approval a person
 * rejected, which goes on at the step's `rejected` step (the approval recorded as succeeded with
 * the rejection as its output) or, without one, fails the step and its scope with
 * APPROVAL_REJECTED (core's nextSteps; a `catch` does not apply to a rejection).
 */
export type Finish = Extra & {
  branch?: number | 'default';
  rejected?: true;
  /** What the step called, for its audit event (a connector call: never the input itself). */
  call?: Record<string, string>;
};

/** The transition of a step that succeeded: its successor, the end of its scope, or the run's. */
export async function planSucceed(
  base: StepBase,
  output: unknown,
  extra: Finish = {},
  client?: PoolClient,
): Promise<StepPlan> {
  const { job, stepId, definition } = base;
  const { branch, rejected, call } = extra;
  const next = nextSteps(
    definition,
    stepId,
    rejected
      ? { status: 'rejected' }
      : branch === undefined
        ? { status: 'succeeded' }
        : { status: 'succeeded', branch },
  );
  // Built by assignment, not by spreading objects: a chain plans this for every step it runs.
  const spec = specBase(base);
  if (extra.expectWaiting !== undefined) spec.expectWaiting = extra.expectWaiting;
  if (extra.closeReview !== undefined) spec.closeReview = extra.closeReview;
  spec.stepStatus = 'succeeded';
  spec.output = output ?? null;
  spec.runStatus = 'running';
  const data: Record<string, unknown> = { step: spec.step, attempt: job.a };
  if (call) Object.assign(data, call);
  spec.audit = [{ kind: 'step.succeeded', data }];
  let failure =
    next.kind === 'fail' ? `Step "${stepId}" ended its scope with ${next.errorCode}.` : '';
  if (rejected && next.kind === 'fail') {
    failure = `Approval step "${stepId}" was rejected. To continue the run after a rejection, give the step \`rejected: <step id>\`.`;
    spec.stepStatus = 'failed';
    spec.error = { code: next.errorCode, message: failure };
    spec.audit = [
      {
        kind: 'step.failed',
        data: { step: instanceKey(base), attempt: job.a, code: next.errorCode },
      },
    ];
  }
  const plan: StepPlan = { spec };
  if (FLOW_TYPES.has(getStep(definition, stepId).step.type)) plan.flow = true;
  if (next.kind === 'step' && base.lockFor !== undefined && !plan.flow) {
    spec.inlineJob = stepJob(job, next.stepId, 1);
    spec.lockFor = base.lockFor;
    // A top-level next step that reads the run gets it back with its job (one round trip less).
    const following = getStep(definition, next.stepId);
    if (
      following.scope.kind === 'root' &&
      (job.i?.length ?? 0) === 0 &&
      needsContext(following.step)
    ) {
      spec.inlineContext = needsSteps(following.step) ? 'steps' : 'run';
    }
  } else if (next.kind === 'step') {
    spec.jobs = [stepJob(job, next.stepId, 1)];
  } else if (next.scope.kind !== 'root') {
    plan.scopeEnd =
      next.kind === 'end'
        ? { status: 'succeeded', output: output ?? null }
        : { status: 'failed', errorCode: next.errorCode, message: failure };
  } else if (next.kind === 'end') {
    spec.runStatus = 'succeeded';
    spec.runOutput = await runOutput(base, output, client);
    spec.audit?.push({ kind: 'run.succeeded' });
  } else {
    endRun(
      spec,
      'failed',
      next.errorCode,
      rejected ? failure : `Step "${stepId}" ended the run with ${next.errorCode}.`,
      stepId,
    );
  }
  return plan;
}

/**
 * The transition of a failed attempt: retry after a backoff while the policy allows, else follow
 * a matching `catch`, else fail the step's branch or iteration, else dead-letter the run
 * (retries exhausted) or fail it (a fatal error).
 */
export function planFail(base: StepBase, failure: StepFailure, extra: Extra = {}): StepPlan {
  const { job, stepId, definition, random } = base;
  const { retry } = resolveStepPolicy(definition, stepId);
  const decision = failure.options.fatal
    ? ({ retry: false, reason: 'FATAL' } as const)
    : decideRetry(retry, { attempt: job.a, errorCode: failure.code }, random);
  const error = { code: failure.code, message: failure.message };
  const spec: TransitionSpec = {
    ...specBase(base),
    ...extra,
    error,
    attemptError: { attempt: job.a, ...error, at: new Date().toISOString() },
  };
  const plan: StepPlan = { spec };
  if (FLOW_TYPES.has(getStep(definition, stepId).step.type)) plan.flow = true;
  const step = instanceKey(base);
  if (decision.retry) {
    spec.stepStatus = 'retrying';
    spec.runStatus = 'running';
    spec.jobs = [
      stepJob(job, stepId, decision.nextAttempt, {
        runAt: new Date(Date.now() + decision.delayMs),
      }),
    ];
    spec.audit = [
      {
        kind: 'step.retrying',
        data: { step, attempt: job.a, code: failure.code, delayMs: decision.delayMs },
      },
    ];
    return plan;
  }
  spec.stepStatus = 'failed';
  spec.audit = [{ kind: 'step.failed', data: { step, attempt: job.a, code: failure.code } }];
  const next = nextSteps(definition, stepId, { status: 'failed', errorCode: failure.code });
  if (next.kind === 'step') {
    spec.runStatus = 'running';
    spec.jobs = [stepJob(job, next.stepId, 1)];
  } else if (next.scope.kind !== 'root') {
    plan.scopeEnd = { status: 'failed', errorCode: failure.code, message: failure.message };
  } else if (decision.reason === 'ATTEMPTS_EXHAUSTED') {
    endRun(spec, 'dead_lettered', failure.code, failure.message, stepId);
  } else {
    endRun(spec, 'failed', failure.code, failure.message, stepId);
  }
  return plan;
}

/** The row key this step instance is recorded under. */
function instanceKey({ job, stepId }: StepBase): string {
  return rowKey(stepId, job.i);
}

export function specBase(base: StepBase): TransitionSpec {
  const { job, jobId } = base;
  const spec: TransitionSpec = {
    tenant: job.t,
    run: job.r,
    step: instanceKey(base),
    attempt: job.a,
    generation: job.g,
  };
  if (jobId !== undefined) spec.job = jobId;
  return spec;
}

function endRun(
  spec: TransitionSpec,
  status: 'failed' | 'dead_lettered',
  code: string,
  message: string,
  stepId: string,
): void {
  spec.runStatus = status;
  spec.runError = { code, message };
  spec.failedStep = stepId;
  spec.audit = [...(spec.audit ?? []), { kind: `run.${status}`, data: { step: stepId, code } }];
}

/** The run output: the definition's `output` expression, else the last step's output. */
async function runOutput(
  base: StepBase,
  lastOutput: unknown,
  client: PoolClient | undefined,
): Promise<unknown> {
  const { definition, job, stepId, pool } = base;
  if (!definition.output) return lastOutput ?? null;
  // Inside a fan-in transaction the client sees the outputs this transaction wrote.
  const context = await loadRunContext(client ?? pool, job.t, job.r, true);
  const scope = flowScope(job.r, context, []);
  scope.steps = { ...(scope.steps as object), [stepId]: { output: lastOutput } };
  return (await evaluate(definition.output, scope)) ?? null;
}
