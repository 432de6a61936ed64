import type { StepFailure } from './errors.js';
import { commitFlowPlan } from './flow-commit.js';
import { type Finish, planFail, planSucceed, type StepBase, type StepPlan } from './step-plans.js';
import {
  parseTransitionResult,
  runnableJobs,
  type TransitionResult,
  type TransitionSpec,
  transitionRaw,
} from './transition.js';

export type { StepBase } from './step-plans.js';

/** Runs a transition, then wakes the worker (or has the transition notify when there is none). */
export async function applyTransition(
  base: StepBase,
  spec: TransitionSpec,
): Promise<TransitionResult> {
  if (!base.wake) spec.notify = true;
  const raw = await (base.apply ? base.apply(spec) : transitionRaw(base.pool, spec));
  const parsed = parseTransitionResult(raw);
  const { result } = parsed;
  const inline = handedOver(spec, parsed);
  if (inline) base.inline = inline;
  if (base.wake && (result === 'applied' || result === 'deadline')) {
    const jobs = result === 'deadline' ? 1 : runnableJobs(spec);
    if (jobs > 0) base.wake(jobs);
  }
  return result;
}

/** The next step a committed transition handed to this worker: its locked job and the run. */
export function handedOver(
  spec: TransitionSpec,
  parsed: ReturnType<typeof parseTransitionResult>,
): StepBase['inline'] | undefined {
  if (parsed.inlineJobId === undefined || !spec.inlineJob) return undefined;
  return {
    jobId: parsed.inlineJobId,
    job: spec.inlineJob.payload as StepBase['job'],
    ...(parsed.inlineContext ? { context: parsed.inlineContext } : {}),
  };
}

type Extra = Pick<TransitionSpec, 'expectWaiting' | 'closeReview'>;

/** The step succeeded: record it and enqueue the next step, end its scope, or end the run. */
export async function succeedStep(
  base: StepBase,
  output: unknown,
  extra: Finish = {},
): Promise<TransitionResult> {
  return commit(base, await planSucceed(base, output, extra));
}

/**
 * An attempt failed: retry after a backoff while the policy allows, else follow a matching
 * `catch`, else fail its branch or iteration, else dead-letter the run (retries exhausted) or
 * fail it (a fatal error).
 */
export async function failStep(
  base: StepBase,
  failure: StepFailure,
  extra: Extra = {},
): Promise<TransitionResult> {
  return commit(base, planFail(base, failure, extra));
}

/** Plain steps take the one-statement (batched) path; fan-in and flow steps a transaction. */
function commit(base: StepBase, plan: StepPlan): Promise<TransitionResult> {
  if (!plan.scopeEnd && !plan.flow) return applyTransition(base, plan.spec);
  return commitFlowPlan(base, plan);
}
