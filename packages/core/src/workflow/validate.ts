import { compileExpression, type ExpressionLimits } from '../expression/expression.js';
import { rootReferences } from '../expression/references.js';
import { isDuration, parseDuration } from './duration.js';
import { graphProblems } from './graph-checks.js';
import {
  issuesToProblems,
  type PathSegment,
  type Problem,
  problem,
  sortProblems,
} from './problems.js';
import { DEFAULT_RETRY } from './retry.js';
import { type WorkflowDefinition, WorkflowDefinitionSchema } from './schema.js';
import { collectScopes, isRecord, stepExpressions, TRANSITION_TYPES } from './scopes.js';

export type ValidationResult =
  | { ok: true; definition: WorkflowDefinition; problems: [] }
  | { ok: false; problems: Problem[] };

export interface ValidateOptions {
  /** Limits for compiling expressions (only the source length applies here). */
  expressionLimits?: ExpressionLimits;
}

/**
 * Checks a parsed definition and reports every problem at once, in a stable order: the shape
 * (from the zod schema) and what a schema cannot say (references, cycles, reachability,
 * expressions, fields that exclude each other). On success the definition has defaults applied.
 */
export function validateWorkflowDefinition(
  raw: unknown,
  options: ValidateOptions = {},
): ValidationResult {
  if (!isRecord(raw)) {
    return {
      ok: false,
      problems: [
        problem(
          [],
          'INVALID_TYPE',
          'A workflow definition must be an object with at least `start` and `steps`',
        ),
      ],
    };
  }
  const parsed = WorkflowDefinitionSchema.safeParse(raw);
  const problems = parsed.success ? [] : issuesToProblems(parsed.error.issues, raw);
  const scopes = collectScopes(raw);
  problems.push(...graphProblems(scopes));
  const allIds = new Set(scopes.flatMap((scope) => Object.keys(scope.steps)));
  const check = (segments: PathSegment[], source: string, roots: readonly string[]) =>
    problems.push(...expressionProblems(segments, source, roots, allIds, options.expressionLimits));

  for (const scope of scopes) {
    for (const [id, step] of Object.entries(scope.steps)) {
      if (!isRecord(step)) continue;
      const at = [...scope.segments, 'steps', id];
      problems.push(...stepFieldProblems(at, step, raw));
      for (const [field, source] of stepExpressions(step)) {
        // A map's `items` is evaluated before fanning out, so it sees the enclosing scope only.
        check([...at, ...field], source, scope.roots);
      }
    }
  }
  if (typeof raw.output === 'string') check(['output'], raw.output, ['input', 'steps', 'run']);
  if (isRecord(raw.concurrency)) {
    const { key, maxRunsPerKey } = raw.concurrency;
    if (typeof key === 'string') check(['concurrency', 'key'], key, ['input', 'run']);
    if (key !== undefined && maxRunsPerKey === undefined) {
      problems.push(
        problem(
          ['concurrency', 'maxRunsPerKey'],
          'REQUIRED',
          'concurrency.key groups runs but nothing limits each group: add concurrency.maxRunsPerKey',
        ),
      );
    }
    if (key === undefined && maxRunsPerKey !== undefined) {
      problems.push(
        problem(
          ['concurrency', 'key'],
          'REQUIRED',
          'concurrency.maxRunsPerKey needs concurrency.key, the expression that groups runs (e.g. input.customerId)',
        ),
      );
    }
  }
  if (isRecord(raw.defaults) && isRecord(raw.defaults.retry)) {
    problems.push(...retryProblems(['defaults', 'retry'], raw.defaults.retry, undefined));
  }

  if (problems.length > 0 || !parsed.success) {
    return { ok: false, problems: sortProblems(problems) };
  }
  return { ok: true, definition: parsed.data, problems: [] };
}

function expressionProblems(
  segments: PathSegment[],
  source: string,
  roots: readonly string[],
  allIds: Set<string>,
  limits: ExpressionLimits | undefined,
): Problem[] {
  const where = segments.join('.');
  const compiled = compileExpression(source, limits);
  if (!compiled.ok) {
    return [problem(segments, 'BAD_EXPRESSION', `${where}: ${compiled.error.message}`)];
  }
  const problems: Problem[] = [];
  for (const ref of rootReferences(compiled.expression.ast)) {
    if (!roots.includes(ref.root)) {
      problems.push(
        problem(
          segments,
          'UNKNOWN_REFERENCE',
          `${where} reads "${ref.root}", which is not in scope here: start paths with ${roots.join(', ')} (e.g. input.${ref.root})`,
        ),
      );
    } else if (ref.root === 'steps' && ref.key !== undefined && !allIds.has(ref.key)) {
      problems.push(
        problem(
          segments,
          'UNKNOWN_STEP',
          `${where} reads steps.${ref.key}, but no step has id "${ref.key}": fix the id or add the step`,
        ),
      );
    }
  }
  return problems;
}

function stepFieldProblems(
  at: PathSegment[],
  step: Record<string, unknown>,
  raw: Record<string, unknown>,
): Problem[] {
  const problems: Problem[] = [];
  const where = at.join('.');
  if (typeof step.type === 'string' && TRANSITION_TYPES.has(step.type)) {
    const ends = step.end === true;
    if (step.next === undefined && !ends) {
      problems.push(
        problem(
          [...at, 'next'],
          'MISSING_TRANSITION',
          `${where} needs a way on: add \`next: <step id>\`, or \`end: true\` to finish its scope`,
        ),
      );
    }
    if (step.next !== undefined && ends) {
      problems.push(
        problem(
          [...at, 'end'],
          'CONFLICTING_FIELDS',
          `${where} has both next and end: true: keep one`,
        ),
      );
    }
  }
  if (step.type === 'wait') {
    if (step.duration !== undefined && step.until !== undefined) {
      problems.push(
        problem(
          [...at, 'until'],
          'CONFLICTING_FIELDS',
          `${where} has both duration and until: keep one`,
        ),
      );
    }
    if (step.duration === undefined && step.until === undefined) {
      problems.push(
        problem(
          [...at, 'duration'],
          'REQUIRED',
          `${where} needs \`duration\` (e.g. 10m) or \`until\` (an expression giving a timestamp)`,
        ),
      );
    }
  }
  if (step.type === 'approval' && isRecord(step.approvers)) {
    if (step.approvers.role === undefined && step.approvers.members === undefined) {
      problems.push(
        problem(
          [...at, 'approvers'],
          'REQUIRED',
          `${where}.approvers needs a role or a list of members who may approve`,
        ),
      );
    }
  }
  if (isRecord(step.retry)) {
    const defaults =
      isRecord(raw.defaults) && isRecord(raw.defaults.retry) ? raw.defaults.retry : undefined;
    problems.push(...retryProblems([...at, 'retry'], step.retry, defaults));
  }
  return problems;
}

function retryProblems(
  at: PathSegment[],
  retry: Record<string, unknown>,
  defaults: Record<string, unknown> | undefined,
): Problem[] {
  const problems: Problem[] = [];
  const where = at.join('.');
  if (Array.isArray(retry.retryable) && Array.isArray(retry.fatal)) {
    const both = retry.fatal.filter((code) => (retry.retryable as unknown[]).includes(code));
    if (both.length > 0) {
      problems.push(
        problem(
          [...at, 'fatal'],
          'CONFLICTING_FIELDS',
          `${where} lists ${both.join(', ')} as both retryable and fatal: keep each code in one list`,
        ),
      );
    }
  }
  const own = isRecord(retry.backoff) ? retry.backoff : {};
  const inherited = defaults && isRecord(defaults.backoff) ? defaults.backoff : {};
  const initial = own.initial ?? inherited.initial ?? DEFAULT_RETRY.initial;
  const max = own.max ?? inherited.max ?? DEFAULT_RETRY.max;
  if (
    (own.initial !== undefined || own.max !== undefined) &&
    typeof initial === 'string' &&
    typeof max === 'string' &&
    isDuration(initial) &&
    isDuration(max) &&
    parseDuration(initial) > parseDuration(max)
  ) {
    problems.push(
      problem(
        [...at, 'backoff', own.initial !== undefined ? 'initial' : 'max'],
        'INVALID_BACKOFF',
        `${where}.backoff starts at ${initial} but is capped at ${max}: make initial no larger than max`,
      ),
    );
  }
  return problems;
}
