import { CoreError } from '../errors.js';
import { compileExpression, type ExpressionLimits } from '../expression/expression.js';
import type { MapStep, ParallelStep, Step, SubGraph, WorkflowDefinition } from './schema.js';

/**
 * Pure planning over a validated definition: where a run starts, where it goes after a step,
 * and what a parallel or map step fans out to. The engine persists state and calls these.
 */

/** The scope a step lives in. */
export type StepScope =
  | { kind: 'root' }
  | { kind: 'branch'; parallel: string; branch: string }
  | { kind: 'iteration'; map: string };

export interface LocatedStep {
  id: string;
  step: Step;
  scope: StepScope;
}

const indexes = new WeakMap<WorkflowDefinition, Map<string, LocatedStep>>();

function indexOf(definition: WorkflowDefinition): Map<string, LocatedStep> {
  let index = indexes.get(definition);
  if (index) return index;
  const built = new Map<string, LocatedStep>();
  const walk = (graph: SubGraph, scope: StepScope) => {
    for (const [id, step] of Object.entries(graph.steps)) {
      built.set(id, { id, step, scope });
      if (step.type === 'parallel') {
        for (const [branch, sub] of Object.entries(step.branches)) {
          walk(sub, { kind: 'branch', parallel: id, branch });
        }
      }
      if (step.type === 'map') walk(step.iterator, { kind: 'iteration', map: id });
    }
  };
  walk(definition, { kind: 'root' });
  index = built;
  indexes.set(definition, index);
  return index;
}

/** The step with this id anywhere in the definition; throws CoreError UNKNOWN_STEP. */
export function getStep(definition: WorkflowDefinition, stepId: string): LocatedStep {
  const found = indexOf(definition).get(stepId);
  if (!found) {
    throw new CoreError(
      'UNKNOWN_STEP',
      `The definition has no step "${stepId}": pass the id of a step of this workflow version`,
      { stepId },
    );
  }
  return found;
}

export function startStep(definition: WorkflowDefinition): string {
  return definition.start;
}

export type StepOutcome =
  /** `branch` is required for a condition: the index of the matched branch, or 'default'. */
  | { status: 'succeeded'; branch?: number | 'default' }
  /** An approval was rejected. */
  | { status: 'rejected' }
  /** Retries are over (see decideRetry) and the step failed with this code. */
  | { status: 'failed'; errorCode: string };

export type Transition =
  | { kind: 'step'; stepId: string; via: 'next' | 'branch' | 'default' | 'rejected' | 'catch' }
  /** The step's scope finished: the run, a parallel branch or a map iteration. */
  | { kind: 'end'; scope: StepScope }
  /** The step's scope failed with this code (a run failure, or a branch/iteration failure). */
  | { kind: 'fail'; scope: StepScope; errorCode: string };

export const APPROVAL_REJECTED = 'APPROVAL_REJECTED';

/** Where the run goes after `stepId` finished with `outcome`. */
export function nextSteps(
  definition: WorkflowDefinition,
  stepId: string,
  outcome: StepOutcome,
): Transition {
  const { step, scope } = getStep(definition, stepId);
  if (step.type === 'fail') return { kind: 'fail', scope, errorCode: step.error };
  if (outcome.status === 'failed') {
    const clauses = 'catch' in step ? (step.catch ?? []) : [];
    const clause = clauses.find(
      (c) => c.errors.includes('*') || c.errors.includes(outcome.errorCode),
    );
    return clause
      ? { kind: 'step', stepId: clause.next, via: 'catch' }
      : { kind: 'fail', scope, errorCode: outcome.errorCode };
  }
  if (outcome.status === 'rejected') {
    if (step.type !== 'approval') {
      throw new CoreError(
        'INVALID_OUTCOME',
        `Step "${stepId}" is a ${step.type} step; only approval steps can be rejected`,
        { stepId, type: step.type },
      );
    }
    return step.rejected
      ? { kind: 'step', stepId: step.rejected, via: 'rejected' }
      : { kind: 'fail', scope, errorCode: APPROVAL_REJECTED };
  }
  if (step.type === 'succeed') return { kind: 'end', scope };
  if (step.type === 'condition') {
    const { branch } = outcome;
    if (branch === 'default') return { kind: 'step', stepId: step.default, via: 'default' };
    const chosen = typeof branch === 'number' ? step.branches[branch] : undefined;
    if (!chosen) {
      throw new CoreError(
        'INVALID_OUTCOME',
        `Condition "${stepId}" needs outcome.branch: 'default' or an index below ${step.branches.length} (use selectBranch)`,
        { stepId, branch },
      );
    }
    return { kind: 'step', stepId: chosen.next, via: 'branch' };
  }
  return step.next === undefined
    ? { kind: 'end', scope }
    : { kind: 'step', stepId: step.next, via: 'next' };
}

/** JSONata's `$boolean` rules, so `when` behaves as it would inside an expression. */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isTruthy);
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return value === true;
}

export type BranchSelection =
  | { ok: true; branch: number | 'default'; next: string }
  | { ok: false; branch: number; error: CoreError };

/** Evaluates a condition's `when`s in order; the first truthy one wins, else `default`. */
export async function selectBranch(
  definition: WorkflowDefinition,
  conditionId: string,
  scope: unknown,
  limits?: ExpressionLimits,
): Promise<BranchSelection> {
  const { step } = getStep(definition, conditionId);
  if (step.type !== 'condition') {
    throw new CoreError(
      'INVALID_OUTCOME',
      `Step "${conditionId}" is a ${step.type} step, not a condition`,
      {
        stepId: conditionId,
      },
    );
  }
  for (const [index, branch] of step.branches.entries()) {
    const compiled = compileExpression(branch.when, limits);
    const result = compiled.ok ? await compiled.expression.evaluate(scope) : compiled;
    if (!result.ok) return { ok: false, branch: index, error: result.error };
    if (isTruthy(result.value)) return { ok: true, branch: index, next: branch.next };
  }
  return { ok: true, branch: 'default', next: step.default };
}

export interface ParallelPlan {
  stepId: string;
  join: ParallelStep['join'];
  /** Branches in definition order with the step each starts at. */
  branches: Array<{ name: string; start: string }>;
}

export function planParallel(definition: WorkflowDefinition, stepId: string): ParallelPlan {
  const step = stepOfType(definition, stepId, 'parallel');
  return {
    stepId,
    join: step.join,
    branches: Object.entries(step.branches).map(([name, graph]) => ({ name, start: graph.start })),
  };
}

export interface MapPlan {
  stepId: string;
  /** The iterator's first step, started once per item. */
  start: string;
  concurrency: number;
  toleratedFailures: number;
  /** Items in order; iteration `index` sees `{ ..., item, index }`. */
  items: unknown[];
}

export type MapPlanResult =
  | { ok: true; plan: MapPlan }
  | { ok: false; errorCode: 'MAP_ITEMS_NOT_ARRAY' | 'MAP_TOO_MANY_ITEMS'; message: string };

/**
 * Describes the fan-out of a map step over `items` (the value of its `items` expression).
 * A single non-array value is not wrapped: JSONata returns a lone match unwrapped, so the
 * expression should end in `[]` (e.g. `input.lines[]`) to always give a list.
 */
export function planMap(
  definition: WorkflowDefinition,
  stepId: string,
  items: unknown,
): MapPlanResult {
  const step: MapStep = stepOfType(definition, stepId, 'map');
  const list = items === undefined ? [] : items;
  if (!Array.isArray(list)) {
    return {
      ok: false,
      errorCode: 'MAP_ITEMS_NOT_ARRAY',
      message: `Map "${stepId}": items gave ${typeof list}, not a list: end the path with [] (e.g. input.lines[])`,
    };
  }
  if (list.length > step.maxItems) {
    return {
      ok: false,
      errorCode: 'MAP_TOO_MANY_ITEMS',
      message: `Map "${stepId}" got ${list.length} items; maxItems is ${step.maxItems}: raise maxItems or split the input`,
    };
  }
  return {
    ok: true,
    plan: {
      stepId,
      start: step.iterator.start,
      concurrency: step.concurrency,
      toleratedFailures: step.toleratedFailures,
      items: list,
    },
  };
}

/**
 * Every step inside a parallel step's branches or a map step's iterator, nested ones included:
 * what a re-run of the fan-out starts afresh. Empty for other step types.
 */
export function nestedStepIds(definition: WorkflowDefinition, stepId: string): string[] {
  const { step } = getStep(definition, stepId);
  const graphs =
    step.type === 'parallel'
      ? Object.values(step.branches)
      : step.type === 'map'
        ? [step.iterator]
        : [];
  return graphs.flatMap((graph) =>
    Object.keys(graph.steps).flatMap((id) => [id, ...nestedStepIds(definition, id)]),
  );
}

function stepOfType<T extends Step['type']>(
  definition: WorkflowDefinition,
  stepId: string,
  type: T,
): Extract<Step, { type: T }> {
  const { step } = getStep(definition, stepId);
  if (step.type !== type) {
    throw new CoreError('INVALID_OUTCOME', `Step "${stepId}" is a ${step.type} step, not ${type}`, {
      stepId,
      type: step.type,
    });
  }
  return step as Extract<Step, { type: T }>;
}
