import { nextSteps, type StepOutcome } from './planner.js';
import type { WorkflowDefinition } from './schema.js';

/**
 * Where a run that stopped part-way stands: walks its top-level path from the start through the
 * steps that finished (`outcomes`, by step id) and returns the first top-level step on it that has
 * not, the step that was waiting or still running when the run stopped (a connector call has no
 * record until it returns). Undefined when the path reaches the run's end or a failure of the run.
 * The definition is acyclic (validation refuses cycles), so the walk ends.
 */
export function resumePoint(
  definition: WorkflowDefinition,
  outcomes: ReadonlyMap<string, StepOutcome>,
): string | undefined {
  let stepId = definition.start;
  for (;;) {
    const outcome = outcomes.get(stepId);
    if (!outcome) return stepId;
    const next = nextSteps(definition, stepId, outcome);
    if (next.kind !== 'step') return undefined;
    stepId = next.stepId;
  }
}
