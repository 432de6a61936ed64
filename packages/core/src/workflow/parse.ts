import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type Problem, problem, sortProblems } from './problems.js';
import {
  type ValidateOptions,
  type ValidationResult,
  validateWorkflowDefinition,
} from './validate.js';

export type DefinitionFormat = 'json' | 'yaml';

export interface ParseOptions extends ValidateOptions {
  /** Largest source text accepted, bytes. Default 1 MiB. */
  maxSourceBytes?: number;
}

export const DEFAULT_MAX_SOURCE_BYTES = 1024 * 1024;

/**
 * Parses a definition from JSON or YAML text (or takes an already parsed object) and validates
 * it. Problems found in text carry 1-based `line` and `column` for the editor. Without `format`,
 * text starting with `{` is JSON and anything else YAML.
 */
export function parseWorkflowDefinition(
  source: string | object,
  format?: DefinitionFormat,
  options: ParseOptions = {},
): ValidationResult {
  if (typeof source !== 'string') return validateWorkflowDefinition(source, options);
  const limit = options.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  const bytes = Buffer.byteLength(source);
  if (bytes > limit) {
    return {
      ok: false,
      problems: [
        problem(
          [],
          'SOURCE_TOO_LARGE',
          `The definition is ${bytes} bytes; the limit is ${limit}: split it with callWorkflow steps`,
        ),
      ],
    };
  }
  const chosen = format ?? (source.trimStart().startsWith('{') ? 'json' : 'yaml');
  const lines = new LineCounter();
  // JSON is YAML 1.2, so one parser gives positions for both formats; JSON.parse then enforces
  // strict JSON (no comments, no unquoted keys) for `json`.
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => {
        const pos = lines.linePos(error.pos[0]);
        const text = error.message.split('\n')[0] ?? error.message;
        return {
          ...problem(
            [],
            'PARSE_ERROR',
            `${chosen === 'json' ? 'JSON' : 'YAML'} does not parse: ${text}`,
          ),
          line: pos.line,
          column: pos.col,
        };
      }),
    };
  }
  let raw: unknown;
  if (chosen === 'json') {
    try {
      raw = JSON.parse(source);
    } catch (error) {
      return {
        ok: false,
        problems: [
          problem(
            [],
            'PARSE_ERROR',
            `JSON does not parse: ${(error as Error).message}; fix the syntax or pass format 'yaml'`,
          ),
        ],
      };
    }
  } else {
    try {
      // maxAliasCount stops alias bombs ("billion laughs").
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      return {
        ok: false,
        problems: [problem([], 'PARSE_ERROR', `YAML does not load: ${(error as Error).message}`)],
      };
    }
  }
  const result = validateWorkflowDefinition(raw, options);
  if (result.ok) return result;
  return {
    ok: false,
    problems: sortProblems(result.problems.map((p) => locate(p, doc.contents, lines))),
  };
}

/** Adds line/column of the deepest node that exists on the problem's path. */
function locate(p: Problem, root: Node | null, lines: LineCounter): Problem {
  let node: Node | null = root;
  let found = root;
  for (const segment of p.segments) {
    let child: unknown;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      // A missing field points at its parent; an unknown field points at its key.
      child = pair ? (pair.value ?? pair.key) : undefined;
      if (pair && segment === p.segments[p.segments.length - 1] && p.code === 'UNKNOWN_FIELD') {
        child = pair.key;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      child = node.items[segment];
    }
    if (!child || typeof child !== 'object' || !('range' in child)) break;
    node = child as Node;
    found = node;
  }
  const offset = found?.range?.[0];
  if (offset === undefined) return p;
  const pos = lines.linePos(offset);
  return { ...p, line: pos.line, column: pos.col };
}
