import type { PathSegment } from './problems.js';

/**
 * A definition has nested scopes: the top level, each parallel branch and each map iterator.
 * A step's `next` may only name a step of its own scope. These walkers read untrusted input
 * defensively so that validation can report graph problems even when the shape is also wrong.
 */
export interface Scope {
  kind: 'root' | 'branch' | 'iteration';
  /** Path of the object holding `start` and `steps`. */
  segments: PathSegment[];
  /** The parallel or map step that owns the scope. */
  owner?: string;
  /** The branch name of a parallel branch. */
  branch?: string;
  start: unknown;
  steps: Record<string, unknown>;
  /** Names expressions in this scope may read at their root. */
  roots: readonly string[];
}

export interface Edge {
  target: string;
  /** Path of the field holding the edge, relative to the step. */
  field: PathSegment[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const BASE_ROOTS = ['input', 'steps', 'run'] as const;
const ITERATION_ROOTS = [...BASE_ROOTS, 'item', 'index'] as const;

export function collectScopes(definition: unknown): Scope[] {
  const scopes: Scope[] = [];
  if (!isRecord(definition)) return scopes;
  const walk = (scope: Scope) => {
    scopes.push(scope);
    for (const [id, step] of Object.entries(scope.steps)) {
      if (!isRecord(step)) continue;
      const stepSegments = [...scope.segments, 'steps', id];
      if (step.type === 'parallel' && isRecord(step.branches)) {
        for (const [branch, graph] of Object.entries(step.branches)) {
          if (!isRecord(graph)) continue;
          walk({
            kind: 'branch',
            segments: [...stepSegments, 'branches', branch],
            owner: id,
            branch,
            start: graph.start,
            steps: isRecord(graph.steps) ? graph.steps : {},
            roots: scope.roots,
          });
        }
      }
      if (step.type === 'map' && isRecord(step.iterator)) {
        walk({
          kind: 'iteration',
          segments: [...stepSegments, 'iterator'],
          owner: id,
          start: step.iterator.start,
          steps: isRecord(step.iterator.steps) ? step.iterator.steps : {},
          roots: ITERATION_ROOTS,
        });
      }
    }
  };
  walk({
    kind: 'root',
    segments: [],
    start: definition.start,
    steps: isRecord(definition.steps) ? definition.steps : {},
    roots: BASE_ROOTS,
  });
  return scopes;
}

/** Every transition out of a step, in document order: next, branches, default, rejected, catch. */
export function stepEdges(step: unknown): Edge[] {
  if (!isRecord(step)) return [];
  const edges: Edge[] = [];
  const add = (target: unknown, field: PathSegment[]) => {
    if (typeof target === 'string') edges.push({ target, field });
  };
  add(step.next, ['next']);
  if (step.type === 'condition') {
    if (Array.isArray(step.branches)) {
      step.branches.forEach((branch, i) => {
        if (isRecord(branch)) add(branch.next, ['branches', i, 'next']);
      });
    }
    add(step.default, ['default']);
  }
  if (step.type === 'approval') add(step.rejected, ['rejected']);
  if (Array.isArray(step.catch)) {
    step.catch.forEach((clause, i) => {
      if (isRecord(clause)) add(clause.next, ['catch', i, 'next']);
    });
  }
  return edges;
}

/** Expression fields of a step, as [path relative to the step, source]. */
export function stepExpressions(step: unknown): Array<[PathSegment[], string]> {
  if (!isRecord(step)) return [];
  const out: Array<[PathSegment[], string]> = [];
  const add = (source: unknown, field: PathSegment[]) => {
    if (typeof source === 'string' && source.length > 0) out.push([field, source]);
  };
  switch (step.type) {
    case 'connector':
    case 'decision':
    case 'callWorkflow':
      add(step.input, ['input']);
      break;
    case 'review':
    case 'approval':
      add(step.data, ['data']);
      break;
    case 'condition':
      if (Array.isArray(step.branches)) {
        step.branches.forEach((branch, i) => {
          if (isRecord(branch)) add(branch.when, ['branches', i, 'when']);
        });
      }
      break;
    case 'transform':
      add(step.value, ['value']);
      break;
    case 'map':
      add(step.items, ['items']);
      break;
    case 'wait':
      add(step.until, ['until']);
      break;
    case 'succeed':
      add(step.output, ['output']);
      break;
  }
  return out;
}

/** Types that continue with `next` or end their scope with `end: true`. */
export const TRANSITION_TYPES: ReadonlySet<string> = new Set([
  'connector',
  'decision',
  'review',
  'approval',
  'transform',
  'parallel',
  'map',
  'wait',
  'callWorkflow',
]);
