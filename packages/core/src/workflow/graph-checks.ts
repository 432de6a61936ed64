import { type PathSegment, type Problem, problem } from './problems.js';
import { isRecord, type Scope, stepEdges } from './scopes.js';

/**
 * Graph problems of every scope: duplicate ids, transitions to unknown steps, unreachable steps
 * and cycles. Workflows are acyclic by design: repetition is a step's `retry` policy (bounded by
 * maxAttempts) or a `map` over a list (bounded by maxItems), so every run terminates.
 */
export function graphProblems(scopes: Scope[]): Problem[] {
  const problems: Problem[] = [];
  const allIds = new Map<string, PathSegment[]>();
  for (const scope of scopes) {
    for (const id of Object.keys(scope.steps)) {
      const segments = [...scope.segments, 'steps', id];
      const first = allIds.get(id);
      if (first) {
        problems.push(
          problem(
            segments,
            'DUPLICATE_STEP_ID',
            `Step id "${id}" is already used at ${first.join('.')}: ids are unique across the whole definition (so steps.${id} is unambiguous); rename one`,
          ),
        );
      } else {
        allIds.set(id, segments);
      }
    }
  }
  for (const scope of scopes) problems.push(...scopeProblems(scope, allIds));
  return problems;
}

function unknownStep(
  segments: PathSegment[],
  target: string,
  scope: Scope,
  allIds: Map<string, PathSegment[]>,
): Problem {
  const elsewhere = allIds.get(target);
  const here = Object.keys(scope.steps);
  const where = scopeName(scope);
  return problem(
    segments,
    'UNKNOWN_STEP',
    elsewhere
      ? `"${target}" is defined at ${elsewhere.join('.')}, outside ${where}: a transition can only name a step of its own scope`
      : `No step "${target}" in ${where}: use one of ${here.length > 0 ? here.join(', ') : '(no steps yet)'} or add the step`,
  );
}

function scopeName(scope: Scope): string {
  if (scope.kind === 'branch') return `branch "${scope.branch}" of parallel step "${scope.owner}"`;
  if (scope.kind === 'iteration') return `the iterator of map step "${scope.owner}"`;
  return 'the workflow steps';
}

function scopeProblems(scope: Scope, allIds: Map<string, PathSegment[]>): Problem[] {
  const problems: Problem[] = [];
  const ids = new Set(Object.keys(scope.steps));
  const edges = new Map<string, Array<{ target: string; segments: PathSegment[] }>>();
  for (const [id, step] of Object.entries(scope.steps)) {
    const stepSegments = [...scope.segments, 'steps', id];
    const valid: Array<{ target: string; segments: PathSegment[] }> = [];
    for (const edge of stepEdges(step)) {
      const segments = [...stepSegments, ...edge.field];
      if (ids.has(edge.target)) valid.push({ target: edge.target, segments });
      else problems.push(unknownStep(segments, edge.target, scope, allIds));
    }
    edges.set(id, valid);
  }

  const startSegments = [...scope.segments, 'start'];
  if (typeof scope.start === 'string' && !ids.has(scope.start)) {
    problems.push(unknownStep(startSegments, scope.start, scope, allIds));
  }
  if (typeof scope.start === 'string' && ids.has(scope.start)) {
    const reached = new Set<string>([scope.start]);
    const queue = [scope.start];
    while (queue.length > 0) {
      for (const edge of edges.get(queue.shift() as string) ?? []) {
        if (!reached.has(edge.target)) {
          reached.add(edge.target);
          queue.push(edge.target);
        }
      }
    }
    for (const id of ids) {
      if (!reached.has(id)) {
        problems.push(
          problem(
            [...scope.segments, 'steps', id],
            'UNREACHABLE_STEP',
            `Step "${id}" is never reached from start "${scope.start}": point a next, branch or catch at it, or remove it`,
          ),
        );
      }
    }
  }

  problems.push(...cycleProblems(scope, edges));
  return problems;
}

/** One CYCLE problem per edge that closes a loop (a DFS back edge), at that edge's path. */
function cycleProblems(
  scope: Scope,
  edges: Map<string, Array<{ target: string; segments: PathSegment[] }>>,
): Problem[] {
  const problems: Problem[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const order = typeof scope.start === 'string' && edges.has(scope.start) ? [scope.start] : [];
  order.push(...edges.keys());

  const visit = (id: string) => {
    state.set(id, 'active');
    stack.push(id);
    for (const edge of edges.get(id) ?? []) {
      const seen = state.get(edge.target);
      if (seen === 'active') {
        const loop = [...stack.slice(stack.indexOf(edge.target)), edge.target];
        problems.push(
          problem(
            edge.segments,
            'CYCLE',
            `Transitions loop: ${loop.join(' -> ')}. Workflows must not loop through next; to repeat work use the step's retry policy, or a map step over a list`,
          ),
        );
      } else if (seen === undefined) {
        visit(edge.target);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of order) if (!state.has(id) && isRecord(scope.steps[id])) visit(id);
  return problems;
}
