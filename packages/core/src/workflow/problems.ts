import type { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';
import { ERROR_CODE_PATTERN, STEP_ID_PATTERN, STEP_TYPES } from './schema.js';

/** Stable codes of definition problems; the portal and tests match on these, never on messages. */
export type ProblemCode =
  /** The source text is not valid YAML / JSON. */
  | 'PARSE_ERROR'
  /** The source text is larger than allowed. */
  | 'SOURCE_TOO_LARGE'
  /** A required field is missing. */
  | 'REQUIRED'
  /** A field has the wrong JSON type. */
  | 'INVALID_TYPE'
  /** A field has a value outside its allowed set (enum, literal, step type). */
  | 'INVALID_VALUE'
  /** A number or list is too small or too large. */
  | 'OUT_OF_RANGE'
  /** A field the DSL does not know (usually a typo). */
  | 'UNKNOWN_FIELD'
  /** A string of the wrong form. */
  | 'INVALID_FORMAT'
  | 'INVALID_DURATION'
  | 'INVALID_STEP_ID'
  | 'INVALID_ERROR_CODE'
  /** A transition or expression names a step that does not exist in its scope. */
  | 'UNKNOWN_STEP'
  /** The same step id is used twice (ids are unique across the whole definition). */
  | 'DUPLICATE_STEP_ID'
  /** `next` edges form a loop. */
  | 'CYCLE'
  /** No path from the scope's start reaches the step. */
  | 'UNREACHABLE_STEP'
  /** An expression does not parse. */
  | 'BAD_EXPRESSION'
  /** An expression reads a name that is not in its scope (`input`, `steps`, `run`, ...). */
  | 'UNKNOWN_REFERENCE'
  /** A step has neither `next` nor `end: true`. */
  | 'MISSING_TRANSITION'
  /** Two fields that exclude each other are both set. */
  | 'CONFLICTING_FIELDS'
  /** A retry policy whose backoff cannot work (initial above max). */
  | 'INVALID_BACKOFF';

export type PathSegment = string | number;

export interface Problem {
  /** Dotted path of the offending field, e.g. `steps.classify.next`; `` for the whole document. */
  path: string;
  segments: PathSegment[];
  code: ProblemCode;
  /** What is wrong and how to fix it. */
  message: string;
  /** 1-based position in the source text, when the definition came from text. */
  line?: number;
  column?: number;
}

export function problem(segments: PathSegment[], code: ProblemCode, message: string): Problem {
  return { path: segments.join('.'), segments, code, message };
}

/** Stable order (by path, then code, then message) without duplicates. */
export function sortProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.path}\u0000${p.code}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) =>
      comparePaths(a.segments, b.segments) ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}

function comparePaths(a: PathSegment[], b: PathSegment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as PathSegment;
    const y = b[i] as PathSegment;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

function valueAt(root: unknown, segments: PathSegment[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function expectedName(expected: string): string {
  if (expected === 'int') return 'a whole number';
  if (expected === 'object' || expected === 'array') return `an ${expected}`;
  return `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function formatProblem(
  segments: PathSegment[],
  pattern: string | undefined,
  received: unknown,
): Problem {
  const where = segments.join('.');
  if (pattern === String(DURATION_PATTERN)) {
    return problem(
      segments,
      'INVALID_DURATION',
      `${where} must be a duration like 250ms, 30s, 5m, 1h30m or 7d (got ${describe(received)})`,
    );
  }
  if (pattern === String(STEP_ID_PATTERN)) {
    return problem(
      segments,
      'INVALID_STEP_ID',
      `${where} must be a step id: a letter, then letters, digits or _ (64 at most); got ${describe(received)}`,
    );
  }
  if (pattern === String(ERROR_CODE_PATTERN)) {
    return problem(
      segments,
      'INVALID_ERROR_CODE',
      `${where} must be an UPPER_SNAKE_CASE error code such as TIMEOUT (got ${describe(received)})`,
    );
  }
  return problem(segments, 'INVALID_FORMAT', `${where} has the wrong form: ${describe(received)}`);
}

/** Turns zod issues into problems with messages that say how to fix them. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], raw: unknown): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const segments = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
    const where = segments.join('.') || 'the definition';
    const received = valueAt(raw, segments);
    switch (issue.code) {
      case 'invalid_type':
        out.push(
          received === undefined
            ? problem(segments, 'REQUIRED', `${where} is required: add it (${issue.expected})`)
            : problem(
                segments,
                'INVALID_TYPE',
                `${where} must be ${expectedName(issue.expected)}, not ${describe(received)}`,
              ),
        );
        break;
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push(
            problem(
              [...segments, key],
              'UNKNOWN_FIELD',
              `${[...segments, key].join('.')} is not a field here: remove it or fix its spelling`,
            ),
          );
        }
        break;
      case 'invalid_union':
        if ((issue as { discriminator?: string }).discriminator === 'type') {
          out.push(
            received === undefined
              ? problem(
                  segments,
                  'REQUIRED',
                  `${where} is required: set the step type to one of ${STEP_TYPES.join(', ')}`,
                )
              : problem(
                  segments,
                  'INVALID_VALUE',
                  `${where} must be one of ${STEP_TYPES.join(', ')} (got ${describe(received)})`,
                ),
          );
        } else {
          out.push(problem(segments, 'INVALID_VALUE', `${where}: ${issue.message}`));
        }
        break;
      case 'invalid_value':
        out.push(
          problem(
            segments,
            'INVALID_VALUE',
            `${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${describe(received)})`,
          ),
        );
        break;
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const what =
          issue.origin === 'array'
            ? 'items'
            : issue.origin === 'string'
              ? 'characters'
              : issue.origin === 'set'
                ? 'entries'
                : '';
        const relation = issue.code === 'too_small' ? 'at least' : 'at most';
        out.push(
          problem(
            segments,
            'OUT_OF_RANGE',
            `${where} must be ${relation} ${String(bound)}${what ? ` ${what}` : ''}`,
          ),
        );
        break;
      }
      case 'invalid_format':
        out.push(formatProblem(segments, (issue as { pattern?: string }).pattern, received));
        break;
      case 'invalid_key': {
        const inner = issue.issues[0] as { pattern?: string } | undefined;
        const key = segments[segments.length - 1];
        out.push(formatProblem(segments, inner?.pattern, key));
        break;
      }
      case 'not_multiple_of':
        out.push(problem(segments, 'INVALID_TYPE', `${where} must be a whole number`));
        break;
      default:
        out.push(problem(segments, 'INVALID_VALUE', `${where}: ${issue.message}`));
    }
  }
  return out;
}
