import {
  decideRetry,
  nextSteps,
  type RandomSource,
  resolveStepPolicy,
  type WorkflowDefinition,
} from '@roster/core';
import type { Pool } from '@roster/db';
import type { StepFailure } from './errors.js';
import { evaluate } from './expressions.js';
import { expressionScope, loadRunContext } from './run-context.js';
import type { StepJob } from './step-job.js';
import {
  parseTransitionResult,
  runnableJobs,
  stepJob,
  type TransitionResult,
  type TransitionSpec,
  transitionRaw,
} from './transition.js';

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
  /** Set by applyTransition: the next step's job, locked for this worker, and its payload. */
  inline?: { jobId: string; job: StepJob };
}

/** Runs a transition, then wakes the worker (or has the transition notify when there is none). */
export async function applyTransition(
  base: StepBase,
  spec: TransitionSpec,
): Promise<TransitionResult> {
  if (!base.wake) spec.notify = true;
  const raw = await (base.apply ? base.apply(spec) : transitionRaw(base.pool, spec));
  const { result, inlineJobId } = parseTransitionResult(raw);
  if (inlineJobId !== undefined && spec.inlineJob) {
    base.inline = { jobId: inlineJobId, job: spec.inlineJob.payload as StepJob };
  }
  if (base.wake && (result === 'applied' || result === 'deadline')) {
    const jobs = result === 'deadline' ? 1 : runnableJobs(spec);
    if (jobs > 0) base.wake(jobs);
  }
  return result;
}

type Extra = Pick<TransitionSpec, 'expectWaiting' | 'closeReview'>;

/** The step succeeded: record it and enqueue the next step, or end the run. */
export async function succeedStep(
  base: StepBase,
  output: unknown,
  extra: Extra & { branch?: number | 'default' } = {},
): Promise<TransitionResult> {
  const { job, stepId, definition } = base;
  const { branch, ...flags } = extra;
  const next = nextSteps(
    definition,
    stepId,
    branch === undefined ? { status: 'succeeded' } : { status: 'succeeded', branch },
  );
  const spec: TransitionSpec = {
    ...specBase(base),
    ...flags,
    stepStatus: 'succeeded',
    output: output ?? null,
    runStatus: 'running',
    audit: [{ kind: 'step.succeeded', data: { step: stepId, attempt: job.a } }],
  };
  if (next.kind === 'step' && base.lockFor !== undefined) {
    spec.inlineJob = stepJob(job, next.stepId, 1);
    spec.lockFor = base.lockFor;
  } else if (next.kind === 'step') {
    spec.jobs = [stepJob(job, next.stepId, 1)];
  } else if (next.kind === 'end') {
    spec.runStatus = 'succeeded';
    spec.runOutput = await runOutput(base, output);
    spec.audit?.push({ kind: 'run.succeeded', data: {} });
  } else {
    endRun(
      spec,
      'failed',
      next.errorCode,
      `Step "${stepId}" ended the run with ${next.errorCode}.`,
      stepId,
    );
  }
  return applyTransition(base, spec);
}

/**
 * An attempt failed: retry after a backoff while the policy allows, else follow a matching
 * `catch`, else dead-letter the run (retries exhausted) or fail it (a fatal error).
 */
export async function failStep(
  base: StepBase,
  failure: StepFailure,
  extra: Extra = {},
): Promise<TransitionResult> {
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
        data: { step: stepId, attempt: job.a, code: failure.code, delayMs: decision.delayMs },
      },
    ];
    return applyTransition(base, spec);
  }
  spec.stepStatus = 'failed';
  spec.audit = [
    { kind: 'step.failed', data: { step: stepId, attempt: job.a, code: failure.code } },
  ];
  const next = nextSteps(definition, stepId, { status: 'failed', errorCode: failure.code });
  if (next.kind === 'step') {
    spec.runStatus = 'running';
    spec.jobs = [stepJob(job, next.stepId, 1)];
  } else if (decision.reason === 'ATTEMPTS_EXHAUSTED') {
    endRun(spec, 'dead_lettered', failure.code, failure.message, stepId);
  } else {
    endRun(spec, 'failed', failure.code, failure.message, stepId);
  }
  return applyTransition(base, spec);
}

function specBase({ job, stepId, jobId }: StepBase): TransitionSpec {
  const spec: TransitionSpec = {
    tenant: job.t,
    run: job.r,
    step: stepId,
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
async function runOutput(base: StepBase, lastOutput: unknown): Promise<unknown> {
  const { definition, job, stepId, pool } = base;
  if (!definition.output) return lastOutput ?? null;
  const context = await loadRunContext(pool, job.t, job.r, true);
  const scope = expressionScope(job.r, context);
  scope.steps = { ...scope.steps, [stepId]: { output: lastOutput } };
  return (await evaluate(definition.output, scope)) ?? null;
}
