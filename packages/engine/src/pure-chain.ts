import { getStep, nextSteps, selectBranch, type WorkflowDefinition } from '@roster/core';
import { StepFailure } from './errors.js';
import { evaluate } from './expressions.js';
import { flowScope } from './flow-context.js';
import { loadRunContext, type RunContext } from './run-context.js';
import type { StepJob } from './step-job.js';
import { type Finish, planSucceed, type StepBase } from './step-plans.js';
import { needsContext, needsSteps } from './step-reads.js';
import type { TransitionSpec } from './transition.js';

/** Step types that compute from the run and change nothing outside it. */
const PURE: ReadonlySet<string> = new Set(['transform', 'condition', 'succeed']);

/**
 * Whether a workflow's first step is pure: its runs, started together, then start in batches
 * (START_BATCH_TASK), each run's first steps planned in memory as a chain is.
 */
export function startsPure(definition: WorkflowDefinition): boolean {
  return PURE.has(getStep(definition, definition.start).step.type);
}

/**
 * Plans a run's consecutive pure steps from `first` (top-level transform, condition and succeed
 * steps) in memory, up to `max` of them: each sees the run as it will be once the ones before it
 * commit (their outputs), and each hands the next to this worker (`first.lockFor`). Their
 * transitions then commit together, in order (TransitionBatcher.applyChain): every step still
 * records its step run and audit event, and its successor's job, in that one transaction.
 *
 * Returns no transition when `first` is not such a step. A chain stops before a step that is not
 * pure, whose expression fails (it then runs alone and records the failure), that ends the run
 * with a workflow `output` (read from Postgres), or in a run that is no longer running.
 */
export async function planPureChain(first: StepBase, max: number): Promise<TransitionSpec[]> {
  const specs: TransitionSpec[] = [];
  const outputs: Record<string, { output: unknown }> = {};
  // The run as the transition that handed `first` over left it, if it did.
  let context: RunContext | undefined = first.context;
  let base = first;
  // What each later step of the chain shares with the first: not its job id, nor the context
  // handed over with it.
  const { jobId: _jobId, context: _context, ...rest } = first;
  while (specs.length < max) {
    const { job, stepId, definition } = base;
    if (job.k !== undefined || (job.i?.length ?? 0) > 0) break;
    const { step, scope: stepScope } = getStep(definition, stepId);
    if (stepScope.kind !== 'root' || !PURE.has(step.type)) break;
    if (needsContext(step) && (!context || (context.steps === null && needsSteps(step)))) {
      context = await loadRunContext(base.pool, job.t, job.r, true);
      if (!context) break;
    }
    if (context && (context.status !== 'running' || context.generation > job.g)) break;
    const scope = flowScope(
      job.r,
      context ? { ...context, steps: { ...context.steps, ...outputs } } : undefined,
      [],
    );
    const computed = await compute(base, scope);
    if (!computed) break;
    const branch = computed.finish.branch;
    const outcome =
      branch === undefined
        ? { status: 'succeeded' as const }
        : { status: 'succeeded' as const, branch };
    if (definition.output && nextSteps(definition, stepId, outcome).kind === 'end') break;
    const plan = await planSucceed(base, computed.output, computed.finish);
    if (plan.flow || plan.scopeEnd) break;
    if (specs.length > 0) plan.spec.after = true;
    specs.push(plan.spec);
    outputs[stepId] = { output: computed.output ?? null };
    const next = plan.spec.inlineJob?.payload as StepJob | undefined;
    if (!next) break;
    base = { ...rest, job: next, stepId: next.s ?? definition.start };
  }
  return specs;
}

/**
 * What a pure step (transform, condition, succeed) computes: its output and how it finishes (a
 * condition's branch). A failing expression throws a fatal StepFailure. The step runner uses it
 * for a pure step run alone, the chain for each step it plans.
 */
export async function computePure(
  base: StepBase,
  scope: Record<string, unknown>,
): Promise<{ output: unknown; finish: Finish }> {
  const { stepId, definition } = base;
  const { step } = getStep(definition, stepId);
  switch (step.type) {
    case 'transform':
      return { output: await evaluate(step.value, scope), finish: {} };
    case 'succeed':
      return { output: step.output ? await evaluate(step.output, scope) : null, finish: {} };
    case 'condition': {
      const selected = await selectBranch(definition, stepId, scope);
      if (!selected.ok) {
        throw new StepFailure(selected.error.code, selected.error.message, { fatal: true });
      }
      return { output: { branch: selected.branch }, finish: { branch: selected.branch } };
    }
    default:
      throw new StepFailure('STEP_TYPE_UNSUPPORTED', `Step "${stepId}" is not a pure step.`, {
        fatal: true,
      });
  }
}

/** A pure step's output, or nothing when it cannot be computed in memory (it then runs alone). */
async function compute(
  base: StepBase,
  scope: Record<string, unknown>,
): Promise<{ output: unknown; finish: Finish } | undefined> {
  try {
    return await computePure(base, scope);
  } catch {
    return undefined;
  }
}
